use super::{fastapi_app, HEALTH};
use crate::check::finding::rule;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a FastAPI app (at its `FastAPI(...)` call) none of whose routes answers a
    /// health path: a path, with its routers' prefixes, whose last segment is `health`,
    /// `healthz`, `healthcheck`, `health-check`, `health_check`, `ping`, `status`, `ready`,
    /// `readyz`, `livez` or `alive`. Only the modules the Space serves are read, and only when
    /// the README does not declare a non-Docker SDK; a route whose path or prefix is computed
    /// makes the rule say nothing.
    ///
    /// ## Why it breaks a Space
    /// A Space sleeps, restarts and rebuilds; its dependencies (a database, a vector store, a
    /// model API) come and go. A cheap route such as `/health` (or `/healthz`, `/api/health`)
    /// that answers 200 when the app and its dependencies work, and 503 otherwise, lets
    /// monitors, the frontend and humans tell the cases apart without calling a real
    /// endpoint.
    ///
    /// ## Example
    /// ```python
    /// app = FastAPI()
    ///
    /// @app.post("/predict")
    /// def predict(body: Input): ...
    /// ```
    ///
    /// ## Fix
    /// Add a health route that answers 200 when the app and its dependencies work (503
    /// otherwise):
    /// ```python
    /// @app.get("/health")
    /// def health():
    ///     return {"status": "ok"}
    /// ```
    ///
    /// ## References
    /// - FastAPI, first steps (path operations): <https://fastapi.tiangolo.com/tutorial/first-steps/>
    /// - Hugging Face, Docker Spaces: <https://huggingface.co/docs/hub/spaces-sdks-docker>
    pub(crate) static RULE = "SG215", "no-health-route", Warning;
    why: "the app has no health route: uptime monitors and the frontend cannot tell a sleeping or broken Space from a working one";
    fix: "add `@app.get(\"/health\")` returning 200 when the app and its dependencies work (503 otherwise)";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    let Some(app) = fastapi_app(facts) else {
        return;
    };
    let Some(routes) = app.routes() else {
        return;
    };
    let health = routes.iter().any(|(_, p)| {
        p.trim_end_matches('/')
            .rsplit('/')
            .next()
            .is_some_and(|last| HEALTH.contains(&last.to_ascii_lowercase().as_str()))
    });
    if !health {
        findings.push(
            Finding::new(
                &RULE,
                app.file,
                app.call.place.line,
                "no route answers /health (or /healthz, /api/health)",
            )
            .at_column(app.call.place.column),
        );
    }
}

use super::fastapi_app;
use crate::check::finding::rule;
use crate::check::python::{self, Call, Module};
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a FastAPI app (at its `FastAPI(...)` call) that nothing answers a browser's
    /// `GET /` with. Routes count with their routers' prefixes: `@router.get("/")` on
    /// `APIRouter(prefix="/api")` answers `/api/`, not `/`. A `POST /` alone answers the
    /// browser's GET with 405. A GET route for `/{path:path}` (a single-page app's fallback)
    /// answers `/`, and so do a `mount` at `/` (a `StaticFiles` mount only when the image holds
    /// its folder), `mount_gradio_app`, `FastAPI(docs_url="/")`, and a Dockerfile that runs
    /// another server in front (nginx, Caddy, supervisor, Traefik). Only the modules the Space
    /// serves are read, and only when the README does not declare a non-Docker SDK; a route
    /// whose path or prefix is computed makes the rule say nothing.
    ///
    /// ## Why it breaks a Space
    /// The Space's page on huggingface.co embeds the app's root URL. A FastAPI app without a
    /// `/` route answers `{"detail":"Not Found"}`, which looks like a broken Space.
    ///
    /// ## Example
    /// ```python
    /// app = FastAPI()
    /// router = APIRouter(prefix="/api")
    ///
    /// @router.get("/")
    /// def index(): ...
    ///
    /// app.include_router(router)
    /// ```
    ///
    /// ## Fix
    /// A root route that names the service and links to `/docs`, or a redirect to `/docs`:
    /// ```python
    /// from fastapi.responses import RedirectResponse
    ///
    /// @app.get("/")
    /// def root():
    ///     return RedirectResponse("/docs")
    /// ```
    ///
    /// ## References
    /// - Hugging Face, Docker Spaces: <https://huggingface.co/docs/hub/spaces-sdks-docker>
    /// - FastAPI, bigger applications (routers and their prefixes): <https://fastapi.tiangolo.com/tutorial/bigger-applications/>
    /// - FastAPI, static files: <https://fastapi.tiangolo.com/tutorial/static-files/>
    pub(crate) static RULE = "SG216", "no-root-route", Warning;
    why: "the Space page shows the app's `/`, and this app answers it with 404 {\"detail\":\"Not Found\"}";
    fix: "add `@app.get(\"/\")` saying what the service is and linking /docs (or redirect to /docs)";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    let Some(app) = fastapi_app(facts) else {
        return;
    };
    let Some(routes) = app.routes() else {
        return;
    };
    let modules = &app.served;
    let root_route = routes.iter().any(|(methods, p)| {
        let get = methods.iter().any(|m| m == "GET" || m == "*");
        get && (p.is_empty() || p == "/" || is_catch_all(p))
    });
    let root_mount = modules.iter().any(|(_, module)| {
        module.calls.iter().any(|c| {
            (c.method() == "mount"
                && c.arg(0, "path")
                    .and_then(|v| v.as_str())
                    .is_none_or(|p| p.is_empty() || p == "/")
                && !uncopied_static(facts, module, c))
                || c.method() == "mount_gradio_app"
                || (c.method() == "FastAPI"
                    && c.keyword("docs_url")
                        .is_some_and(|v| v.as_str().is_none_or(|p| p == "/")))
        })
    });
    let other_server = facts.project.dockerfiles().any(|(_, text)| {
        let lower = text.to_ascii_lowercase();
        ["nginx", "caddy", "supervisor", "traefik"]
            .iter()
            .any(|s| lower.contains(s))
    });
    if !root_route && !root_mount && !other_server {
        let mut other_methods: Vec<&str> = routes
            .iter()
            .filter(|(_, p)| p.is_empty() || p == "/")
            .flat_map(|(methods, _)| methods.iter().map(String::as_str))
            .collect();
        other_methods.sort_unstable();
        other_methods.dedup();
        let message = if other_methods.is_empty() {
            "no route answers `/`, the page the Space shows".to_owned()
        } else {
            format!(
                "only {} answers `/`: a browser's GET / gets 405 Method Not Allowed",
                other_methods.join(", ")
            )
        };
        findings.push(
            Finding::new(&RULE, app.file, app.call.place.line, message)
                .at_column(app.call.place.column),
        );
    }
}

/// `/{name:path}`: a route that answers every path, `/` included.
fn is_catch_all(path: &str) -> bool {
    path.strip_prefix("/{")
        .and_then(|rest| rest.strip_suffix(":path}"))
        .is_some_and(|name| !name.contains(['/', '{', '}']))
}

/// Whether `mount` serves `StaticFiles` of a folder the image never copies.
fn uncopied_static(facts: &Facts<'_>, module: &Module, mount: &Call) -> bool {
    let Some(app) = mount.arg(1, "app") else {
        return false;
    };
    let Some(statics) = module.calls.iter().find(|c| {
        c.place == app.place && c.method() == "StaticFiles" && c.name.ends_with("StaticFiles")
    }) else {
        return false;
    };
    let Some(directory) = statics.arg(0, "directory") else {
        return false;
    };
    let mut parts = Vec::new();
    literal_parts(module, directory, 0, &mut parts);
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    facts.served.lacks_folder(facts.project, &parts)
}

/// The literal pieces of a path expression, in order: a string, a name assigned once (the
/// strings on its line when it is an expression such as `BASE / "frontend" / "dist"`), and the
/// arguments of `str(...)`, `Path(...)` and `os.path.join(...)`.
fn literal_parts(module: &Module, value: &python::Value, depth: usize, parts: &mut Vec<String>) {
    if depth > 4 {
        return;
    }
    match &value.kind {
        python::Kind::Str(s) => parts.push(s.clone()),
        python::Kind::Name(_) => {
            let resolved = module.resolve(value);
            if resolved == value {
                return;
            }
            if let python::Kind::Other = resolved.kind {
                parts.extend(
                    module
                        .strings
                        .iter()
                        .filter(|s| s.place.line == resolved.place.line)
                        .filter_map(|s| s.as_str().map(str::to_owned)),
                );
            } else {
                literal_parts(module, resolved, depth + 1, parts);
            }
        }
        python::Kind::Call(name) => {
            if !matches!(
                name.rsplit('.').next(),
                Some("str" | "Path" | "join" | "resolve" | "absolute")
            ) {
                return;
            }
            let Some(call) = module
                .calls
                .iter()
                .find(|c| &c.name == name && c.place == value.place)
            else {
                return;
            };
            for arg in &call.args {
                literal_parts(module, arg, depth + 1, parts);
            }
        }
        _ => {}
    }
}

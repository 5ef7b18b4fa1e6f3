use super::configs;
use crate::check::finding::rule;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports an `allow_origins` entry of a `CORSMiddleware` that holds a `*` but is not the
    /// whole entry `"*"`, such as `"https://*.vercel.app"`.
    ///
    /// ## Why it breaks a Space
    /// Starlette's CORSMiddleware tests an origin with `origin in allow_origins`, a plain
    /// membership test. The only wildcard it knows is the whole entry `"*"`. An entry such as
    /// `"https://*.vercel.app"` is compared as text and matches no real origin: a GET answers
    /// without `Access-Control-Allow-Origin` and a preflight answers 400 "Disallowed CORS
    /// origin".
    ///
    /// ## Example
    /// ```python
    /// app.add_middleware(
    ///     CORSMiddleware,
    ///     allow_origins=["https://*.vercel.app"],
    /// )
    /// ```
    ///
    /// ## Fix
    /// List exact origins, and use `allow_origin_regex` (matched with `fullmatch`) scoped to
    /// the project for preview deployments:
    /// ```python
    /// app.add_middleware(
    ///     CORSMiddleware,
    ///     allow_origin_regex=r"https://myproj(-[a-z0-9-]+)?\.vercel\.app",
    /// )
    /// ```
    ///
    /// ## References
    /// - Starlette, CORSMiddleware: <https://www.starlette.io/middleware/#corsmiddleware>
    /// - FastAPI, CORS: <https://fastapi.tiangolo.com/tutorial/cors/>
    /// - Python, `re.fullmatch`: <https://docs.python.org/3/library/re.html#re.fullmatch>
    pub(crate) static RULE = "SG201", "cors-wildcard-in-origin", Error;
    why: "allow_origins is matched exactly: an origin with `*` inside never matches, so the browser blocks the frontend";
    fix: "list exact origins, and use a project-scoped allow_origin_regex for preview deployments";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    for config in configs(facts) {
        for origin in config.origins() {
            let Some(text) = origin.as_str() else {
                continue;
            };
            if text.contains('*') && text != "*" {
                findings.push(
                    Finding::new(
                        &RULE,
                        config.file,
                        origin.place.line,
                        format!(
                            "allow_origins entry {text:?} is compared as text and matches no origin"
                        ),
                    )
                    .at_column(origin.place.column),
                );
            }
        }
    }
}

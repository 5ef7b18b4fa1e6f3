use super::configs;
use crate::check::finding::rule;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a `CORSMiddleware` added with `app.add_middleware(CORSMiddleware, …)` or
    /// `FastAPI(middleware=[Middleware(CORSMiddleware, …)])`, rather than wrapped around the
    /// application.
    ///
    /// ## Why it breaks a Space
    /// Middleware added with `app.add_middleware` (or `FastAPI(middleware=[Middleware(...)])`)
    /// runs inside `ServerErrorMiddleware`. When a route raises, the 500 is built outside
    /// CORSMiddleware and has no `Access-Control-Allow-Origin`, even with an exception handler
    /// for `Exception`; the browser then reports a CORS error and hides the real one.
    ///
    /// ## Example
    /// ```python
    /// app = FastAPI(lifespan=lifespan)
    /// app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"])
    /// ```
    ///
    /// ## Fix
    /// Wrapping the application puts the headers on every response, 500s included:
    /// ```python
    /// api = FastAPI(lifespan=lifespan)
    /// app = CORSMiddleware(api, allow_origins=[...], allow_methods=[...], allow_headers=[...])
    /// ```
    /// and run `uvicorn main:app`. Code that needs the FastAPI object (`state`,
    /// `dependency_overrides`) uses `api`.
    ///
    /// ## References
    /// - Starlette, middleware (`ServerErrorMiddleware` and the order of middleware): <https://www.starlette.io/middleware/>
    /// - FastAPI, CORS: <https://fastapi.tiangolo.com/tutorial/cors/>
    pub(crate) static RULE = "SG206", "cors-inside-error-middleware", Info;
    why: "CORS added with add_middleware sits inside Starlette's error middleware: an unhandled 500 reaches the browser without CORS headers and shows as a CORS error";
    fix: "wrap the whole app: `app = CORSMiddleware(api, ...)` and serve `app`";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    for config in configs(facts).filter(|c| c.inner) {
        findings.push(
            Finding::new(
                &RULE,
                config.file,
                config.call.place.line,
                "CORSMiddleware is added inside the error middleware: 500s carry no CORS headers",
            )
            .at_column(config.call.place.column),
        );
    }
}

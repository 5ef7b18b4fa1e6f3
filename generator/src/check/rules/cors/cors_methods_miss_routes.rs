use super::configs;
use crate::check::finding::rule;
use crate::check::python::Kind;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a `CORSMiddleware` whose `allow_methods` (by default `("GET",)`) leaves out a
    /// `POST`, `PUT`, `PATCH` or `DELETE` that a route of a served module declares. Judged
    /// only when the call's keywords are the middleware's, none is passed with `**`, and
    /// `allow_methods` is absent or a literal list without `"*"`.
    ///
    /// ## Why it breaks a Space
    /// CORSMiddleware's `allow_methods` defaults to `("GET",)`. A cross-origin `POST` with a
    /// JSON body (or a `PUT`, `PATCH` or `DELETE`) is preceded by a preflight, and a method
    /// outside `allow_methods` answers 400 "Disallowed CORS method": the browser never sends
    /// the real request.
    ///
    /// ## Example
    /// ```python
    /// app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"])
    ///
    /// @app.post("/items")
    /// def add_item(item: Item): ...
    /// ```
    ///
    /// ## Fix
    /// Pass `allow_methods` with every method the frontend calls:
    /// ```python
    /// app.add_middleware(
    ///     CORSMiddleware,
    ///     allow_origins=["https://app.example.com"],
    ///     allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    /// )
    /// ```
    ///
    /// ## References
    /// - Starlette, CORSMiddleware: <https://www.starlette.io/middleware/#corsmiddleware>
    /// - MDN, preflight requests: <https://developer.mozilla.org/en-US/docs/Glossary/Preflight_request>
    pub(crate) static RULE = "SG205", "cors-methods-miss-routes", Error;
    why: "allow_methods does not include a method the app's routes use: its preflight answers 400 and the browser blocks the request";
    fix: "pass allow_methods with every method the frontend calls, e.g. [\"GET\", \"POST\", \"PUT\", \"PATCH\", \"DELETE\", \"OPTIONS\"]";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    let mut route_methods: Vec<(String, &str, usize)> = Vec::new();
    for (file, module) in facts
        .python
        .iter()
        .filter(|(file, _)| facts.served.includes(file))
    {
        for route in module.routes() {
            for m in route.methods {
                route_methods.push((m, file, route.place.line));
            }
        }
    }
    for config in configs(facts) {
        let call = config.call;
        if !config.plain || call.has_splat() {
            continue;
        }
        let allowed: Option<Vec<String>> = match config.get("allow_methods").map(|v| &v.kind) {
            None => Some(vec!["GET".to_owned()]),
            Some(Kind::Seq(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_ascii_uppercase))
                .collect(),
            Some(_) => None,
        };
        let Some(allowed) = allowed.filter(|a| !a.iter().any(|m| m == "*")) else {
            continue;
        };
        let missing = route_methods.iter().find(|(m, _, _)| {
            matches!(m.as_str(), "POST" | "PUT" | "PATCH" | "DELETE") && !allowed.contains(m)
        });
        if let Some((method, route_file, line)) = missing {
            findings.push(
                Finding::new(
                    &RULE,
                    config.file,
                    call.place.line,
                    format!(
                        "CORS allows only {} but {route_file}:{line} declares a {method} route",
                        allowed.join(", ")
                    ),
                )
                .at_column(call.place.column),
            );
        }
    }
}

use super::{configs, origin_regex, Config, Reach};
use crate::check::finding::rule;
use crate::check::python::{Kind, Module, Value};
use crate::check::rules::Facts;
use crate::check::settings::Settings;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a `CORSMiddleware` with `allow_credentials=True` that allows any origin:
    /// `allow_origins=["*"]`, or an `allow_origin_regex` that matches any origin (`".*"`,
    /// `".+"`, `"https://.*"`).
    ///
    /// The wildcard need not be written in the call: it is also reported when `"*"` is the
    /// default of the value `allow_origins` reads (a pydantic settings field, directly or
    /// through `.split(",")`, a property or nested settings, or
    /// `os.getenv("CORS_ORIGINS", "*")`), which the Space uses whenever the variable is not
    /// set, and when the code appends or extends `"*"` into the list.
    ///
    /// ## Why it breaks a Space
    /// From Starlette 1.0 on, a request with an `Origin` header gets
    /// `Access-Control-Allow-Origin` set to that origin, plus
    /// `Access-Control-Allow-Credentials: true`, whenever the origin is allowed and
    /// `allow_credentials` is on. With `allow_origins=["*"]`, or a regex that matches any
    /// origin, a page on any website can make requests with the user's cookies and read the
    /// answers. (Older Starlette sent `*` for simple requests, which browsers refuse for
    /// credentialed requests: broken instead of open.)
    ///
    /// ## Example
    /// ```python
    /// app.add_middleware(
    ///     CORSMiddleware,
    ///     allow_origins=["*"],
    ///     allow_credentials=True,
    /// )
    /// ```
    ///
    /// ## Fix
    /// Name the frontend's origins exactly, or turn credentials off: an `Authorization`
    /// bearer token does not need them (list `"Authorization"` in `allow_headers`):
    /// ```python
    /// app.add_middleware(
    ///     CORSMiddleware,
    ///     allow_origins=["https://app.example.com"],
    ///     allow_credentials=False,
    ///     allow_headers=["Authorization", "Content-Type"],
    /// )
    /// ```
    ///
    /// ## References
    /// - Starlette, CORSMiddleware: <https://www.starlette.io/middleware/#corsmiddleware>
    /// - FastAPI, CORS: <https://fastapi.tiangolo.com/tutorial/cors/>
    /// - MDN, `Access-Control-Allow-Credentials`: <https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Access-Control-Allow-Credentials>
    pub(crate) static RULE = "SG202", "cors-credentials-any-origin", Error;
    why: "with allow_credentials=True, Starlette echoes any allowed origin: every website gets credentialed access";
    fix: "list the exact origins, or keep allow_credentials=False (a bearer token in Authorization needs no credentials mode)";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    for config in configs(facts) {
        let credentials = config.credentials();
        if !credentials {
            continue;
        }
        for origin in config.origins() {
            if origin.as_str() == Some("*") {
                findings.push(
                    Finding::new(
                        &RULE,
                        config.file,
                        origin.place.line,
                        "allow_origins=[\"*\"] with allow_credentials=True: any website gets credentialed access",
                    )
                    .at_column(origin.place.column),
                );
            }
        }
        if let Some((value, pattern, Reach::Any)) = origin_regex(&config) {
            findings.push(
                Finding::new(
                    &RULE,
                    config.file,
                    value.place.line,
                    format!("allow_origin_regex {pattern:?} matches any origin while allow_credentials=True"),
                )
                .at_column(value.place.column),
            );
        }
        flow(&config, &facts.settings, findings);
    }
}

/// Origins that are not written in the call: a wildcard that a settings default gives
/// `allow_origins` (a field, `.split(",")` of one, a property, nested settings), or that the
/// code adds to the list passed with `.append`, `.extend` or `.insert`.
fn flow(config: &Config<'_>, settings: &Settings, findings: &mut Vec<Finding>) {
    let Some(written) = config.call.keyword("allow_origins") else {
        return;
    };
    let (file, module) = (config.file, config.module);
    let fallback = settings
        .defaults(module, module.resolve(written))
        .into_iter()
        .find(|f| any_origin(&f.value));
    if let Some(fallback) = fallback {
        findings.push(
            Finding::new(
                &RULE,
                file,
                written.place.line,
                format!(
                    "allow_origins defaults to {} ({} in {}:{}) while allow_credentials=True: unless the variable is set, any website gets credentialed access",
                    shown(&fallback.value),
                    fallback.field,
                    fallback.file,
                    fallback.value.place.line
                ),
            )
            .at_column(written.place.column),
        );
    }
    if let Some(default) = env_defaults(module, written)
        .into_iter()
        .find(|v| any_origin(v))
    {
        findings.push(
            Finding::new(
                &RULE,
                file,
                written.place.line,
                format!(
                    "allow_origins falls back to {} when the variable is unset (line {}) while allow_credentials=True: any website gets credentialed access",
                    shown(default),
                    default.place.line
                ),
            )
            .at_column(written.place.column),
        );
    }
    if let Kind::Name(name) = &written.kind {
        if let Some(added) = config.additions(name).find(|v| any_origin(v)) {
            findings.push(
                Finding::new(
                    &RULE,
                    file,
                    added.place.line,
                    format!("\"*\" is added to {name}, the allow_origins of a CORSMiddleware with allow_credentials=True: any website gets credentialed access"),
                )
                .at_column(added.place.column),
            );
        }
    }
}

/// The literal fallbacks of the environment variables `value` reads: `os.getenv("X", "…")`
/// itself, `.split(",")` of one, an entry of a list, a comprehension over one (directly or
/// through module-level names assigned once).
fn env_defaults<'a>(module: &'a Module, value: &'a Value) -> Vec<&'a Value> {
    let mut found = Vec::new();
    let mut todo = vec![(value, 0)];
    while let Some((value, depth)) = todo.pop() {
        if depth > 4 {
            continue;
        }
        let value = module.resolve(value);
        if let Some(default) = module.env_default(value) {
            found.push(default);
            continue;
        }
        match &value.kind {
            Kind::Comp(inner) => todo.push((inner, depth + 1)),
            Kind::Seq(items) => todo.extend(items.iter().map(|i| (i, depth + 1))),
            Kind::Call(callee) => {
                if let Some((receiver, "split" | "rsplit" | "strip")) = callee.rsplit_once('.') {
                    // A name assigned twice could hold either value.
                    let mut assigned = module
                        .assigns
                        .iter()
                        .filter(|a| a.module_level && a.target == receiver);
                    if let (Some(only), None) = (assigned.next(), assigned.next()) {
                        todo.push((&only.value, depth + 1));
                    }
                }
            }
            _ => {}
        }
    }
    found
}

/// Whether a literal holds the origin `*`: the string (or one of its comma-separated parts,
/// brackets and quotes aside), or an entry of the list.
fn any_origin(value: &Value) -> bool {
    match &value.kind {
        Kind::Str(text) => text.split(',').any(|part| {
            part.trim_matches(|c: char| c.is_whitespace() || "[]\"'".contains(c)) == "*"
        }),
        Kind::Seq(items) => items.iter().any(|item| item.as_str() == Some("*")),
        _ => false,
    }
}

/// A literal default as written: `"*"`, `["*", …]`.
fn shown(value: &Value) -> String {
    match &value.kind {
        Kind::Str(text) => format!("{text:?}"),
        Kind::Seq(_) => "a list holding \"*\"".to_owned(),
        _ => "a wildcard".to_owned(),
    }
}

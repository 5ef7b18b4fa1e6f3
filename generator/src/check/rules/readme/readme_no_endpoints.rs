use std::collections::HashSet;

use super::docker_space_readme;
use crate::check::finding::rule;
use crate::check::python::{Kind, Module};
use crate::check::readme::FILE;
use crate::check::readme_body;
use crate::check::rules::app::HEALTH;
use crate::check::rules::{is_test, Facts};
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a README whose body names none of the app's own endpoints.
    ///
    /// The endpoints are the routes the Python code declares (`@app.get("/x")`,
    /// `@router.post(…)`, `api_route`, `add_api_route`), with the `prefix` of an
    /// `APIRouter(prefix=…)` in the same file. The framework's pages (`/docs`, `/redoc`,
    /// `/openapi.json`), `/`, health routes (`/health`, `/healthz`, `/ping`, …), routes with
    /// `include_in_schema=False`, routes of test files and routes whose path is only parameters
    /// do not count: naming them documents nothing about the API.
    ///
    /// An endpoint is documented when the body names its path anywhere: in prose, a code span,
    /// a table cell, a curl line or a URL (`https://your-space.hf.space/api/predict?x=1`), with
    /// or without the method, and with or without a prefix the app adds when it includes the
    /// router (`/api/v1/items` documents `@router.get("/items")`). Path parameters match any
    /// segment and may be written in any style (`{id}`, `<id>`, `:id`, or an example value). A
    /// code span holding the path without its leading slash (`` `predict` ``), the endpoint's
    /// last name followed by "endpoint" or "route" ("the predict endpoint"), and a link to a
    /// Markdown document of the API (`docs/API.md`, `ENDPOINTS.md`) count too. Routes that
    /// answer with a page, a redirect or a file (`response_class=HTMLResponse`,
    /// `RedirectResponse`, `FileResponse`) are not API endpoints.
    ///
    /// No finding when the routes cannot be determined (a path computed at run time), when the
    /// app declares no endpoint of its own, when there is no README.md (SG301 reports that) or
    /// when the header names another SDK.
    ///
    /// ## Why it breaks a Space
    /// A Space's README.md is its page on the Hub: the first, and often the only, thing a user
    /// of the API reads. Documentation only: the Space runs either way.
    ///
    /// ## Example
    /// ```python
    /// @app.post("/predict")
    /// def predict(body: Text) -> Scores: ...
    /// ```
    /// with a README body that only says "A model served with FastAPI. See /docs."
    ///
    /// ## Fix
    /// List the endpoints in README.md: method, path and what each takes and returns.
    /// ```markdown
    /// | Method | Path       | Takes               | Returns          |
    /// |--------|------------|---------------------|------------------|
    /// | POST   | `/predict` | `{"text": "…"}`     | `{"scores": …}`  |
    /// ```
    ///
    /// ## References
    /// - Hugging Face, Spaces overview: <https://huggingface.co/docs/hub/spaces-overview>
    /// - FastAPI, bigger applications (`APIRouter` prefixes): <https://fastapi.tiangolo.com/tutorial/bigger-applications/>
    pub(crate) static RULE = "SG309", "readme-no-endpoints", Warning;
    why: "the README is what users of the API read, and it names none of the endpoints the app serves";
    fix: "list the endpoints in README.md: method, path and what each takes and returns (a table or a list)";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    if let Some(readme) = docker_space_readme(facts) {
        endpoints(facts, readme.text, findings);
    }
}

/// The most endpoints, and paths named by the README, compared; past either, no finding.
const MAX_ENDPOINTS: usize = 1_000;
const MAX_PATHS: usize = 10_000;

/// Paths of the framework's own pages, which document nothing about the API.
const FRAMEWORK: &[&str] = &[
    "docs",
    "redoc",
    "openapi.json",
    "docs/oauth2-redirect",
    "favicon.ico",
];

/// An endpoint of the app: method and path as the finding names it, and its segments.
struct Endpoint {
    shown: String,
    segments: Vec<String>,
}

/// The `prefix=` of `name = APIRouter(prefix="…")` in `module`: `Some("")` when it has none,
/// `None` when it is not a literal.
fn router_prefix(module: &Module, name: &str) -> Option<String> {
    let mut assigns = module
        .assigns
        .iter()
        .filter(|a| a.module_level && a.target == name);
    let assigned = match (assigns.next(), assigns.next()) {
        (Some(only), None) => &only.value,
        // Not assigned here (an imported router or app): no prefix this file adds.
        (None, _) => return Some(String::new()),
        // Assigned twice: either value may be the one used.
        _ => return None,
    };
    let Kind::Call(callee) = &assigned.kind else {
        return Some(String::new());
    };
    if !callee.ends_with("APIRouter") {
        return Some(String::new());
    }
    let call = module
        .calls
        .iter()
        .find(|c| c.name == *callee && c.place == assigned.place)?;
    match call.keyword("prefix") {
        None => Some(String::new()),
        // A literal, or a module-level name assigned one.
        Some(v) => module
            .literal(v)
            .and_then(|v| v.as_str())
            .map(str::to_owned),
    }
}

/// The app's own endpoints, or `None` when a path cannot be known.
fn app_endpoints(facts: &Facts<'_>) -> Option<Vec<Endpoint>> {
    let mut endpoints = Vec::new();
    for (file, module) in &facts.python {
        if is_test(file) {
            continue;
        }
        for route in module.routes() {
            let path = route.path?;
            let call = module.calls.iter().find(|c| c.place == route.place);
            if call
                .and_then(|c| c.keyword("include_in_schema"))
                .is_some_and(|v| matches!(v.kind, Kind::Bool(false)))
            {
                continue;
            }
            // A page (`response_class=HTMLResponse`), a redirect or a file is no API endpoint.
            let page = call
                .and_then(|c| c.keyword("response_class"))
                .is_some_and(|v| match &v.kind {
                    Kind::Name(n) => ["HTMLResponse", "RedirectResponse", "FileResponse"]
                        .iter()
                        .any(|r| n.ends_with(r)),
                    _ => false,
                });
            if page {
                continue;
            }
            let prefix = match call.and_then(|c| c.receiver()) {
                Some(receiver) => router_prefix(module, receiver)?,
                None => String::new(),
            };
            let full = format!("{prefix}/{path}");
            let segments = readme_body::segments(&full);
            let literal: Vec<&String> = segments
                .iter()
                .filter(|s| !readme_body::is_parameter(s))
                .collect();
            let Some(last) = literal.last() else { continue };
            let joined = segments.join("/");
            if FRAMEWORK.contains(&joined.as_str()) || HEALTH.contains(&last.as_str()) {
                continue;
            }
            let shown = format!("{} /{}", route.methods.join("|"), segments.join("/"));
            endpoints.push(Endpoint { shown, segments });
        }
    }
    Some(endpoints)
}

/// Whether a path the README names is `endpoint`'s: it ends with the endpoint's segments, a
/// parameter on either side matching any segment, at least one literal segment alike.
fn names(path: &[String], endpoint: &[String]) -> bool {
    if path.len() < endpoint.len() {
        return false;
    }
    let tail = &path[path.len() - endpoint.len()..];
    let mut alike = false;
    for (p, e) in tail.iter().zip(endpoint) {
        if readme_body::is_parameter(p) || readme_body::is_parameter(e) {
            continue;
        }
        if p != e {
            return false;
        }
        alike = true;
    }
    alike
}

/// SG309: a README body that names none of the app's endpoints.
fn endpoints(facts: &Facts<'_>, text: &str, findings: &mut Vec<Finding>) {
    let Some(endpoints) = app_endpoints(facts) else {
        return;
    };
    let Some(first) = endpoints.first() else {
        return;
    };
    let body = readme_body::body(text);
    let paths = body.paths();
    // Past these, comparing every endpoint with every path is work no README needs.
    if endpoints.len() > MAX_ENDPOINTS || paths.len() > MAX_PATHS {
        return;
    }
    let spans: HashSet<String> = body
        .code_spans()
        .iter()
        .filter(|s| !s.contains('/'))
        .map(|s| s.to_ascii_lowercase())
        .collect();
    // The words before "endpoint" and "route": "the predict endpoint".
    let prose = text.to_ascii_lowercase();
    let named: HashSet<&str> = [" endpoint", " route"]
        .iter()
        .flat_map(|noun| prose.match_indices(noun))
        .filter_map(|(at, _)| {
            prose[..at]
                .trim_end_matches(['`', '"', '\'', '*'])
                .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .next()
        })
        .collect();
    // A link to a document of the API (`docs/API.md`, `ENDPOINTS.md`) documents it there.
    let api_document = paths.iter().any(|p| {
        p.last().is_some_and(|name| {
            name.ends_with(".md") && (name.contains("api") || name.contains("endpoint"))
        })
    });
    let documented = api_document
        || endpoints.iter().any(|e| {
            paths.iter().any(|p| names(p, &e.segments))
                || spans.contains(&e.segments.join("/"))
                || e.segments
                    .iter()
                    .rfind(|s| !readme_body::is_parameter(s))
                    .is_some_and(|name| named.contains(name.as_str()))
        });
    if documented {
        return;
    }
    let shown = &first.shown;
    let message = match endpoints.len() {
        _ if body.is_blank() => format!(
            "README.md has nothing below its header: no endpoint of the app (such as `{shown}`) is documented"
        ),
        1 => format!("the README never names the app's endpoint `{shown}`"),
        n => format!("the README names none of the app's {n} endpoints, such as `{shown}`"),
    };
    findings.push(Finding::new(&RULE, FILE, body.start(), message));
}

//! Starlette's `CORSMiddleware`, configured with `app.add_middleware(CORSMiddleware, …)`,
//! `Middleware(CORSMiddleware, …)` or by wrapping the app (`CORSMiddleware(app, …)`). A rule
//! fires only on values written as literals (directly or through a module-level name assigned
//! once); a value computed at run time is never judged. Only the modules the Space serves count
//! (see [`super::served`]).

use regex::Regex;

use super::Facts;
use crate::check::python::{self, Call, Kind, Module, Value};
use crate::check::{Finding, Rule, Severity};

pub(crate) static WILDCARD_ORIGIN: Rule = Rule {
    id: "SG201",
    name: "cors-wildcard-in-origin",
    severity: Severity::Error,
    why: "allow_origins is matched exactly: an origin with `*` inside never matches, so the browser blocks the frontend",
    fix: "list exact origins, and use a project-scoped allow_origin_regex for preview deployments",
    explanation: r#"
Starlette's CORSMiddleware tests an origin with `origin in allow_origins`, a plain membership
test. The only wildcard it knows is the whole entry "*". An entry such as
"https://*.vercel.app" is compared as text and matches no real origin: a GET answers without
Access-Control-Allow-Origin and a preflight answers 400 "Disallowed CORS origin".

Use allow_origin_regex (matched with fullmatch) scoped to the project, e.g.
    allow_origin_regex=r"https://myproj(-[a-z0-9-]+)?\.vercel\.app"
"#,
};

pub(crate) static CREDENTIALS_ANY_ORIGIN: Rule = Rule {
    id: "SG202",
    name: "cors-credentials-any-origin",
    severity: Severity::Error,
    why: "with allow_credentials=True, Starlette echoes any allowed origin: every website gets credentialed access",
    fix: "list the exact origins, or keep allow_credentials=False (a bearer token in Authorization needs no credentials mode)",
    explanation: r#"
From Starlette 1.0 on, a request with an Origin header gets Access-Control-Allow-Origin set to
that origin, plus Access-Control-Allow-Credentials: true, whenever the origin is allowed and
allow_credentials is on. With allow_origins=["*"], or an allow_origin_regex that matches any
origin (".*", ".+", "https://.*"), a page on any website can make requests with the user's
cookies and read the answers. (Older Starlette sent `*` for simple requests, which browsers
refuse for credentialed requests: broken instead of open.)

Name the frontend's origins exactly, or turn credentials off: an Authorization bearer token
does not need them (list "Authorization" in allow_headers).
"#,
};

pub(crate) static REGEX_ANY_VERCEL: Rule = Rule {
    id: "SG203",
    name: "cors-regex-any-vercel-app",
    severity: Severity::Warning,
    why: "the origin regex admits every Vercel user's deployments, not only this project's",
    fix: "scope the regex to the project (and team): r\"https://myproj(-[a-z0-9-]+)?-myteam\\.vercel\\.app\"",
    explanation: r#"
Every Vercel account deploys under vercel.app, and anyone can create a project with any free
name. A regex such as r"https://[a-z0-9-]+\.vercel\.app" or r"https://.*\.vercel\.app"
therefore allows origins that belong to other people; with allow_credentials=True they can read
responses made with the user's cookies.

Scope the regex to the project and, where known, to the team suffix that Vercel puts in preview
URLs: r"https://myproj(-git-[a-z0-9-]+)?-myteam\.vercel\.app".
"#,
};

pub(crate) static ORIGIN_NOT_EXACT: Rule = Rule {
    id: "SG204",
    name: "cors-origin-with-path",
    severity: Severity::Error,
    why: "an origin is scheme://host[:port]; one with a trailing slash or a path never matches and the browser blocks the frontend",
    fix: "remove the trailing `/` and any path from the origin",
    explanation: r#"
Browsers send Origin as scheme://host[:port], with no path and no trailing slash. Starlette
compares allow_origins entries as exact strings, so "https://app.example.com/" does not match
the origin https://app.example.com: the frontend's requests are refused.
"#,
};

pub(crate) static METHODS_GET_ONLY: Rule = Rule {
    id: "SG205",
    name: "cors-methods-miss-routes",
    severity: Severity::Error,
    why: "allow_methods does not include a method the app's routes use: its preflight answers 400 and the browser blocks the request",
    fix: "pass allow_methods with every method the frontend calls, e.g. [\"GET\", \"POST\", \"PUT\", \"PATCH\", \"DELETE\", \"OPTIONS\"]",
    explanation: r#"
CORSMiddleware's allow_methods defaults to ("GET",). A cross-origin POST with a JSON body (or a
PUT, PATCH or DELETE) is preceded by a preflight, and a method outside allow_methods answers
400 "Disallowed CORS method": the browser never sends the real request.
"#,
};

pub(crate) static ADD_MIDDLEWARE: Rule = Rule {
    id: "SG206",
    name: "cors-inside-error-middleware",
    severity: Severity::Info,
    why: "CORS added with add_middleware sits inside Starlette's error middleware: an unhandled 500 reaches the browser without CORS headers and shows as a CORS error",
    fix: "wrap the whole app: `app = CORSMiddleware(api, ...)` and serve `app`",
    explanation: r#"
Middleware added with app.add_middleware (or FastAPI(middleware=[Middleware(...)])) runs
inside ServerErrorMiddleware. When a route raises, the 500 is built outside CORSMiddleware and
has no Access-Control-Allow-Origin, even with an exception handler for Exception; the browser
then reports a CORS error and hides the real one.

Wrapping the application puts the headers on every response, 500s included:
    api = FastAPI(lifespan=lifespan)
    app = CORSMiddleware(api, allow_origins=[...], allow_methods=[...], allow_headers=[...])
and run `uvicorn main:app`. Code that needs the FastAPI object (state, dependency_overrides)
uses `api`.
"#,
};

pub(crate) static RULES: &[&Rule] = &[
    &WILDCARD_ORIGIN,
    &CREDENTIALS_ANY_ORIGIN,
    &REGEX_ANY_VERCEL,
    &ORIGIN_NOT_EXACT,
    &METHODS_GET_ONLY,
    &ADD_MIDDLEWARE,
];

/// Origins no configured frontend is: a regex matching both admits any origin.
const FOREIGN: &[&str] = &["https://evil.example", "https://attacker.test"];
/// A Vercel deployment of someone else's project.
const FOREIGN_VERCEL: &[&str] = &[
    "https://qzx-unrelated-9k2.vercel.app",
    "https://zz-other-project-git-main-someone.vercel.app",
];

/// One CORS configuration.
struct Config<'a> {
    module: &'a Module,
    call: &'a Call,
    /// The keywords are the middleware's (the call is CORSMiddleware itself or passes it).
    plain: bool,
    /// Added with add_middleware / Middleware(...): inside the error middleware.
    inner: bool,
}

impl<'a> Config<'a> {
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.call.keyword(name).map(|v| self.module.resolve(v))
    }
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    let _project = facts.project;
    let modules: Vec<&(&str, python::Module)> = facts
        .python
        .iter()
        .filter(|(file, _)| facts.served.includes(file))
        .collect();
    let mut route_methods: Vec<(String, String, usize)> = Vec::new();
    for (file, module) in &modules {
        for route in module.routes() {
            for m in route.methods {
                route_methods.push((m, (*file).to_owned(), route.place.line));
            }
        }
    }
    for (file, module) in &modules {
        for call in &module.calls {
            let Some(config) = config(module, call) else {
                continue;
            };
            check_config(file, &config, &route_methods, findings);
        }
    }
}

/// The CORS configuration `call` makes, if it makes one.
fn config<'a>(module: &'a Module, call: &'a Call) -> Option<Config<'a>> {
    let is_cors = |name: &str| name == "CORSMiddleware" || name.ends_with(".CORSMiddleware");
    let first_is_cors =
        matches!(call.args.first().map(|v| &v.kind), Some(Kind::Name(n)) if is_cors(n));
    let method = call.method();
    if (method == "add_middleware" || method == "Middleware") && first_is_cors {
        return Some(Config {
            module,
            call,
            plain: true,
            inner: true,
        });
    }
    if method.ends_with("CORSMiddleware") && !call.decorator {
        return Some(Config {
            module,
            call,
            plain: is_cors(&call.name),
            inner: false,
        });
    }
    None
}

fn check_config(
    file: &str,
    config: &Config<'_>,
    route_methods: &[(String, String, usize)],
    findings: &mut Vec<Finding>,
) {
    let call = config.call;
    let origins: Vec<&Value> = match config.get("allow_origins").map(|v| &v.kind) {
        Some(Kind::Seq(items)) => items.iter().collect(),
        _ => Vec::new(),
    };
    let credentials = matches!(
        config.get("allow_credentials").map(|v| &v.kind),
        Some(Kind::Bool(true))
    );
    for origin in &origins {
        let Some(text) = origin.as_str() else {
            continue;
        };
        if text.contains('*') && text != "*" {
            findings.push(
                Finding::new(
                    &WILDCARD_ORIGIN,
                    file,
                    origin.place.line,
                    format!(
                        "allow_origins entry {text:?} is compared as text and matches no origin"
                    ),
                )
                .at_column(origin.place.column),
            );
        } else if has_path(text) {
            findings.push(
                Finding::new(
                    &ORIGIN_NOT_EXACT,
                    file,
                    origin.place.line,
                    format!(
                        "allow_origins entry {text:?} has a path or trailing slash; browsers send {:?}",
                        origin_of(text)
                    ),
                )
                .at_column(origin.place.column),
            );
        }
        if text == "*" && credentials {
            findings.push(
                Finding::new(
                    &CREDENTIALS_ANY_ORIGIN,
                    file,
                    origin.place.line,
                    "allow_origins=[\"*\"] with allow_credentials=True: any website gets credentialed access",
                )
                .at_column(origin.place.column),
            );
        }
    }
    if let Some(regex) = config.get("allow_origin_regex") {
        if let Some(pattern) = regex.as_str() {
            check_regex(file, regex, pattern, credentials, findings);
        }
    }
    if config.plain && !call.has_splat() {
        let allowed: Option<Vec<String>> = match config.get("allow_methods").map(|v| &v.kind) {
            None => Some(vec!["GET".to_owned()]),
            Some(Kind::Seq(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_ascii_uppercase))
                .collect(),
            Some(_) => None,
        };
        if let Some(allowed) = allowed.filter(|a| !a.iter().any(|m| m == "*")) {
            let missing = route_methods.iter().find(|(m, _, _)| {
                matches!(m.as_str(), "POST" | "PUT" | "PATCH" | "DELETE") && !allowed.contains(m)
            });
            if let Some((method, route_file, line)) = missing {
                findings.push(
                    Finding::new(
                        &METHODS_GET_ONLY,
                        file,
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
    if config.inner {
        findings.push(
            Finding::new(
                &ADD_MIDDLEWARE,
                file,
                call.place.line,
                "CORSMiddleware is added inside the error middleware: 500s carry no CORS headers",
            )
            .at_column(call.place.column),
        );
    }
}

fn check_regex(
    file: &str,
    value: &Value,
    pattern: &str,
    credentials: bool,
    findings: &mut Vec<Finding>,
) {
    let Ok(regex) = Regex::new(&format!("^(?:{pattern})$")) else {
        return;
    };
    let admits_all = |probes: &[&str]| probes.iter().all(|p| regex.is_match(p));
    if admits_all(FOREIGN) {
        if credentials {
            findings.push(
                Finding::new(
                    &CREDENTIALS_ANY_ORIGIN,
                    file,
                    value.place.line,
                    format!("allow_origin_regex {pattern:?} matches any origin while allow_credentials=True"),
                )
                .at_column(value.place.column),
            );
        }
    } else if admits_all(FOREIGN_VERCEL) {
        findings.push(
            Finding::new(
                &REGEX_ANY_VERCEL,
                file,
                value.place.line,
                format!(
                    "allow_origin_regex {pattern:?} admits {} (another user's project)",
                    FOREIGN_VERCEL[0]
                ),
            )
            .at_column(value.place.column),
        );
    }
}

/// Whether an origin-like string has something after `scheme://host[:port]`.
fn has_path(origin: &str) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+')
        && rest.contains('/')
        && !rest.starts_with('/')
}

/// `scheme://host[:port]` of an origin-like string.
fn origin_of(origin: &str) -> String {
    match origin.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", rest.split('/').next().unwrap_or("")),
        None => origin.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Project;

    fn ids(src: &str) -> Vec<(&'static str, usize)> {
        let project = Project::from_files(&[("app/main.py", src)]);
        let mut findings = Vec::new();
        check(&Facts::of(&project), &mut findings);
        findings.iter().map(|f| (f.rule.id, f.line)).collect()
    }

    #[test]
    fn literal_origins_are_judged() {
        let found = ids("from fastapi.middleware.cors import CORSMiddleware\n\
             origins = ['https://*.vercel.app', 'https://a.example.com/', '*']\n\
             app.add_middleware(CORSMiddleware, allow_origins=origins, allow_credentials=True)\n\
             @app.post('/x')\ndef x(): ...\n");
        assert_eq!(
            found,
            vec![
                ("SG201", 2),
                ("SG204", 2),
                ("SG202", 2),
                ("SG205", 3),
                ("SG206", 3)
            ]
        );
    }

    #[test]
    fn the_generated_shape_is_clean() {
        let found = ids(
            "app = JsonCORSMiddleware(api, allow_origins=origins, allow_origin_regex=r, \
             allow_credentials=c, allow_methods=ALLOWED_METHODS)\n\
             app2 = CORSMiddleware(api, allow_origins=['https://a.vercel.app', 'http://localhost:3000'], \
             allow_origin_regex=r'https://myproj(-[a-z0-9-]+)?\\.vercel\\.app', allow_methods=['*'])\n\
             @router.delete('/x')\ndef x(): ...\n",
        );
        assert_eq!(found, vec![]);
    }

    #[test]
    fn regexes_are_tried_against_foreign_origins() {
        let found = ids(
            "CORSMiddleware(api, allow_origin_regex='.*', allow_credentials=True)\n\
             CORSMiddleware(api, allow_origin_regex=r'https://[a-z0-9-]+\\.vercel\\.app')\n\
             CORSMiddleware(api, allow_origin_regex='https://.*', allow_credentials=False)\n\
             CORSMiddleware(api, allow_origin_regex='(?<=x)bad')\n",
        );
        assert_eq!(found, vec![("SG202", 1), ("SG203", 2)]);
    }

    #[test]
    fn only_served_modules_count() {
        let open = "from fastapi.middleware.cors import CORSMiddleware\n\
             app.add_middleware(CORSMiddleware, allow_origins=['*'], allow_credentials=True)\n";
        let docker = "FROM python:3.12\nCOPY . .\nCMD uvicorn main:app\n";
        let found = |files: &[(&str, &str)]| {
            let project = Project::from_files(files);
            let mut findings = Vec::new();
            check(&Facts::of(&project), &mut findings);
            findings.iter().map(|f| f.rule.id).collect::<Vec<_>>()
        };
        let app = "from fastapi import FastAPI\napp = FastAPI()\n";
        assert_eq!(
            found(&[
                ("Dockerfile", docker),
                ("main.py", app),
                ("old_main.py", open)
            ]),
            Vec::<&str>::new()
        );
        assert!(found(&[("Dockerfile", docker), ("main.py", open)]).contains(&"SG202"));
    }

    #[test]
    fn origins_with_paths() {
        assert!(has_path("https://a.com/"));
        assert!(has_path("https://a.com/app"));
        assert!(!has_path("https://a.com"));
        assert!(!has_path("http://localhost:3000"));
        assert!(!has_path("*"));
        assert_eq!(origin_of("https://a.com/x/"), "https://a.com");
    }
}

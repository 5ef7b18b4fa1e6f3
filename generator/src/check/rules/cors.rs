//! Starlette's `CORSMiddleware`, configured with `app.add_middleware(CORSMiddleware, …)`,
//! `Middleware(CORSMiddleware, …)` or by wrapping the app (`CORSMiddleware(app, …)`). A rule
//! fires only on values written as literals (directly or through a module-level name assigned
//! once); a value computed at run time is never judged. Only the modules the Space serves count
//! (see [`super::served`]).

use std::collections::BTreeMap;

use regex::Regex;

use super::Facts;
use crate::check::python::{self, Call, Kind, Module, Value};
use crate::check::settings::Settings;
use crate::check::{Finding, Rule, Severity};

pub(crate) static WILDCARD_ORIGIN: Rule = Rule {
    id: "SG201",
    name: "cors-wildcard-in-origin",
    severity: Severity::Error,
    why: "allow_origins is matched exactly: an origin with `*` inside never matches, so the browser blocks the frontend",
    fix: "list exact origins, and use a project-scoped allow_origin_regex for preview deployments",
    doc: r#"
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
    doc: r#"
From Starlette 1.0 on, a request with an Origin header gets Access-Control-Allow-Origin set to
that origin, plus Access-Control-Allow-Credentials: true, whenever the origin is allowed and
allow_credentials is on. With allow_origins=["*"], or an allow_origin_regex that matches any
origin (".*", ".+", "https://.*"), a page on any website can make requests with the user's
cookies and read the answers. (Older Starlette sent `*` for simple requests, which browsers
refuse for credentialed requests: broken instead of open.)

The wildcard need not be written in the call: it is also reported when "*" is the default of
the value allow_origins reads (a pydantic settings field, directly or through `.split(",")`, a
property or nested settings, or `os.getenv("CORS_ORIGINS", "*")`), which the Space uses
whenever the variable is not set, and when the code appends or extends "*" into the list.

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
    doc: r#"
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
    doc: r#"
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
    doc: r#"
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
    doc: r#"
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

pub(crate) static HARDCODED_ORIGINS: Rule = Rule {
    id: "SG221",
    name: "cors-origins-hardcoded",
    severity: Severity::Info,
    why: "the allowed origins are written in the code: a new frontend address needs a code change and a rebuild instead of a Space setting",
    fix: "read the origins from configuration: a settings field or `os.environ.get(\"CORS_ORIGINS\", \"\").split(\",\")`, set in the Space's variables",
    doc: r#"
allow_origins is a literal written in the code: a list of strings, "*", or a name assigned
such a literal. Which websites may call the API is a deployment decision: the frontend moves to
another domain, a preview deployment or a second frontend appears, and the code has to change
and the Space be rebuilt. A wildcard written in the code is the same choice, made for every
deployment at once.

Read the origins from configuration instead, and set them in the Space's settings:
    origins = [o.strip() for o in os.environ.get("CORS_ORIGINS", "").split(",") if o.strip()]
An origin that comes from configuration is not reported, even when a literal entry such as
http://localhost:3000 sits beside it, and neither is a field of a pydantic BaseSettings class:
its default is only a fallback that an environment variable of the same name overrides (a
wildcard default with allow_credentials=True is SG202's). Test code is not judged. This is a
policy finding: a project that serves one fixed frontend may keep its list.
"#,
};

pub(crate) static RULES: &[&Rule] = &[
    &WILDCARD_ORIGIN,
    &CREDENTIALS_ANY_ORIGIN,
    &REGEX_ANY_VERCEL,
    &ORIGIN_NOT_EXACT,
    &METHODS_GET_ONLY,
    &ADD_MIDDLEWARE,
    &HARDCODED_ORIGINS,
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
    /// What the module adds to each list, by the list's name.
    added: &'a Added<'a>,
}

/// What a module adds to lists: for each name, the arguments of `name.append(x)`,
/// `name.extend(xs)` and the second of `name.insert(i, x)`.
type Added<'a> = BTreeMap<&'a str, Vec<&'a Value>>;

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
        let added = additions(module);
        for call in &module.calls {
            let Some(config) = config(module, call, &added) else {
                continue;
            };
            check_config(file, &config, &route_methods, findings);
            check_flow(file, &config, &facts.settings, findings);
        }
    }
}

/// The CORS configuration `call` makes, if it makes one.
fn config<'a>(module: &'a Module, call: &'a Call, added: &'a Added<'a>) -> Option<Config<'a>> {
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
            added,
        });
    }
    if method.ends_with("CORSMiddleware") && !call.decorator {
        return Some(Config {
            module,
            call,
            plain: is_cors(&call.name),
            inner: false,
            added,
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
    let hardcoded = if super::is_test(file) {
        None
    } else {
        hardcoded_origins(config)
    };
    if let Some(value) = hardcoded {
        findings.push(
            Finding::new(
                &HARDCODED_ORIGINS,
                file,
                value.place.line,
                "allow_origins is written in the code, not read from configuration",
            )
            .at_column(value.place.column),
        );
    }
}

/// SG202 for origins that are not written in the call: a wildcard that a settings default
/// gives `allow_origins` (a field, `.split(",")` of one, a property, nested settings), or that
/// the code adds to the list passed with `.append`, `.extend` or `.insert`.
fn check_flow(file: &str, config: &Config<'_>, settings: &Settings, findings: &mut Vec<Finding>) {
    let credentials = matches!(
        config.get("allow_credentials").map(|v| &v.kind),
        Some(Kind::Bool(true))
    );
    let Some(written) = config.call.keyword("allow_origins") else {
        return;
    };
    if !credentials {
        return;
    }
    let module = config.module;
    let fallback = settings
        .defaults(module, module.resolve(written))
        .into_iter()
        .find(|f| any_origin(&f.value));
    if let Some(fallback) = fallback {
        findings.push(
            Finding::new(
                &CREDENTIALS_ANY_ORIGIN,
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
                &CREDENTIALS_ANY_ORIGIN,
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
                    &CREDENTIALS_ANY_ORIGIN,
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

/// The literal `allow_origins` stands for, when every origin it holds is written in the code:
/// a string, or a non-empty list of strings (directly or through module-level names assigned
/// once), that nothing extends with a value computed at run time.
fn hardcoded_origins<'a>(config: &Config<'a>) -> Option<&'a Value> {
    let module = config.module;
    let written = config.call.keyword("allow_origins")?;
    let value = module.resolve(written);
    let literal = match &value.kind {
        Kind::Str(_) => true,
        Kind::Seq(items) => {
            !items.is_empty()
                && items
                    .iter()
                    .all(|item| module.literal(item).and_then(Value::as_str).is_some())
        }
        _ => false,
    };
    if !literal {
        return None;
    }
    if let Kind::Name(name) = &written.kind {
        let computed = config.additions(name).any(|added| {
            !matches!(&added.kind, Kind::Str(_) | Kind::Seq(_)) || !all_literal(module, added)
        });
        if computed {
            return None;
        }
    }
    Some(value)
}

/// Whether `value` is a string literal, or a sequence of them.
fn all_literal(module: &Module, value: &Value) -> bool {
    match &value.kind {
        Kind::Seq(items) => items
            .iter()
            .all(|item| module.literal(item).and_then(Value::as_str).is_some()),
        _ => module.literal(value).and_then(Value::as_str).is_some(),
    }
}

/// What `module` adds to lists, by the list's name.
fn additions(module: &Module) -> Added<'_> {
    let mut added: Added<'_> = BTreeMap::new();
    for call in &module.calls {
        let Some((receiver, method)) = call.name.rsplit_once('.') else {
            continue;
        };
        let value = match method {
            "append" | "extend" => call.args.first(),
            "insert" => call.args.get(1),
            _ => None,
        };
        if let Some(value) = value {
            added.entry(receiver).or_default().push(value);
        }
    }
    added
}

impl<'a> Config<'a> {
    /// What the module adds to the list named `name`.
    fn additions(&self, name: &str) -> impl Iterator<Item = &'a Value> + 'a {
        self.added.get(name).into_iter().flatten().copied()
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
    use crate::check::rules;
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
                ("SG206", 3),
                ("SG221", 2)
            ]
        );
    }

    #[test]
    fn the_generated_shape_and_exact_literal_origins_pass_the_error_rules() {
        let found = ids(
            "app = JsonCORSMiddleware(api, allow_origins=origins, allow_origin_regex=r, \
             allow_credentials=c, allow_methods=ALLOWED_METHODS)\n\
             app2 = CORSMiddleware(api, allow_origins=['https://a.vercel.app', 'http://localhost:3000'], \
             allow_origin_regex=r'https://myproj(-[a-z0-9-]+)?\\.vercel\\.app', allow_methods=['*'])\n\
             @router.delete('/x')\ndef x(): ...\n",
        );
        assert_eq!(found, vec![("SG221", 2)]);
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
    fn origins_written_in_the_code_are_hardcoded() {
        let found = ids("import os\n\
             ORIGINS = ['https://a.example.com', 'http://localhost:3000']\n\
             FRONT = 'https://b.example.com'\n\
             CORSMiddleware(api, allow_origins=ORIGINS, allow_methods=['*'])\n\
             CORSMiddleware(api, allow_origins=[FRONT, 'http://localhost:5173'], allow_methods=['*'])\n\
             CORSMiddleware(api, allow_origins='*', allow_methods=['*'])\n");
        assert_eq!(found, vec![("SG221", 2), ("SG221", 5), ("SG221", 6)]);
    }

    #[test]
    fn origins_written_in_tests_are_not_hardcoded() {
        let code =
            "CORSMiddleware(api, allow_origins=['http://testserver'], allow_methods=['*'])\n";
        let found = rules::found(
            check,
            &[
                ("tests/test_cors.py", code),
                ("backend/tests/helpers.py", code),
                ("app/conftest.py", code),
            ],
        );
        assert_eq!(found, vec![]);
    }

    #[test]
    fn origins_read_from_configuration_are_not_hardcoded() {
        let found = ids("import os\n\
             FRONT = os.getenv('FRONTEND_URL', 'http://localhost:3000')\n\
             extra = ['https://a.example.com']\n\
             extra.extend(os.environ.get('MORE', '').split(','))\n\
             CORSMiddleware(api, allow_origins=[FRONT, 'http://localhost:3000'], allow_methods=['*'])\n\
             CORSMiddleware(api, allow_origins=settings.cors_origins, allow_methods=['*'])\n\
             CORSMiddleware(api, allow_origins=extra, allow_methods=['*'])\n\
             CORSMiddleware(api, allow_origins=[], allow_methods=['*'])\n\
             CORSMiddleware(api, allow_origins=os.environ['ORIGINS'].split(','), allow_methods=['*'])\n");
        assert_eq!(found, vec![]);
    }

    #[test]
    fn a_wildcard_settings_default_with_credentials_is_reported() {
        let config = "from pydantic_settings import BaseSettings\n\
            from pydantic import Field\n\
            class Settings(BaseSettings):\n    cors_origins: str = Field(default='*')\n    \
            safe_origins: str = 'https://app.example.com'\n\
            settings = Settings()\n";
        let main = "from app.config import settings\n\
            CORSMiddleware(a, allow_origins=settings.cors_origins.split(','), allow_credentials=True)\n\
            CORSMiddleware(a, allow_origins=settings.cors_origins.split(','), allow_credentials=False)\n\
            CORSMiddleware(a, allow_origins=settings.safe_origins.split(','), allow_credentials=True)\n";
        let found = rules::found(check, &[("app/config.py", config), ("app/main.py", main)]);
        assert_eq!(found, vec![("SG202", 2)]);
    }

    #[test]
    fn comprehensions_and_environment_defaults_are_followed() {
        let config =
            "class Settings(BaseSettings):\n    cors_origins: str = '*'\nsettings = Settings()\n";
        let main = "import os\nfrom app.config import settings\n\
            ORIGINS = [o.strip() for o in settings.cors_origins.split(',')]\n\
            RAW = os.getenv('CORS_ORIGINS', '*')\n\
            FRONT = os.environ.get('FRONTEND_URL', 'http://localhost:3000')\n\
            CORSMiddleware(a, allow_origins=ORIGINS, allow_credentials=True)\n\
            CORSMiddleware(a, allow_origins=RAW.split(','), allow_credentials=True)\n\
            CORSMiddleware(a, allow_origins=[FRONT], allow_credentials=True)\n\
            CORSMiddleware(a, allow_origins=[os.getenv('WEB', '*')], allow_credentials=True)\n";
        let found = rules::found(check, &[("app/config.py", config), ("app/main.py", main)]);
        assert_eq!(found, vec![("SG202", 6), ("SG202", 7), ("SG202", 9)]);
    }

    #[test]
    fn a_wildcard_appended_to_the_origins_with_credentials_is_reported() {
        let found = ids("origins = ['https://app.example.com']\n\
             if DEBUG:\n    origins.append('*')\n\
             more = ['https://app.example.com']\n\
             more.extend(['https://b.example.com'])\n\
             CORSMiddleware(a, allow_origins=origins, allow_credentials=True, allow_methods=['*'])\n\
             CORSMiddleware(a, allow_origins=more, allow_credentials=True, allow_methods=['*'])\n");
        assert_eq!(found, vec![("SG221", 1), ("SG202", 3), ("SG221", 4)]);
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

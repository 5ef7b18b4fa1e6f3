//! The Spaces header of `README.md` and what the README tells readers to do. The Hub rejects a
//! push whose header breaks its rules ("your push was rejected during YAML metadata
//! verification"), and a Docker Space without `sdk: docker` never runs the Dockerfile.

use std::collections::HashSet;

use yaml_rust2::Yaml;

use super::super::python::{Kind, Module};
use super::super::readme::{self, Header, FILE};
use super::super::readme_body;
use super::super::{Finding, Rule, Severity};
use super::app::HEALTH;
use super::Facts;

pub(crate) static MISSING: Rule = Rule {
    id: "SG301",
    name: "readme-header-missing",
    severity: Severity::Error,
    why: "the Hub reads a Space's SDK and port from the YAML header of README.md; without it the Space is not configured",
    fix: "start README.md with a `---` block holding at least `sdk: docker` and `app_port: 7860`",
    doc: "A Space repository is configured by the YAML block at the top of README.md, between two `---` lines: `title`, `emoji`, `colorFrom`, `colorTo`, `sdk`, `app_port`, `short_description`, `license`. A Docker Space needs `sdk: docker`; `app_port` defaults to 7860. A README without the block (or a repository without README.md) leaves the Space unconfigured.",
};

pub(crate) static INVALID: Rule = Rule {
    id: "SG302",
    name: "readme-header-invalid",
    severity: Severity::Error,
    why: "a header that is not a YAML mapping is rejected when pushed to the Hub",
    fix: "make the block between the `---` lines valid YAML: one `key: value` per line",
    doc: "The Hub validates the README header on every push (`/api/validate-yaml`) and rejects the push when it cannot be read: an unclosed `---` block, YAML syntax errors, or a list instead of a mapping.",
};

pub(crate) static SDK: Rule = Rule {
    id: "SG303",
    name: "readme-sdk",
    severity: Severity::Error,
    why: "only `sdk: docker` builds and runs the Dockerfile; any other or missing value runs something else or is rejected",
    fix: "set `sdk: docker` in the README header",
    doc: "`sdk` must be one of `gradio`, `docker` or `static` (`streamlit` is no longer offered). A repository with a Dockerfile is built from it only with `sdk: docker`; with `gradio` or `static` the Dockerfile is ignored.",
};

pub(crate) static PORT: Rule = Rule {
    id: "SG304",
    name: "readme-app-port",
    severity: Severity::Error,
    why: "`app_port` must be an integer port; anything else is rejected or routes traffic nowhere",
    fix: "write `app_port: 7860` (or the port the server listens on) as a bare integer",
    doc: "`app_port` tells the Hub which container port to send traffic to (default 7860). It must be an integer between 1 and 65535: a quoted string, a list or a port out of range is rejected or leaves the Space unreachable.",
};

pub(crate) static COLORS: Rule = Rule {
    id: "SG305",
    name: "readme-colors",
    severity: Severity::Error,
    why: "the Hub rejects any `colorFrom`/`colorTo` outside red, yellow, green, blue, indigo, purple, pink and gray",
    fix: "pick `colorFrom` and `colorTo` from red, yellow, green, blue, indigo, purple, pink, gray",
    doc: "The push is rejected with '\"colorFrom\" must be one of [red, yellow, green, blue, indigo, purple, pink, gray]'. `orange` and `teal` are rejected too, although a Hub documentation page uses `orange` as its example.",
};

pub(crate) static SHORT_DESCRIPTION: Rule = Rule {
    id: "SG306",
    name: "readme-short-description",
    severity: Severity::Error,
    why: "the Hub rejects a `short_description` longer than 60 characters",
    fix: "shorten `short_description` to 60 characters at most",
    doc: "A push whose header has a `short_description` over 60 characters is rejected with '\"short_description\" length must be less than or equal to 60 characters long'.",
};

pub(crate) static HUGGINGFACE_CLI: Rule = Rule {
    id: "SG307",
    name: "readme-huggingface-cli",
    severity: Severity::Warning,
    why: "`huggingface-cli` is gone from huggingface_hub 1.0 on: the command a reader copies does not exist",
    fix: "use `hf` (`hf auth login`, `hf upload …`), or set HF_TOKEN",
    doc: "huggingface_hub 1.0.0 removed the `huggingface-cli` console script; only `hf` remains (`hf auth login`, `hf upload`, `hf download`). Instructions that say `huggingface-cli login` fail with 'command not found' on a current install.",
};

pub(crate) static PERSISTENT_DATA: Rule = Rule {
    id: "SG308",
    name: "readme-persistent-data",
    severity: Severity::Warning,
    why: "`suggested_storage` asks for persistent storage Spaces no longer offer: whatever the app writes is lost on every restart",
    fix: "drop `suggested_storage`; keep durable data in a database (e.g. Neon) or a Storage Bucket",
    doc: "The Hub removed the persistent storage tiers: the disk of a Space is ephemeral and wiped on restart or rebuild, `suggested_storage` is ignored, and `/data` is not a persistent volume. Storage Buckets are the documented persistence now; a SQLite file in the container is lost on every restart.",
};

pub(crate) static NO_ENDPOINTS: Rule = Rule {
    id: "SG309",
    name: "readme-no-endpoints",
    severity: Severity::Warning,
    why: "the README is what users of the API read, and it names none of the endpoints the app serves",
    fix: "list the endpoints in README.md: method, path and what each takes and returns (a table or a list)",
    doc: r#"
A Space's README.md is its page on the Hub: the first, and often the only, thing a user of the
API reads. This rule reports a README whose body names none of the app's own endpoints.

The endpoints are the routes the Python code declares (`@app.get("/x")`, `@router.post(…)`,
`api_route`, `add_api_route`), with the `prefix` of an `APIRouter(prefix=…)` in the same file.
The framework's pages (`/docs`, `/redoc`, `/openapi.json`), `/`, health routes (`/health`,
`/healthz`, `/ping`, …), routes with `include_in_schema=False`, routes of test files and
routes whose path is only parameters do not count: naming them documents nothing about the API.

An endpoint is documented when the body names its path anywhere: in prose, a code span, a table
cell, a curl line or a URL (`https://your-space.hf.space/api/predict?x=1`), with or without the
method, and with or without a prefix the app adds when it includes the router (`/api/v1/items`
documents `@router.get("/items")`). Path parameters match any segment and may be written in any
style (`{id}`, `<id>`, `:id`, or an example value). A code span holding the path without its
leading slash (`` `predict` ``), the endpoint's last name followed by "endpoint" or "route"
("the predict endpoint"), and a link to a Markdown document of the API (`docs/API.md`,
`ENDPOINTS.md`) count too. Routes that answer with a page, a redirect or a file
(`response_class=HTMLResponse`, `RedirectResponse`, `FileResponse`) are not API endpoints.

No finding when the routes cannot be determined (a path computed at run time), when the app
declares no endpoint of its own, when there is no README.md (SG301 reports that) or when the
header names another SDK. Documentation only: the Space runs either way.
"#,
};

pub(crate) static PORT_CONTRADICTED: Rule = Rule {
    id: "SG310",
    name: "readme-port-contradicts-app-port",
    severity: Severity::Warning,
    why: "the README tells users to reach the image on a port it does not serve: `app_port` says the server listens elsewhere",
    fix: "publish the port the image listens on (`docker run -p 7860:7860 …`, or `-p 8000:7860` to use 8000 on the host)",
    doc: r#"
A `docker run -p HOST:CONTAINER` line publishes the container's port CONTAINER. A Space's
server answers on `app_port` (7860 when the header has none), so a README that runs the Space's
image with `-p 8000:8000` sends users to a port nothing listens on: the browser shows a
connection reset. Write `-p 7860:7860`, or `-p 8000:7860` to reach it on the host's 8000. (When
the Dockerfile starts the server on yet another port, SG103 reports that as well.)

Reported only for a `docker run` of the Space's own image: one the README builds
from its own folder with its own Dockerfile (`docker build -t NAME .`, not
`-f Dockerfile.dev`), one from `registry.hf.space/…`, or, when the
README builds none from its folder, an image it does not build elsewhere and that is neither a
well-known service (postgres, redis, qdrant, …) nor a frontend. Not reported when the
command sets `PORT` (`-e PORT=8000`), passes an env file while the Dockerfile reads `$PORT`, or
replaces the image's command. A port for running the app outside the container
(`uvicorn main:app --port 8000`, `python main.py`, `http://localhost:8000` after a local run)
is no contradiction and is not reported.
"#,
};

pub(crate) static RULES: &[&Rule] = &[
    &MISSING,
    &INVALID,
    &SDK,
    &PORT,
    &COLORS,
    &SHORT_DESCRIPTION,
    &HUGGINGFACE_CLI,
    &PERSISTENT_DATA,
    &NO_ENDPOINTS,
    &PORT_CONTRADICTED,
];

const COLOURS: &[&str] = &[
    "red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray",
];

/// Checks README.md, when the folder looks like a Space backend (it has a Dockerfile).
pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    let project = facts.project;
    let is_space = project.dockerfiles().next().is_some();
    let Some(text) = project.text(FILE) else {
        if is_space {
            findings.push(Finding::new(&MISSING, FILE, 0, "there is no README.md"));
        }
        return;
    };
    body(text, findings);
    if is_space && readme::space(text).is_none_or(|h| !h.other_sdk()) {
        endpoints(facts, text, findings);
        port(project, text, findings);
    }
    let fields = match readme::header(text) {
        Header::Missing => {
            if is_space {
                findings.push(Finding::new(
                    &MISSING,
                    FILE,
                    1,
                    "README.md does not start with a `---` YAML header",
                ));
            }
            return;
        }
        Header::Invalid { line, message } => {
            findings.push(Finding::new(&INVALID, FILE, line, message));
            return;
        }
        Header::Parsed(fields) => fields,
    };
    match fields.get("sdk") {
        None => findings.push(Finding::new(&SDK, FILE, 1, "the header has no `sdk`")),
        Some((Yaml::String(sdk), line))
            if !["gradio", "docker", "static"].contains(&sdk.as_str()) =>
        {
            findings.push(Finding::new(
                &SDK,
                FILE,
                line,
                format!("`sdk: {sdk}` is not one the Hub offers"),
            ));
        }
        Some((Yaml::String(sdk), line)) if sdk != "docker" && is_space => {
            findings.push(Finding::new(
                &SDK,
                FILE,
                line,
                format!("`sdk: {sdk}` ignores the Dockerfile"),
            ))
        }
        Some((Yaml::String(_), _)) => {}
        Some((_, line)) => findings.push(Finding::new(&SDK, FILE, line, "`sdk` is not a string")),
    }
    if let Some((value, line)) = fields.get("app_port") {
        let good = matches!(value, Yaml::Integer(p) if (1..=65535).contains(p));
        if !good {
            findings.push(Finding::new(
                &PORT,
                FILE,
                line,
                format!("`app_port: {}` is not a port number", shown(value)),
            ));
        }
    }
    for key in ["colorFrom", "colorTo"] {
        if let Some((value, line)) = fields.get(key) {
            let good = matches!(value, Yaml::String(c) if COLOURS.contains(&c.as_str()));
            if !good {
                findings.push(Finding::new(
                    &COLORS,
                    FILE,
                    line,
                    format!("`{key}: {}` is not one of the eight colours", shown(value)),
                ));
            }
        }
    }
    if let Some((Yaml::String(d), line)) = fields.get("short_description") {
        let n = d.chars().count();
        if n > 60 {
            findings.push(Finding::new(
                &SHORT_DESCRIPTION,
                FILE,
                line,
                format!("`short_description` is {n} characters long"),
            ));
        }
    }
    if let Some((_, line)) = fields.get("suggested_storage") {
        findings.push(Finding::new(
            &PERSISTENT_DATA,
            FILE,
            line,
            "`suggested_storage` asks for persistent storage, which Spaces no longer offer",
        ));
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
        if super::is_test(file) {
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
    findings.push(Finding::new(&NO_ENDPOINTS, FILE, body.start(), message));
}

/// Images of services a README runs beside the app, never the app itself.
const SERVICES: &[&str] = &[
    "postgres",
    "redis",
    "mongo",
    "mysql",
    "mariadb",
    "qdrant",
    "chromadb",
    "ollama",
    "neo4j",
    "rabbitmq",
    "elasticsearch",
    "opensearch",
    "minio",
    "nginx",
    "memcached",
    "milvus",
    "weaviate",
    "localstack",
    "adminer",
    "pgadmin",
    "mongo-express",
    "selenium",
    "traefik",
    "caddy",
    "grafana",
    "prometheus",
    "jaeger",
    "kafka",
    "zookeeper",
    "vault",
    "mailhog",
];

/// Whether `image` is the Space's own: built from the README's folder (`docker build -t NAME .`),
/// pulled from the Space registry, or (when the README builds nothing there) neither built
/// elsewhere nor a well-known service or a frontend.
fn own_image(image: &str, built: &[(String, bool)]) -> bool {
    if image.starts_with("registry.hf.space/") || built.iter().any(|(b, here)| b == image && *here)
    {
        return true;
    }
    let name = image
        .rsplit('/')
        .next()
        .unwrap_or(image)
        .to_ascii_lowercase();
    !built.iter().any(|(b, here)| *here || b == image)
        && !image.contains('/')
        && !SERVICES.iter().any(|s| name.contains(s))
        && !["frontend", "client"].iter().any(|s| name.contains(s))
}

/// SG310: a `docker run` of the Space's image publishing a port other than `app_port`.
fn port(project: &crate::check::Project, text: &str, findings: &mut Vec<Finding>) {
    let app_port = match readme::header(text) {
        Header::Missing => readme::DEFAULT_APP_PORT,
        Header::Invalid { .. } => return,
        Header::Parsed(_) => match readme::space(text).map(|h| h.app_port) {
            Some(Ok(port)) => port,
            _ => return,
        },
    };
    let reads_port = project
        .dockerfiles()
        .any(|(_, t)| t.contains("$PORT") || t.contains("${PORT"));
    let body = readme_body::body(text);
    let built = body.built_images();
    for run in body.docker_runs() {
        if run.sets_port || run.overrides_command || (run.env_file && reads_port) {
            continue;
        }
        if !own_image(&run.image, &built) || run.published.iter().any(|(p, _)| *p == app_port) {
            continue;
        }
        let Some((port, mapping)) = run.published.first() else {
            continue;
        };
        findings.push(Finding::new(
            &PORT_CONTRADICTED,
            FILE,
            run.line,
            format!(
                "`docker run -p {mapping}` publishes the container's port {port}, not app_port {app_port}, the port the Space's server answers on"
            ),
        ));
    }
}

/// The README's commands: a fenced code block line that runs `huggingface-cli`.
fn body(text: &str, findings: &mut Vec<Finding>) {
    let mut fence: Option<&str> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(open) = fence {
            if trimmed.starts_with(open) {
                fence = None;
                continue;
            }
        } else {
            if trimmed.starts_with("```") {
                fence = Some("```");
            } else if trimmed.starts_with("~~~") {
                fence = Some("~~~");
            }
            continue;
        }
        let command = trimmed
            .trim_start_matches(['$', '>', '!', ' '])
            .trim_start();
        if command.starts_with("huggingface-cli ") || command == "huggingface-cli" {
            let column = line.len() - command.len();
            findings.push(
                Finding::new(
                    &HUGGINGFACE_CLI,
                    FILE,
                    i + 1,
                    format!("the README runs `{}`", command.trim_end()),
                )
                .at_column(line[..column].chars().count() + 1),
            );
        }
    }
}

fn shown(value: &Yaml) -> String {
    match value {
        Yaml::String(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Real(r) => r.clone(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Null => "null".into(),
        _ => "…".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(files: &[(&str, &str)]) -> Vec<(&'static str, usize)> {
        super::super::found(check, files)
    }

    const GOOD: &str = "---\ntitle: Demo API\nemoji: 🚀\ncolorFrom: blue\ncolorTo: indigo\nsdk: docker\napp_port: 7860\nshort_description: FastAPI backend for the Vercel frontend\nlicense: mit\n---\n\nLog in with `hf auth login`.\n";

    #[test]
    fn a_header_the_hub_accepts_passes() {
        assert_eq!(
            found(&[("README.md", GOOD), ("Dockerfile", "FROM x\n")]),
            vec![]
        );
    }

    #[test]
    fn each_header_defect_is_found_at_its_line() {
        let bad = "---\ntitle: A\ncolorFrom: orange\ncolorTo: gray\nsdk: gradio\napp_port: \"7860\"\nshort_description: This description is far too long to be shown on a Space thumbnail card\nsuggested_storage: small\n---\n`huggingface-cli login` no longer exists.\n```sh\n$ huggingface-cli login\n```\n";
        assert_eq!(
            found(&[("README.md", bad), ("Dockerfile", "FROM x\n")]),
            vec![
                ("SG307", 12),
                ("SG303", 5),
                ("SG304", 6),
                ("SG305", 3),
                ("SG306", 7),
                ("SG308", 8),
            ]
        );
    }

    #[test]
    fn a_folder_without_a_dockerfile_is_not_held_to_space_rules() {
        assert_eq!(found(&[("README.md", "# Library\n")]), vec![]);
        assert_eq!(found(&[("Dockerfile", "FROM x\n")]), vec![("SG301", 0)]);
    }

    const HEADER: &str = "---\ntitle: Demo API\nsdk: docker\napp_port: 7860\n---\n";
    const APP: &str = "from fastapi import FastAPI\napp = FastAPI()\n\n@app.get(\"/\")\ndef root():\n    return {}\n\n@app.get(\"/health\")\ndef health():\n    return {}\n\n@app.post(\"/predict\")\ndef predict():\n    return {}\n\n@app.get(\"/items/{item_id}\")\ndef item(item_id: int):\n    return {}\n";

    fn with_readme(body: &str) -> Vec<(&'static str, usize)> {
        let readme = format!("{HEADER}{body}");
        found(&[
            ("README.md", &readme),
            ("Dockerfile", "FROM python:3.12\n"),
            ("app.py", APP),
        ])
    }

    #[test]
    fn a_readme_naming_no_endpoint_is_found_at_its_first_line() {
        assert_eq!(
            with_readme("\n# Demo\n\nA model served with FastAPI. See /docs and /health.\n"),
            vec![("SG309", 7)]
        );
        assert_eq!(with_readme(""), vec![("SG309", 5)]);
    }

    #[test]
    fn any_way_of_naming_an_endpoint_documents_it() {
        for body in [
            "| POST | `/predict` | scores a text |\n",
            "curl -X POST https://me-demo.hf.space/api/v1/predict -d '{}'\n",
            "GET /items/<id> returns one item\n",
            "Fetch `/items/:item_id`, e.g. /items/42.\n",
            "Call `predict` with a text.\n",
            "The predict endpoint scores a text.\n",
        ] {
            assert_eq!(with_readme(body), vec![], "{body}");
        }
    }

    #[test]
    fn framework_health_and_parameter_only_routes_are_not_the_api() {
        let app = "from fastapi import FastAPI\napp = FastAPI()\n@app.get(\"/\")\ndef a(): ...\n@app.get(\"/api/healthz\")\ndef b(): ...\n@app.get(\"/{path:path}\")\ndef c(): ...\n@app.get(\"/debug\", include_in_schema=False)\ndef d(): ...\n";
        let files = |readme: &'static str| {
            found(&[
                ("README.md", readme),
                ("Dockerfile", "FROM x\n"),
                ("app.py", app),
            ])
        };
        assert_eq!(files("---\nsdk: docker\n---\nNothing.\n"), vec![]);
        // The endpoints of a test file are not the app's.
        assert_eq!(
            found(&[
                ("README.md", "---\nsdk: docker\n---\nNothing.\n"),
                ("Dockerfile", "FROM x\n"),
                ("tests/test_api.py", APP),
            ]),
            vec![]
        );
    }

    #[test]
    fn pages_are_not_the_api_and_a_linked_api_document_documents_it() {
        let app = "from fastapi import FastAPI\nfrom fastapi.responses import HTMLResponse, RedirectResponse\napp = FastAPI()\n@app.get(\"/dashboard\", response_class=HTMLResponse)\ndef a(): ...\n@app.get(\"/login\", response_class=RedirectResponse)\ndef b(): ...\n";
        let readme = "---\nsdk: docker\n---\nA dashboard.\n";
        assert_eq!(
            found(&[
                ("README.md", readme),
                ("Dockerfile", "FROM x\n"),
                ("app.py", app)
            ]),
            vec![]
        );
        assert_eq!(
            with_readme("Every endpoint is described in [the API guide](docs/API.md).\n"),
            vec![]
        );
        assert_eq!(
            with_readme("See [the changelog](docs/CHANGES.md).\n"),
            vec![("SG309", 6)]
        );
    }

    #[test]
    fn routes_that_cannot_be_known_give_no_finding() {
        let app = "from fastapi import FastAPI\napp = FastAPI()\nP = compute()\n@app.post(\"/predict\")\ndef a(): ...\n@app.get(P)\ndef b(): ...\n";
        let readme = "---\nsdk: docker\n---\nNothing.\n";
        assert_eq!(
            found(&[
                ("README.md", readme),
                ("Dockerfile", "FROM x\n"),
                ("app.py", app)
            ]),
            vec![]
        );
        // Nor a Space of another SDK, nor a folder without a Dockerfile.
        let gradio = "---\nsdk: gradio\n---\nNothing.\n";
        assert_eq!(
            found(&[
                ("README.md", gradio),
                ("Dockerfile", "FROM x\n"),
                ("app.py", APP)
            ]),
            vec![("SG303", 2)]
        );
        assert_eq!(
            found(&[("README.md", "Nothing.\n"), ("app.py", APP)]),
            vec![]
        );
    }

    #[test]
    fn a_router_prefix_is_part_of_the_path() {
        let api = "from fastapi import APIRouter\nrouter = APIRouter(prefix=\"/tasks\")\n@router.get(\"/\")\ndef all(): ...\n@router.get(\"/{task_id}\")\ndef one(task_id: int): ...\n";
        let files = |readme: &'static str| {
            found(&[
                ("README.md", readme),
                ("Dockerfile", "FROM x\n"),
                ("api.py", api),
            ])
        };
        assert_eq!(
            files("---\nsdk: docker\n---\n- GET /api/tasks/{id}\n"),
            vec![]
        );
        assert_eq!(files("---\nsdk: docker\n---\n- GET /api/tasks\n"), vec![]);
        assert_eq!(
            files("---\nsdk: docker\n---\n- GET /api/notes\n"),
            vec![("SG309", 4)]
        );
        let named = "from fastapi import APIRouter\nPREFIX = \"/tasks\"\nrouter = APIRouter(prefix=PREFIX)\n@router.get(\"\")\ndef all(): ...\n";
        assert_eq!(
            found(&[
                ("README.md", "---\nsdk: docker\n---\n- GET /notes\n"),
                ("Dockerfile", "FROM x\n"),
                ("api.py", named),
            ]),
            vec![("SG309", 4)]
        );
        // A prefix that is not a literal leaves the endpoints unknown.
        let computed = named.replace("PREFIX = \"/tasks\"", "PREFIX = os.environ[\"PREFIX\"]");
        assert_eq!(
            found(&[
                ("README.md", "---\nsdk: docker\n---\n- GET /notes\n"),
                ("Dockerfile", "FROM x\n"),
                ("api.py", &computed),
            ]),
            vec![]
        );
    }

    fn port_findings(readme: &str) -> Vec<(&'static str, usize)> {
        let docs = "The predict endpoint scores a text.\n";
        let readme = format!("{readme}{docs}");
        found(&[
            ("README.md", &readme),
            (
                "Dockerfile",
                "FROM python:3.12\nCMD uvicorn app:app --port ${PORT:-7860}\n",
            ),
            ("app.py", APP),
        ])
    }

    #[test]
    fn a_docker_run_publishing_another_port_than_app_port_is_found() {
        let build = "```sh\ndocker build -t demo .\ndocker run --rm \\\n  -p 8000:8000 demo\n```\n";
        assert_eq!(
            port_findings(&format!("{HEADER}{build}")),
            vec![("SG310", 8)]
        );
        let pulled = "Run `docker run -it -p 8000:8000 registry.hf.space/me-demo:latest`.\n";
        assert_eq!(
            port_findings(&format!("{HEADER}{pulled}")),
            vec![("SG310", 6)]
        );
        // Without a header the Space serves on 7860.
        assert_eq!(
            port_findings("# Demo\n\n    docker run -p 8080:8080 demo-api\n"),
            vec![("SG310", 3), ("SG301", 1)]
        );
    }

    #[test]
    fn ports_that_agree_or_are_not_the_space_image_are_not_contradictions() {
        for run in [
            "docker build -t demo .\ndocker run -p 8000:7860 demo\n",
            "docker build -t demo .\ndocker run -p 7860:7860 demo\n",
            "docker build -t demo .\ndocker run -p 8000:8000 -e PORT=8000 demo\n",
            "docker build -t demo .\ndocker run -p 8000:8000 --env-file .env demo\n",
            "docker build -t demo .\ndocker run -p 8000:8000 demo uvicorn app:app --port 8000\n",
            "docker build -t web ./frontend\ndocker run -p 3000:3000 web\n",
            "docker build -f Dockerfile.dev -t dev .\ndocker run -p 8000:8000 dev\n",
            "docker build -t demo .\ndocker run -p 3000:3000 my-frontend\n",
            "docker run -d -p 5432:5432 postgres:16\ndocker run -p 6333:6333 qdrant/qdrant\n",
            "Locally: `uvicorn app:app --port 8000`, then open http://localhost:8000/docs.\n",
        ] {
            assert_eq!(port_findings(&format!("{HEADER}{run}")), vec![], "{run}");
        }
        let port_8000 = "---\nsdk: docker\napp_port: 8000\n---\ndocker run -p 8000:8000 demo\n";
        assert_eq!(port_findings(port_8000), vec![]);
    }
}

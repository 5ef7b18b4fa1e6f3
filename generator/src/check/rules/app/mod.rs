//! The FastAPI application as a Space serves it: a health route, a root route, a SQLite file
//! the container's user can write, and no database connection opened at import time. These
//! rules look only at projects that build a FastAPI app (some file calls `FastAPI(`) and whose
//! README does not declare a non-Docker SDK; a route whose path is computed makes the route
//! rules say nothing. The route rules read only the served modules (see [`super::served`]), with
//! each router's prefixes: a GET route or a `/{path:path}` catch-all answers `/`, a `POST /`
//! does not, nor does a `StaticFiles` mount of a folder the image never copies.
//!
//! [`root_owned_workdir`] and [`sqlite_files`] are also what the Dockerfile family reads.

pub(super) mod db_connection_at_import;
pub(super) mod no_health_route;
pub(super) mod no_root_route;
pub(super) mod sqlite_in_root_owned_folder;

use super::Facts;
use crate::check::python::{self, Call, Module};
use crate::check::Project;

/// Last path segments that name a health route.
pub(crate) const HEALTH: &[&str] = &[
    "health",
    "healthz",
    "healthcheck",
    "health-check",
    "health_check",
    "ping",
    "status",
    "ready",
    "readyz",
    "livez",
    "alive",
];

/// The most `include_router` calls followed for one route: past them its path is unknown.
const MAX_INCLUDES: usize = 256;

/// The served modules, and the `FastAPI(...)` call the first of them that makes one makes
/// (with its file), when the project builds a FastAPI app and its README does not declare a
/// non-Docker SDK: the rules of this family say nothing otherwise.
pub(super) fn fastapi_app<'a>(facts: &'a Facts<'_>) -> Option<App<'a>> {
    let served: Vec<(&str, &Module)> = facts
        .python
        .iter()
        .filter(|(f, _)| facts.served.includes(f))
        .map(|(f, m)| (*f, m))
        .collect();
    let (file, call) = served.iter().find_map(|(f, m)| {
        m.calls
            .iter()
            .find(|c| c.method() == "FastAPI")
            .map(|c| (*f, c))
    })?;
    docker_sdk(facts.project).then_some(App { served, file, call })
}

/// A FastAPI app a Space serves.
pub(super) struct App<'a> {
    /// The modules the Space serves.
    pub served: Vec<(&'a str, &'a Module)>,
    /// The file that calls `FastAPI(...)`.
    pub file: &'a str,
    /// That call.
    pub call: &'a Call,
}

impl App<'_> {
    /// Every route of the served modules, as (methods, path with its routers' prefixes);
    /// `None` when a path or a prefix is computed (or past [`MAX_INCLUDES`] inclusions).
    pub(super) fn routes(&self) -> Option<Vec<(Vec<String>, String)>> {
        let modules = &self.served;
        let mut routes: Vec<(Vec<String>, String)> = Vec::new();
        for (file, module) in modules {
            for route in module.routes() {
                let path = route.path?;
                let receiver = module
                    .calls
                    .iter()
                    .find(|c| c.place == route.place)
                    .and_then(Call::receiver)
                    .unwrap_or("");
                let mut budget = MAX_INCLUDES;
                let prefixes = prefixes(modules, file, module, receiver, 0, &mut budget)?;
                for prefix in prefixes {
                    routes.push((route.methods.clone(), format!("{prefix}{path}")));
                }
            }
        }
        Some(routes)
    }
}

/// Whether the README's front matter, if any, says `sdk: docker` (or says nothing).
fn docker_sdk(project: &Project) -> bool {
    let Some(readme) = project.text("README.md") else {
        return true;
    };
    let Some(header) = readme
        .strip_prefix("---")
        .and_then(|rest| rest.split("\n---").next())
    else {
        return true;
    };
    header
        .lines()
        .filter_map(|l| l.strip_prefix("sdk:"))
        .all(|v| v.trim().trim_matches(['"', '\'']) == "docker")
}

/// The prefixes the routes declared on `receiver` in `file` are served under: an `APIRouter`'s
/// own `prefix` after the `prefix` of every `include_router` that includes it (through routers
/// that include routers, a few levels deep). A router no served module is seen including keeps
/// its own prefix. `None` when a prefix is computed, or past [`MAX_INCLUDES`] inclusions.
fn prefixes(
    modules: &[(&str, &Module)],
    file: &str,
    module: &Module,
    receiver: &str,
    depth: usize,
    budget: &mut usize,
) -> Option<Vec<String>> {
    let Some(router) = router_call(module, receiver) else {
        return Some(vec![String::new()]);
    };
    let own = match router.keyword("prefix") {
        Some(v) => module.literal(v).and_then(|v| v.as_str())?.to_owned(),
        None => String::new(),
    };
    if depth > 4 {
        return Some(vec![own]);
    }
    let stem = {
        let name = file.rsplit('/').next().unwrap_or(file);
        match name.strip_suffix(".py") {
            Some("__init__") => file.rsplit('/').nth(1).unwrap_or(""),
            Some(stem) => stem,
            None => name,
        }
    };
    let mut found = Vec::new();
    for (other_file, other) in modules {
        for include in other
            .calls
            .iter()
            .filter(|c| c.method() == "include_router")
        {
            let Some(python::Kind::Name(name)) = include.arg(0, "router").map(|v| &v.kind) else {
                continue;
            };
            // `from pkg.stem import receiver [as name]`, then `include_router(name)`.
            let imported = other.imports.iter().any(|i| {
                i.name.as_deref() == Some(receiver)
                    && i.alias.as_deref().or(i.name.as_deref()) == Some(name.as_str())
                    && i.module.rsplit('.').next() == Some(stem)
            });
            let refers = (name == receiver && *other_file == file)
                || imported
                || *name == format!("{stem}.{receiver}");
            if !refers {
                continue;
            }
            *budget = budget.checked_sub(1)?;
            let given = match include.keyword("prefix") {
                Some(v) => other.literal(v).and_then(|v| v.as_str())?.to_owned(),
                None => String::new(),
            };
            let outer = match include.receiver() {
                Some(r) => prefixes(modules, other_file, other, r, depth + 1, budget)?,
                None => vec![String::new()],
            };
            found.extend(outer.into_iter().map(|o| format!("{o}{given}{own}")));
        }
    }
    if found.is_empty() {
        found.push(own);
    }
    Some(found)
}

/// The `APIRouter(...)` call `name` is assigned once at module level, if it is one.
fn router_call<'a>(module: &'a Module, name: &str) -> Option<&'a Call> {
    let mut assigns = module
        .assigns
        .iter()
        .filter(|a| a.module_level && a.target == name);
    let (Some(assign), None) = (assigns.next(), assigns.next()) else {
        return None;
    };
    let python::Kind::Call(callee) = &assign.value.kind else {
        return None;
    };
    module
        .calls
        .iter()
        .find(|c| &c.name == callee && c.place == assign.value.place && c.method() == "APIRouter")
}

/// The final stage of the root Dockerfile, when it proves a root-owned working directory:
/// that directory.
pub(crate) fn root_owned_workdir(project: &Project) -> Option<String> {
    let text = project.text("Dockerfile")?;
    let joined = text.replace("\\\r\n", " ").replace("\\\n", " ");
    let instructions: Vec<(String, String)> = joined
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (word, rest) = l.split_once(char::is_whitespace)?;
            Some((word.to_ascii_uppercase(), rest.trim().to_owned()))
        })
        .collect();
    let from = instructions.iter().rposition(|(w, _)| w == "FROM")?;
    let stage = &instructions[from..];
    let image = stage[0]
        .1
        .split_whitespace()
        .find(|w| !w.starts_with("--"))?
        .trim_start_matches("docker.io/library/");
    if !(image == "python" || image.starts_with("python:")) {
        return None;
    }
    let workdir_at = stage.iter().rposition(|(w, _)| w == "WORKDIR")?;
    let workdir = stage[workdir_at]
        .1
        .trim_matches('"')
        .trim_end_matches('/')
        .to_owned();
    if !workdir.starts_with('/')
        || workdir.contains('$')
        || workdir.starts_with("/tmp")
        || workdir.starts_with("/home")
    {
        return None;
    }
    if stage[..workdir_at].iter().any(|(w, _)| w == "USER") {
        return None;
    }
    let loosened = stage.iter().any(|(w, rest)| {
        let rest = rest.to_ascii_lowercase();
        ((w == "RUN") && (rest.contains("chown") || rest.contains("chmod")))
            || ((w == "COPY" || w == "ADD")
                && (rest.contains("--chown") || rest.contains("--chmod")))
            || ((w == "CMD" || w == "ENTRYPOINT") && (rest.contains("cd ") || rest.contains(".sh")))
    });
    (!loosened).then_some(workdir)
}

/// A SQLite file path in a URL (`sqlite+aiosqlite:///./data/app.db`).
fn sqlite_url_path(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once(":///")?;
    if !(scheme == "sqlite" || scheme.starts_with("sqlite+")) {
        return None;
    }
    Some(rest.split('?').next().unwrap_or(rest))
}

/// The SQLite files `module` opens with a literal path, or with a URL read from the environment
/// with a literal default: (the literal, the file's path), memory databases and `file:` URIs
/// left out.
pub(crate) fn sqlite_files(module: &Module) -> Vec<(&python::Value, &str)> {
    let mut files = Vec::new();
    for call in &module.calls {
        let path = match call.name.as_str() {
            "sqlite3.connect" | "aiosqlite.connect" => call
                .arg(0, "database")
                .and_then(|v| module.literal(v))
                .and_then(|v| v.as_str().map(|s| (v, s))),
            // A URL read from the environment falls back to its default whenever the
            // variable is unset: that default is where the app writes then.
            _ if matches!(call.method(), "create_engine" | "create_async_engine") => call
                .arg(0, "url")
                .and_then(|v| module.literal(v).or_else(|| module.env_default(v)))
                .and_then(|v| v.as_str().and_then(sqlite_url_path).map(|s| (v, s))),
            _ => None,
        };
        let Some((value, path)) = path else { continue };
        if path.is_empty() || path.starts_with(':') || path.starts_with("file:") {
            continue;
        }
        files.push((value, path));
    }
    files
}

#[cfg(test)]
mod tests {
    use crate::check::rules::Facts;
    use crate::check::Project;

    fn found(files: &[(&str, &str)]) -> Vec<(&'static str, usize)> {
        super::super::found_by("app", files)
    }

    #[test]
    fn route_rules_need_a_fastapi_app_and_literal_paths() {
        let bare =
            "from fastapi import FastAPI\napp = FastAPI()\n@app.post('/items')\ndef add(): ...\n";
        assert_eq!(
            found(&[("main.py", bare)]),
            vec![("SG215", 2), ("SG216", 2)]
        );
        let served = "app = FastAPI()\n@app.get('/')\ndef root(): ...\n@router.get('/api/healthz')\ndef h(): ...\n";
        assert_eq!(found(&[("main.py", served)]), vec![]);
        let computed = "app = FastAPI()\n@app.get(PREFIX + '/x')\ndef x(): ...\n";
        assert_eq!(found(&[("main.py", computed)]), vec![]);
        let flask = "app = Flask(__name__)\n";
        assert_eq!(found(&[("main.py", flask)]), vec![]);
        let gradio = [
            ("main.py", bare),
            ("README.md", "---\ntitle: x\nsdk: gradio\n---\n"),
        ];
        assert_eq!(found(&gradio), vec![]);
        let mounted = "app = FastAPI()\napp.mount('/', StaticFiles(directory='static', html=True))\n@app.get('/health')\ndef h(): ...\n";
        assert_eq!(found(&[("main.py", mounted)]), vec![]);
    }

    #[test]
    fn only_the_served_modules_count() {
        let docker = "FROM python:3.12\nWORKDIR /code\nCOPY . .\nCMD [\"uvicorn\", \"main:app\"]\n";
        let main = "from fastapi import FastAPI\napp = FastAPI()\n@app.get('/')\ndef r(): ...\n";
        let old =
            "from fastapi import FastAPI\napp = FastAPI()\n@app.get('/health')\ndef h(): ...\n";
        let files = [
            ("Dockerfile", docker),
            ("main.py", main),
            ("old/main.py", old),
        ];
        assert_eq!(found(&files), vec![("SG215", 2)]);
        // The command names a module the image does not hold: nothing is served.
        let missing = docker.replace("main:app", "server:app");
        let files = [("Dockerfile", missing.as_str()), ("main.py", old)];
        assert_eq!(found(&files), vec![]);
    }

    #[test]
    fn routers_prefixes_methods_and_catch_alls() {
        let app = |routes: &str| format!("from fastapi import FastAPI\napp = FastAPI()\n{routes}");
        let prefixed = app("router = APIRouter(prefix='/items')\n@router.get('/')\ndef l(): ...\n@app.get('/health')\ndef h(): ...\napp.include_router(router)\n");
        assert_eq!(found(&[("main.py", &prefixed)]), vec![("SG216", 2)]);
        let included = app("router = APIRouter()\n@router.get('/')\ndef l(): ...\n@router.get('/health')\ndef h(): ...\napp.include_router(router, prefix='/api/v1')\n");
        assert_eq!(found(&[("main.py", &included)]), vec![("SG216", 2)]);
        let aliased = "from fastapi import FastAPI\nfrom routers.items import router as items_router\napp = FastAPI()\napp.include_router(items_router, prefix='/items')\n@app.get('/health')\ndef h(): ...\n";
        let items =
            "from fastapi import APIRouter\nrouter = APIRouter()\n@router.get('/')\ndef l(): ...\n";
        assert_eq!(
            found(&[("main.py", aliased), ("routers/items.py", items)]),
            vec![("SG216", 3)]
        );
        let main = "from fastapi import FastAPI\nfrom routers import health\napp = FastAPI()\napp.include_router(health.router, prefix='/health')\n@app.get('/')\ndef r(): ...\n";
        let health =
            "from fastapi import APIRouter\nrouter = APIRouter()\n@router.get('')\ndef h(): ...\n";
        assert_eq!(
            found(&[("main.py", main), ("routers/health.py", health)]),
            vec![]
        );
        let spa = app("@app.get('/health')\ndef h(): ...\n@app.get('/{full_path:path}')\ndef spa(full_path: str): ...\n");
        assert_eq!(found(&[("main.py", &spa)]), vec![]);
        let post = app("@app.get('/health')\ndef h(): ...\n@app.post('/')\ndef p(): ...\n");
        assert_eq!(found(&[("main.py", &post)]), vec![("SG216", 2)]);
        let mut findings = Vec::new();
        super::no_root_route::check(
            &Facts::of(&Project::from_files(&[("main.py", &post)])),
            &mut findings,
        );
        assert_eq!(
            findings[0].message,
            "only POST answers `/`: a browser's GET / gets 405 Method Not Allowed"
        );
        let computed = app("router = APIRouter(prefix=PREFIX)\n@router.get('/')\ndef l(): ...\n");
        assert_eq!(found(&[("main.py", &computed)]), vec![]);
    }

    #[test]
    fn routers_including_each_other_without_end_are_bounded() {
        let mut code = String::from(
            "app = FastAPI()\nr = APIRouter(prefix='/a')\n@r.get('/')\ndef x(): ...\n",
        );
        for _ in 0..300 {
            code.push_str("r.include_router(r, prefix='/b')\n");
        }
        let started = std::time::Instant::now();
        assert_eq!(found(&[("main.py", &code)]), vec![]);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn a_static_mount_of_a_folder_the_image_never_copies() {
        let docker =
            "FROM python:3.12\nWORKDIR /app\nCOPY backend/ .\nCMD [\"uvicorn\", \"main:app\"]\n";
        let main = "from pathlib import Path\nfrom fastapi import FastAPI\nfrom fastapi.staticfiles import StaticFiles\napp = FastAPI()\n@app.get('/health')\ndef h(): ...\nDIST = Path(__file__).parent.parent / 'frontend' / 'dist'\nif DIST.exists():\n    app.mount('/', StaticFiles(directory=str(DIST), html=True))\n";
        let files = [
            ("Dockerfile", docker),
            ("backend/main.py", main),
            ("frontend/package.json", "{}"),
        ];
        assert_eq!(found(&files), vec![("SG216", 4)]);
        let everything = docker.replace("COPY backend/ .", "COPY . .");
        let files = [
            ("Dockerfile", everything.as_str()),
            ("backend/main.py", main),
            ("frontend/package.json", "{}"),
        ];
        assert_eq!(found(&files), vec![]);
    }

    #[test]
    fn sqlite_in_a_root_owned_workdir() {
        let code =
            "app = FastAPI()\n@app.get('/')\ndef r(): ...\n@app.get('/health')\ndef h(): ...\n\
                    engine = create_engine('sqlite:///./data.db')\n";
        let root_owned = "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nUSER 1000\nCMD [\"uvicorn\", \"main:app\"]\n";
        assert_eq!(
            found(&[("main.py", code), ("Dockerfile", root_owned)]),
            vec![("SG217", 6)]
        );
        let fallback = "import os\napp = FastAPI()\n@app.get('/')\ndef r(): ...\n@app.get('/health')\ndef h(): ...\n\
                    URL = os.getenv('DATABASE_URL', 'sqlite:///./app.db')\nengine = create_engine(URL)\n";
        assert_eq!(
            found(&[("main.py", fallback), ("Dockerfile", root_owned)]),
            vec![("SG217", 7)]
        );
        let chowned = root_owned.replace("COPY . .", "COPY --chown=user . .");
        assert_eq!(
            found(&[("main.py", code), ("Dockerfile", &chowned)]),
            vec![]
        );
        let home = "FROM python:3.11\nRUN useradd -m -u 1000 user\nUSER user\nWORKDIR /home/user/app\nCOPY . .\n";
        assert_eq!(found(&[("main.py", code), ("Dockerfile", home)]), vec![]);
    }

    #[test]
    fn connections_at_import_time_in_serving_modules() {
        let code = "import sqlite3\napp = FastAPI()\nconn = sqlite3.connect('x.db', check_same_thread=False)\n\
                    def get():\n    return sqlite3.connect('x.db')\n@app.get('/')\ndef r(): ...\n@app.get('/health')\ndef h(): ...\n";
        assert_eq!(found(&[("main.py", code)]), vec![("SG218", 3)]);
        let script = "import sqlite3\nconn = sqlite3.connect('x.db')\n";
        let app =
            "app = FastAPI()\n@app.get('/')\ndef r(): ...\n@app.get('/health')\ndef h(): ...\n";
        assert_eq!(found(&[("main.py", app), ("seed.py", script)]), vec![]);
    }
}

//! The Dockerfile family (`SG101`…): defects of a Space's `Dockerfile` that the files prove.
//! Only files named `Dockerfile` are read (the one a Space builds, with its folder as the build
//! context); the Space-only rules (user, port, bind address, proxy) apply when the folder's
//! README header is absent or says `sdk: docker`. Every finding is at the line of the
//! instruction (or start-script line) it is about; nothing is reported from a guess.

mod program;
mod request_urls;
pub(crate) mod server;
mod writes;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::str::FromStr;

use pep440_rs::{Operator, Version};

use super::super::dockerfile::{self, Dockerfile, Instruction, Stage};
use super::super::ignore_file::{clean, IgnoreFile};
use super::super::installs::{self, Tool};
use super::super::readme::{self, SpaceHeader};
use super::super::{secret, Finding, Project, Rule, Severity};
use super::Facts;
use crate::check::python::Module;
use crate::requirement::Requirement;
use server::{Kind, Server};

pub(crate) static ROOT_USER: Rule = Rule {
    id: "SG101",
    name: "docker-root-user",
    severity: Severity::Error,
    why: "Spaces run the container as uid 1000; in this image built for root, the app writes where uid 1000 cannot, and fails with 'Permission denied'",
    fix: "RUN useradd -m -u 1000 user, then USER user before WORKDIR and COPY --chown=user",
    doc: "
The final stage of the Dockerfile never switches to an unprivileged user (or switches back to
root), its base image runs as root, and the app writes at run time where uid 1000 cannot: it
creates a folder or writes a file inside the root-owned working directory, keeps a SQLite file
there, points a model cache (HF_HOME, TRANSFORMERS_CACHE, …) there, or starts with `poetry run`
after `poetry install` made its virtualenv under /root. An image built for root whose app only
reads works on a Space, so it is not reported; the finding names the write that proves it.

Hugging Face runs every Docker Space as user ID 1000 (hub-docs: docs/hub/spaces-sdks-docker.md,
Permissions): files the build created as root are then read-only for the app, and HOME does not
point at a folder it owns, so caches (pip, huggingface_hub, torch) and any file the app writes
fail with 'Permission denied' only once the Space runs. The documented pattern:

    RUN useradd -m -u 1000 user
    USER user
    ENV HOME=/home/user PATH=/home/user/.local/bin:$PATH
    WORKDIR /app
    COPY --chown=user . /app
",
};

pub(crate) static ROOT_OWNED_WRITE: Rule = Rule {
    id: "SG102",
    name: "docker-root-owned-write",
    severity: Severity::Error,
    why: "after USER, the build writes into a folder root created, so the build fails with 'Permission denied'",
    fix: "create the folder as root and chown it to the user first, or create it after USER in a folder the user owns",
    doc: "
A RUN after `USER <non-root>` creates a file or folder (mkdir, touch) directly inside a folder
the same Dockerfile created as root: a WORKDIR or mkdir before the USER, or a COPY/ADD without
--chown. Only the owner (root) may write there, so the build stops with 'Permission denied'.
Create the folder before switching user and give it away in the same step
(`RUN mkdir -p /app/data && chown user:user /app /app/data`), copy with `--chown=user`, or set the
WORKDIR after USER (BuildKit then creates it for that user).
",
};

pub(crate) static PORT_MISMATCH: Rule = Rule {
    id: "SG103",
    name: "docker-port-mismatch",
    severity: Severity::Error,
    why: "the Space routes traffic to app_port (7860 unless the README says otherwise); a server on another port is never reached",
    fix: "start the server with --port equal to app_port (port= in uvicorn.run), or set app_port in the README header to the server's port",
    doc: "
Hugging Face sends a Docker Space's traffic to one port: `app_port` from the README's YAML
header, 7860 when absent (hub-docs: docs/hub/spaces-config-reference.md). The server the final
stage starts listens elsewhere (by its --port/--bind, or `port=` of a `uvicorn.run(...)` in the
Python file the container runs, or by its default: uvicorn, `uvicorn.run`, hypercorn and
`fastapi run` use 8000), so the Space stays 'Starting' and then fails its health check. EXPOSE
is documentation only and does not change this. Make the two agree, e.g.
`CMD [\"uvicorn\", \"app.main:app\", \"--host\", \"0.0.0.0\", \"--port\", \"7860\"]`.
",
};

pub(crate) static LOOPBACK: Rule = Rule {
    id: "SG104",
    name: "docker-loopback-bind",
    severity: Severity::Error,
    why: "a server bound to 127.0.0.1 inside the container is unreachable from the Space's proxy",
    fix: "bind 0.0.0.0 (--host 0.0.0.0, --bind 0.0.0.0:7860, or host=\"0.0.0.0\" in uvicorn.run)",
    doc: "
The server listens on the loopback interface only: explicitly (`--host 127.0.0.1`,
`--host localhost`, `-b 127.0.0.1:…`, `host=\"127.0.0.1\"` in `uvicorn.run(...)`) or by default
(uvicorn, `uvicorn.run` and hypercorn bind 127.0.0.1 when no host is given; so does
`fastapi dev`). The Space's proxy connects from outside the container's
loopback, so every request fails and the Space never becomes ready. Bind `0.0.0.0`.
",
};

pub(crate) static COPY_BEFORE_INSTALL: Rule = Rule {
    id: "SG105",
    name: "docker-copy-before-install",
    severity: Severity::Warning,
    why: "copying the project's code before installing dependencies re-installs every dependency on any code change",
    fix: "COPY the requirements file (or pyproject.toml and the lock) alone, install, then COPY the rest",
    doc: "
`COPY . …` (or a COPY of a folder of Python code, such as `COPY backend/ ./backend/`) comes
before the `pip install -r` of the same stage; or `COPY . …` comes before `uv sync`, `poetry
install`, `pdm install` or `pipenv install`. Docker reuses a layer only while everything before
it is unchanged, so any edit to any file invalidates the install layer and every push to the
Space rebuilds all dependencies (minutes for torch or transformers). Copy the requirements file
first, install, then copy the code:

    COPY --chown=user requirements.txt .
    RUN pip install --no-cache-dir -r requirements.txt
    COPY --chown=user . .

With uv (Poetry alike, with `--no-root`), install the dependencies before the project:

    COPY --chown=user pyproject.toml uv.lock ./
    RUN uv sync --locked --no-install-project
    COPY --chown=user . .
    RUN uv sync --locked
",
};

pub(crate) static PYTHON_TOO_OLD: Rule = Rule {
    id: "SG106",
    name: "docker-python-too-old",
    severity: Severity::Error,
    why: "the base image's Python is older than a pinned package requires, so pip install fails",
    fix: "use a python:3.11 (or newer) base image, or pin versions that support the image's Python",
    doc: "
The base image is `python:X.Y…` and a requirement the Dockerfile installs asks for a version
whose Requires-Python excludes X.Y, so pip stops with 'No matching distribution found'. Known
thresholds: fastapi 0.129.0, sqlmodel 0.0.35, uvicorn 0.40.0 and openai 2.49.0 need Python 3.10;
fastapi 0.162.6, sqlmodel 0.0.50, pydantic-settings 2.16.0, sse-starlette 3.6.0 and
starlette 1.10.0 need Python 3.11. Use `FROM python:3.11-slim` or newer.
",
};

pub(crate) static PYTHON_EOL: Rule = Rule {
    id: "SG107",
    name: "docker-python-eol",
    severity: Severity::Warning,
    why: "Python 3.9 and older get no security fixes, and pip can only install FastAPI releases from before 2026",
    fix: "use a python:3.11 (or newer) base image",
    doc: "
The base image is `python:3.9` or older and the Dockerfile installs FastAPI. Python 3.9 reached
end of life in October 2025 (older ones earlier): no security fixes. Current FastAPI requires
Python 3.11 (3.10 from fastapi 0.129.0), so pip silently installs an old release on these images
and current documentation no longer matches the code. Use `FROM python:3.11-slim` or newer.
",
};

pub(crate) static COPY_IGNORED: Rule = Rule {
    id: "SG108",
    name: "docker-copy-ignored",
    severity: Severity::Error,
    why: "COPY/ADD names a path that .dockerignore excludes from the build context, so the build fails",
    fix: "remove the path from .dockerignore (or add a `!path` exception), or stop copying it",
    doc: "
A COPY or ADD source is excluded by `.dockerignore` (by a pattern on the path or on a folder
above it, with no later `!` exception). Excluded paths are not sent to the builder, so the
instruction fails with 'failed to compute cache key: … not found' and the Space never builds.
",
};

pub(crate) static SECRET_IN_IMAGE: Rule = Rule {
    id: "SG109",
    name: "docker-secret-in-image",
    severity: Severity::Error,
    why: "a secret baked into the image is readable by anyone who can pull or duplicate the Space",
    fix: "delete the value and set it as a Space secret (Settings → Variables and secrets); read it from the environment at run time",
    doc: "
A secret ends up in the image: a `.env` file is copied (by name, or by `COPY . …` while the
folder holds a `.env` with values that `.dockerignore` does not exclude), or an ENV/ARG holds a
literal token, key or password. Image layers keep every value; ENV and ARG values are also in the
image history. Hugging Face Space secrets are environment variables at run time
(docs/hub/spaces-sdks-docker.md, Secrets and Variables) and, when a build step needs one,
`RUN --mount=type=secret,id=NAME` reads it from /run/secrets/NAME without storing it.
",
};

pub(crate) static HEALTHCHECK_TOOL: Rule = Rule {
    id: "SG110",
    name: "docker-healthcheck-tool",
    severity: Severity::Error,
    why: "the HEALTHCHECK runs curl/wget, which the image does not have, so the container is always unhealthy",
    fix: "probe with Python (python -c \"import urllib.request; urllib.request.urlopen('http://127.0.0.1:7860/health')\") or apt-get install the tool",
    doc: "
The HEALTHCHECK command calls `curl` or `wget`, but the image is `python:*-slim` (which has
neither) or `python:*-alpine` (which has busybox wget but no curl), and no RUN of the Dockerfile
installs it. The check fails with 'not found' every time and the container is reported
unhealthy. Python is in the image: use `urllib.request` instead.
",
};

pub(crate) static FORWARDED_IPS: Rule = Rule {
    id: "SG111",
    name: "docker-forwarded-allow-ips",
    severity: Severity::Warning,
    why: "uvicorn trusts X-Forwarded-Proto only from 127.0.0.1, so behind the Space's proxy the URLs and redirects this app builds from the request are http://",
    fix: "add --forwarded-allow-ips \"*\" to the uvicorn command, forwarded_allow_ips=\"*\" to uvicorn.run (or ENV FORWARDED_ALLOW_IPS=\"*\")",
    doc: "
uvicorn honours proxy headers only from the addresses in --forwarded-allow-ips, which defaults
to $FORWARDED_ALLOW_IPS or 127.0.0.1. The Hugging Face proxy is not loopback, so the
`X-Forwarded-Proto: https` it sends is ignored: `request.url`, `url_for` and FastAPI's
trailing-slash redirects say `http://…hf.space`, which an https page blocks as mixed content.
Add `--forwarded-allow-ips \"*\"` (the container is reachable only through the proxy). The same
holds for gunicorn with uvicorn workers.

Reported only where the code builds an absolute URL from the request: `request.url_for(…)`,
`request.base_url`, `request.url`, a route declared with a trailing slash (FastAPI redirects the
path without it, unless `redirect_slashes=False`), or `StaticFiles(html=True)` (it redirects a
folder to its path with a slash). An app that builds none answers the same either way.
",
};

pub(crate) static EXEC_FORM_INVALID: Rule = Rule {
    id: "SG112",
    name: "docker-exec-form-invalid",
    severity: Severity::Error,
    why: "a CMD/ENTRYPOINT written as a list that is not valid JSON runs as a shell command, so the container exits instead of starting the server",
    fix: "write the list as JSON: double quotes around every item, no trailing comma (CMD [\"uvicorn\", \"app.main:app\", \"--host\", \"0.0.0.0\", \"--port\", \"7860\"])",
    doc: "
The CMD or ENTRYPOINT that starts the container is written as a list (`[...]`) but is not a
JSON array of strings: single quotes (`['uvicorn', 'app:app']`), typographic quotes, a trailing
comma, or an item that is not a string. Docker does not reject it: it falls back to the shell
form and runs `/bin/sh -c \"['uvicorn', 'app:app']\"`, which fails (`[: not found` or
`missing ]`), so the container exits at once and the Space never starts. Docker's build check
JSONArgsRecommended and the Dockerfile reference (Shell and exec form) describe the fallback.
Write the list as JSON:

    CMD [\"uvicorn\", \"app.main:app\", \"--host\", \"0.0.0.0\", \"--port\", \"7860\"]
",
};

/// The rules of this family.
pub(crate) static RULES: &[&Rule] = &[
    &ROOT_USER,
    &ROOT_OWNED_WRITE,
    &PORT_MISMATCH,
    &LOOPBACK,
    &COPY_BEFORE_INSTALL,
    &PYTHON_TOO_OLD,
    &PYTHON_EOL,
    &COPY_IGNORED,
    &SECRET_IN_IMAGE,
    &HEALTHCHECK_TOOL,
    &FORWARDED_IPS,
    &EXEC_FORM_INVALID,
];

/// One Dockerfile and what surrounds it.
struct Context<'a> {
    project: &'a Project,
    path: &'a str,
    /// The folder holding it (the build context): `""` for the root.
    dir: &'a str,
    parsed: Dockerfile,
    ignore: IgnoreFile,
    header: Option<SpaceHeader>,
    /// Every folder of the project that holds Python code, at any depth.
    code_folders: BTreeSet<String>,
}

impl Context<'_> {
    fn file(&self, name: &str) -> Option<&str> {
        self.project.text(&self.join(name))
    }

    fn join(&self, name: &str) -> String {
        let name = clean(name);
        if self.dir.is_empty() {
            name
        } else {
            format!("{}/{name}", self.dir)
        }
    }

    /// Whether Hugging Face builds this as a Docker Space.
    fn is_space(&self) -> bool {
        match &self.header {
            Some(h) => !h.other_sdk() && (h.sdk.is_some() || self.dir.is_empty()),
            None => self.dir.is_empty(),
        }
    }

    fn finding(&self, rule: &'static Rule, line: usize, message: String) -> Finding {
        Finding::new(rule, self.path, line, message)
    }
}

/// Adds the findings of every `Dockerfile` in `project`.
pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    let project = facts.project;
    let dockerfiles = project
        .dockerfiles()
        .filter(|(p, _)| p.rsplit('/').next() == Some("Dockerfile"));
    for (path, text) in dockerfiles {
        let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
        let mut cx = Context {
            project,
            path,
            dir,
            parsed: dockerfile::parse(text),
            ignore: IgnoreFile::default(),
            header: None,
            code_folders: code_folders(project),
        };
        cx.ignore = IgnoreFile::parse(cx.file(".dockerignore").unwrap_or_default());
        cx.header = cx.file("README.md").and_then(readme::space);
        // The app code of the served modules only (all of it when that cannot be known).
        let served: Vec<(&str, &Module)> = facts
            .python
            .iter()
            .filter(|(f, _)| facts.served.includes(f))
            .map(|(f, m)| (*f, m))
            .collect();
        check_one(&cx, &served, findings);
    }
}

fn check_one(cx: &Context<'_>, modules: &[(&str, &Module)], findings: &mut Vec<Finding>) {
    let chain = cx.parsed.final_chain();
    if chain.is_empty() {
        return;
    }
    let env = server::environment(&chain);
    if cx.is_space() {
        root_user(cx, &chain, modules, findings);
        if let Some(server) = server::find(cx.project, cx.path, cx.dir, &chain) {
            ports(cx, &server, &env, findings);
            forwarded(cx, &server, &env, modules, findings);
        }
    }
    exec_form(cx, &chain, findings);
    root_owned_writes(cx, &chain, &env, findings);
    for stage in cx.parsed.stages() {
        copy_before_install(cx, &stage, findings);
    }
    python_version(cx, &chain, findings);
    copies(cx, findings);
    secret_values(cx, findings);
    healthcheck(cx, &chain, findings);
}

/// The image the chain starts from (not an earlier stage), lower-cased, without `docker.io/`
/// and `library/`.
fn base_image(chain: &[Stage<'_>]) -> Option<String> {
    let image = chain.last()?.image.to_ascii_lowercase();
    let image = image.strip_prefix("docker.io/").unwrap_or(&image);
    let image = image.strip_prefix("library/").unwrap_or(image);
    Some(image.to_owned())
}

/// The repository and tag of an image reference (`python`, `3.11-slim`).
fn repo_and_tag(image: &str) -> (&str, &str) {
    let image = image.split('@').next().unwrap_or(image);
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, tag),
        _ => (image, "latest"),
    }
}

/// Images that run as root unless a Dockerfile says otherwise.
const ROOT_IMAGES: &[&str] = &[
    "python",
    "ubuntu",
    "debian",
    "alpine",
    "node",
    "nvidia/cuda",
    "pytorch/pytorch",
    "continuumio/miniconda3",
    "continuumio/anaconda3",
    "condaforge/miniforge3",
    "tiangolo/uvicorn-gunicorn-fastapi",
    "tiangolo/uvicorn-gunicorn",
    "ghcr.io/astral-sh/uv",
];

/// SG101: the final stage runs as root, and a write the app makes at run time proves that
/// uid 1000 cannot work there (an image that only reads works as uid 1000).
fn root_user(
    cx: &Context<'_>,
    chain: &[Stage<'_>],
    modules: &[(&str, &Module)],
    findings: &mut Vec<Finding>,
) {
    let last_user = chain
        .iter()
        .find_map(|s| s.body.iter().rev().find(|i| i.keyword == "USER"));
    let (line, runs_as) = match last_user {
        Some(user) => {
            let name = user.text();
            let name = name.split(':').next().unwrap_or_default().trim().to_owned();
            if name != "root" && name != "0" {
                return;
            }
            (user.line, format!("the final stage runs as `{name}`"))
        }
        None => {
            let Some(image) = base_image(chain) else {
                return;
            };
            let (repo, _) = repo_and_tag(&image);
            if !ROOT_IMAGES.contains(&repo) {
                return;
            }
            (
                chain[0].from.line,
                format!(
                    "the final stage (from `{image}`) never sets USER, so it is built for root"
                ),
            )
        }
    };
    // The code's paths are relative to the root Dockerfile's build context.
    let project_modules: &[(&str, &Module)] = if cx.dir.is_empty() { modules } else { &[] };
    let Some(evidence) = writes::first_blocked(cx.project, project_modules, chain) else {
        return;
    };
    let at = if evidence.file.is_empty() {
        format!("{}:{}", cx.path, evidence.line)
    } else {
        format!("{}:{}", evidence.file, evidence.line)
    };
    findings.push(cx.finding(
        &ROOT_USER,
        line,
        format!("{runs_as}, and {at} {}", evidence.what),
    ));
}

fn ports(
    cx: &Context<'_>,
    server: &Server,
    env: &HashMap<String, String>,
    findings: &mut Vec<Finding>,
) {
    let Some(binds) = server.binds(env) else {
        return;
    };
    let at = |rule: &'static Rule, message: String| {
        Finding::new(rule, server.file.clone(), server.line, message)
    };
    if binds.iter().all(|b| is_loopback(&b.host)) {
        let b = &binds[0];
        let how = if b.default {
            " (its default when no host is given)"
        } else {
            ""
        };
        findings.push(at(
            &LOOPBACK,
            format!("{} listens on {}{how}", server.kind.name(), b.host),
        ));
    }
    let app_port = match cx.header.as_ref().map(|h| h.app_port) {
        None => readme::DEFAULT_APP_PORT,
        Some(Ok(p)) => p,
        Some(Err(())) => return,
    };
    if !binds.iter().any(|b| b.port == app_port) {
        let ports: Vec<String> = binds.iter().map(|b| b.port.to_string()).collect();
        let how = if binds.iter().all(|b| b.default) {
            " (its default)"
        } else {
            ""
        };
        let source = match cx.header.as_ref() {
            Some(_) => "app_port in README.md",
            None => "the Spaces default app_port (README.md has no header)",
        };
        findings.push(at(
            &PORT_MISMATCH,
            format!(
                "{} listens on port {}{how}, but {source} is {app_port}",
                server.kind.name(),
                ports.join(", ")
            ),
        ));
    }
}

fn is_loopback(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "localhost" | "::1")
}

fn forwarded(
    cx: &Context<'_>,
    server: &Server,
    env: &HashMap<String, String>,
    modules: &[(&str, &Module)],
    findings: &mut Vec<Finding>,
) {
    let uvicorn = match server.kind {
        Kind::Uvicorn | Kind::UvicornRun => !server.has("--no-proxy-headers"),
        Kind::Gunicorn => {
            let workers = server.options(&["-k", "--worker-class"]);
            workers.iter().any(|w| w.contains("UvicornWorker"))
                && !server.has("-c")
                && !server.has("--config")
                && cx.file("gunicorn.conf.py").is_none()
                && !env.contains_key("GUNICORN_CMD_ARGS")
        }
        _ => false,
    };
    let trusted = server.has("--forwarded-allow-ips")
        || env.contains_key("FORWARDED_ALLOW_IPS")
        || env.contains_key("UVICORN_FORWARDED_ALLOW_IPS");
    if !uvicorn || trusted {
        return;
    }
    // The code's paths are relative to the root Dockerfile's build context.
    let project_modules: &[(&str, &Module)] = if cx.dir.is_empty() { modules } else { &[] };
    let Some((file, line, what)) = request_urls::first(project_modules) else {
        return;
    };
    {
        findings.push(Finding::new(
            &FORWARDED_IPS,
            server.file.clone(),
            server.line,
            if server.kind == Kind::UvicornRun {
                format!(
                    "uvicorn.run is called without forwarded_allow_ips, and {file}:{line} {what}"
                )
            } else {
                format!(
                    "{} is started without --forwarded-allow-ips, and {file}:{line} {what}",
                    server.kind.name()
                )
            },
        ));
    }
}

/// Who owns the folders the build created.
#[derive(Default)]
struct Owners {
    /// Root-owned folders, with whether a `COPY --chown` may have put user-owned entries in them.
    root: BTreeMap<String, bool>,
    user: BTreeSet<String>,
}

fn absolute(path: &str, workdir: &str) -> String {
    if path.starts_with('/') {
        format!("/{}", clean(path))
    } else {
        format!("/{}", clean(&format!("{workdir}/{path}")))
    }
}

fn parent(path: &str) -> String {
    match path.rsplit_once('/') {
        Some(("", _)) | None => "/".to_owned(),
        Some((p, _)) => p.to_owned(),
    }
}

fn root_owned_writes(
    cx: &Context<'_>,
    chain: &[Stage<'_>],
    env: &HashMap<String, String>,
    findings: &mut Vec<Finding>,
) {
    let mut owners = Owners::default();
    let mut root = true;
    let mut workdir = Some("/".to_owned());
    for stage in chain.iter().rev() {
        for i in stage.body {
            match i.keyword.as_str() {
                "USER" => {
                    let text = i.text();
                    let name = text.split(':').next().unwrap_or_default().trim();
                    root = name == "root" || name == "0";
                }
                "WORKDIR" => {
                    let Some(path) = server::expand(i.text().trim(), env) else {
                        workdir = None;
                        continue;
                    };
                    let path = absolute(&path, workdir.as_deref().unwrap_or("/"));
                    if !owners.root.contains_key(&path) && !owners.user.contains(&path) {
                        if root {
                            owners.root.insert(path.clone(), false);
                        } else {
                            owners.user.insert(path.clone());
                        }
                    }
                    workdir = Some(path);
                }
                "COPY" | "ADD" => {
                    let (Some(wd), Some(words)) = (workdir.as_deref(), i.words()) else {
                        continue;
                    };
                    let Some(dest) = words.last() else { continue };
                    let Some(dest) = server::expand(dest, env) else {
                        continue;
                    };
                    let dest = absolute(&dest, wd);
                    let chowned = i.flag("chown").is_some_and(|c| {
                        let c = c.split(':').next().unwrap_or_default();
                        c != "root" && c != "0"
                    });
                    if let Some(copied) = owners.root.get_mut(&dest) {
                        *copied |= chowned;
                    } else if !owners.user.contains(&dest) && words.len() > 1 {
                        if chowned {
                            owners.user.insert(dest);
                        } else {
                            owners.root.insert(dest, false);
                        }
                    }
                }
                "RUN" => {
                    let Some(wd) = workdir.clone() else { continue };
                    for command in i.commands() {
                        let program = command[0].rsplit('/').next().unwrap_or_default();
                        if program == "cd" {
                            break;
                        }
                        let paths: Vec<String> = command[1..]
                            .iter()
                            .filter(|a| !a.starts_with('-') && !a.contains('$'))
                            .map(|a| absolute(a, &wd))
                            .collect();
                        match (program, root) {
                            ("mkdir", true) => {
                                for p in paths {
                                    if !owners.user.contains(&p) {
                                        owners.root.entry(p).or_insert(false);
                                    }
                                }
                            }
                            ("chown" | "chmod", _) => {
                                for p in paths {
                                    owners
                                        .root
                                        .retain(|k, _| *k != p && !k.starts_with(&format!("{p}/")));
                                    owners.user.insert(p);
                                }
                            }
                            ("useradd" | "adduser", _) => owners.root.clear(),
                            ("mkdir" | "touch", false) => {
                                let p_flag = command
                                    .iter()
                                    .any(|a| a.starts_with('-') && a.contains('p'));
                                for p in paths {
                                    if let Some(dir) =
                                        blocked(&owners, &p, program == "mkdir" && p_flag)
                                    {
                                        findings.push(cx.finding(
                                            &ROOT_OWNED_WRITE,
                                            i.line,
                                            format!(
                                                "`{program}` runs as a non-root user and writes {p} into {dir}, which root owns"
                                            ),
                                        ));
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// The root-owned folder that stops a write of `path`, when that is certain.
fn blocked(owners: &Owners, path: &str, mkdir_parents: bool) -> Option<String> {
    if owners.root.contains_key(path) || owners.user.contains(path) {
        return None;
    }
    let direct = parent(path);
    if let Some(copied) = owners.root.get(&direct) {
        return (!copied || mkdir_parents)
            .then_some(direct)
            .filter(|_| !copied);
    }
    if !mkdir_parents {
        return None;
    }
    let mut up = direct;
    while up != "/" {
        up = parent(&up);
        if owners.user.contains(&up) {
            return None;
        }
        if let Some(copied) = owners.root.get(&up) {
            return (!copied).then_some(up);
        }
    }
    None
}

/// Whether `command` is a pip install (pip, pip3, python -m pip, uv pip).
fn is_pip_install(command: &[String]) -> bool {
    let words: Vec<&str> = command.iter().map(String::as_str).collect();
    words.windows(2).any(|w| {
        let program = w[0].rsplit('/').next().unwrap_or_default();
        (program.starts_with("pip") || program == "pip") && w[1] == "install"
    })
}

/// The `-r FILE` arguments of a pip install.
fn requirement_files(command: &[String]) -> Vec<String> {
    let mut files = Vec::new();
    let mut words = command.iter();
    while let Some(w) = words.next() {
        if w == "-r" || w == "--requirement" {
            if let Some(f) = words.next() {
                files.push(f.clone());
            }
        } else if let Some(f) = w
            .strip_prefix("--requirement=")
            .or_else(|| w.strip_prefix("-r").filter(|f| !f.is_empty()))
        {
            files.push(f.to_owned());
        }
    }
    files
}

fn copies_everything(i: &Instruction) -> bool {
    if !matches!(i.keyword.as_str(), "COPY" | "ADD") || i.flag("from").is_some() {
        return false;
    }
    let Some(words) = i.words() else { return false };
    words.len() > 1 && words[..words.len() - 1].iter().any(|s| clean(s).is_empty())
}

/// Whether a COPY/ADD brings a folder of Python code into the image.
fn copies_code(cx: &Context<'_>, i: &Instruction) -> bool {
    if !matches!(i.keyword.as_str(), "COPY" | "ADD") || i.flag("from").is_some() {
        return false;
    }
    let Some(words) = i.words() else { return false };
    let Some((_, sources)) = words.split_last() else {
        return false;
    };
    sources.iter().any(|source| {
        let folder = cx.join(source);
        !source.contains(['*', '?', '[']) && !folder.is_empty() && cx.code_folders.contains(&folder)
    })
}

/// Every folder that holds a Python file, at any depth.
fn code_folders(project: &Project) -> BTreeSet<String> {
    let mut folders = BTreeSet::new();
    for (path, _) in project.python() {
        let mut rest = path;
        while let Some((folder, _)) = rest.rsplit_once('/') {
            if !folders.insert(folder.to_owned()) {
                break;
            }
            rest = folder;
        }
    }
    folders
}

/// SG105: the project's code is copied before the stage installs its dependencies, so any code
/// change re-runs the install. For `pip install -r` any copy of the context or of a folder of
/// Python code counts; for project tools (`uv sync`, `poetry install`, `pdm install`, `pipenv
/// install`) a copy of the whole context.
fn copy_before_install(cx: &Context<'_>, stage: &Stage<'_>, findings: &mut Vec<Finding>) {
    let install = stage.body.iter().enumerate().find_map(|(n, i)| {
        if i.keyword != "RUN" {
            return None;
        }
        i.commands().iter().find_map(|c| {
            let command = installs::command(c)?;
            let tool = match command.project {
                Some(Tool::Uv) => Some("uv sync"),
                Some(Tool::Poetry) => Some("poetry install"),
                Some(Tool::Pdm) => Some("pdm install"),
                _ if c.iter().any(|w| w == "pipenv") => Some("pipenv install"),
                _ => None,
            };
            if let Some(tool) = tool {
                return Some((n, true, format!("the `{tool}`")));
            }
            let dependencies = command.files.iter().any(|f| {
                let name = f.rsplit('/').next().unwrap_or(f);
                let text = cx.file(f).or_else(|| cx.file(name)).unwrap_or("");
                !text.lines().any(|l| {
                    let l = l.trim();
                    l.starts_with("-e") || l.starts_with(['.', '/']) || l.starts_with("file:")
                })
            });
            dependencies.then(|| (n, false, "the pip install".to_owned()))
        })
    });
    let Some((install, project_tool, what)) = install else {
        return;
    };
    let copy = stage.body[..install]
        .iter()
        .find(|i| copies_everything(i) || (!project_tool && copies_code(cx, i)));
    if let Some(copy) = copy {
        findings.push(cx.finding(
            &COPY_BEFORE_INSTALL,
            copy.line,
            format!(
                "`{} {}` comes before {what} at line {}",
                copy.keyword,
                copy.text(),
                stage.body[install].line
            ),
        ));
    }
}

/// SG112: the CMD and ENTRYPOINT that run, when written as a list that is not JSON.
fn exec_form(cx: &Context<'_>, chain: &[Stage<'_>], findings: &mut Vec<Finding>) {
    for keyword in ["ENTRYPOINT", "CMD"] {
        let last = chain
            .iter()
            .find_map(|s| s.body.iter().rev().find(|i| i.keyword == keyword));
        let Some(i) = last else { continue };
        let dockerfile::Args::Shell(text) = &i.args else {
            continue;
        };
        let text = text.trim();
        let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) else {
            continue;
        };
        // A list of quoted items; `[ -f x ] && …` is the shell's test command.
        let quotes = ['"', '\'', '\u{201c}', '\u{201d}', '\u{2018}', '\u{2019}'];
        if !inner.trim_start().starts_with(quotes) {
            continue;
        }
        let why = if inner.contains(['\u{201c}', '\u{201d}', '\u{2018}', '\u{2019}']) {
            "typographic quotes"
        } else if inner.trim_start().starts_with('\'') {
            "single quotes"
        } else if inner.trim_end().ends_with(',') {
            "a trailing comma"
        } else {
            "an item that is not a JSON string"
        };
        findings.push(cx.finding(
            &EXEC_FORM_INVALID,
            i.line,
            format!(
                "`{keyword} {text}` is not valid JSON ({why}), so Docker runs it with /bin/sh -c and the container exits"
            ),
        ));
    }
}

/// SG106 and SG107: the Python of a `python:3.Y…` base image against what it installs.
fn python_version(cx: &Context<'_>, chain: &[Stage<'_>], findings: &mut Vec<Finding>) {
    let Some(image) = base_image(chain) else {
        return;
    };
    let (repo, tag) = repo_and_tag(&image);
    if repo != "python" {
        return;
    }
    let mut numbers = tag
        .split(|c: char| !c.is_ascii_digit())
        .take(2)
        .map(|n| n.parse::<u32>().ok());
    let (Some(Some(3)), Some(Some(minor))) = (numbers.next(), numbers.next()) else {
        return;
    };
    let from_line = chain.last().map_or(0, |s| s.from.line);
    let mut installs_fastapi = false;
    for stage in chain {
        for i in stage.body.iter().filter(|i| i.keyword == "RUN") {
            for command in i.commands().iter().filter(|c| is_pip_install(c)) {
                let mut lines: Vec<String> = Vec::new();
                for f in requirement_files(command) {
                    let name = f.rsplit('/').next().unwrap_or(&f);
                    if let Some(text) = cx.file(&f).or_else(|| cx.file(name)) {
                        lines.extend(text.lines().map(str::to_owned));
                    }
                }
                let after_install = command.iter().skip_while(|w| *w != "install").skip(1);
                lines.extend(after_install.filter(|w| !w.starts_with('-')).cloned());
                for line in &lines {
                    let line = line.split(" #").next().unwrap_or_default().trim();
                    if line.is_empty() || line.starts_with(['#', '-']) || line.contains(';') {
                        continue;
                    }
                    let Ok(req) = Requirement::parse(line) else {
                        continue;
                    };
                    installs_fastapi |= req.name == "fastapi";
                    if let Some(needed) = needs_python(&req) {
                        if needed > minor {
                            findings.push(cx.finding(
                                &PYTHON_TOO_OLD,
                                from_line,
                                format!(
                                    "`{image}` has Python 3.{minor}, but `{line}` needs Python 3.{needed} or newer"
                                ),
                            ));
                            return;
                        }
                    }
                }
            }
        }
    }
    if installs_fastapi && minor < 10 {
        findings.push(cx.finding(
            &PYTHON_EOL,
            from_line,
            format!("`{image}` has Python 3.{minor}, which is end of life, and installs fastapi"),
        ));
    }
}

/// Lowest release of a package that needs Python 3.minor.
const NEEDS_PYTHON: &[(&str, &str, u32)] = &[
    ("fastapi", "0.162.6", 11),
    ("fastapi", "0.129.0", 10),
    ("sqlmodel", "0.0.50", 11),
    ("sqlmodel", "0.0.35", 10),
    ("pydantic-settings", "2.16.0", 11),
    ("sse-starlette", "3.6.0", 11),
    ("starlette", "1.10.0", 11),
    ("uvicorn", "0.40.0", 10),
    ("openai", "2.49.0", 10),
];

/// The Python minor version a requirement's lower bound needs, when known.
fn needs_python(req: &Requirement) -> Option<u32> {
    let lowest = req
        .versions
        .iter()
        .filter(|s| {
            matches!(
                s.operator(),
                Operator::Equal
                    | Operator::ExactEqual
                    | Operator::GreaterThan
                    | Operator::GreaterThanEqual
                    | Operator::TildeEqual
            )
        })
        .map(|s| s.version().clone())
        .max()?;
    NEEDS_PYTHON
        .iter()
        .filter(|(name, _, _)| *name == req.name)
        .find(|(_, from, _)| Version::from_str(from).is_ok_and(|from| lowest >= from))
        .map(|(_, _, minor)| *minor)
}

fn copies(cx: &Context<'_>, findings: &mut Vec<Finding>) {
    let gitignore = IgnoreFile::parse(&format!(
        "{}\n{}",
        cx.project.text(".gitignore").unwrap_or_default(),
        cx.file(".gitignore").unwrap_or_default()
    ));
    // Looked up once: a Dockerfile may copy thousands of times.
    let env_files: Vec<(&str, &str)> = cx
        .project
        .files()
        .filter(|(p, _)| secret::is_env_file(p))
        .collect();
    for i in &cx.parsed.instructions {
        if !matches!(i.keyword.as_str(), "COPY" | "ADD")
            || i.flag("from").is_some()
            || !i.heredocs.is_empty()
        {
            continue;
        }
        let Some(words) = i.words() else { continue };
        if words.len() < 2 {
            continue;
        }
        for source in &words[..words.len() - 1] {
            if source.contains("://") || source.starts_with("git@") || source.contains('$') {
                continue;
            }
            let path = clean(source);
            let literal = !source.contains(['*', '?', '[']);
            if literal
                && !path.is_empty()
                && cx.ignore.excludes(&path)
                && !cx.ignore.may_include_below(&path)
            {
                findings.push(cx.finding(
                    &COPY_IGNORED,
                    i.line,
                    format!("`{source}` is excluded by .dockerignore"),
                ));
                continue;
            }
            if literal && secret::is_env_file(&path) {
                findings.push(cx.finding(
                    &SECRET_IN_IMAGE,
                    i.line,
                    format!(
                        "`{} {source}` copies an environment file into the image",
                        i.keyword
                    ),
                ));
                continue;
            }
            if literal {
                let prefix = if path.is_empty() {
                    String::new()
                } else {
                    format!("{path}/")
                };
                let env_file = env_files.iter().find(|(p, text)| {
                    let Some(rel) = p
                        .strip_prefix(&cx.join(""))
                        .map(|r| r.trim_start_matches('/'))
                    else {
                        return false;
                    };
                    let Some(inside) = rel.strip_prefix(&prefix) else {
                        return false;
                    };
                    secret::is_env_file(inside)
                        && !inside.contains('/')
                        && secret::env_file_holds_secret(text)
                        && !cx.ignore.excludes(rel)
                        && !gitignore.excludes(rel)
                });
                if let Some((env_path, _)) = env_file {
                    findings.push(cx.finding(
                        &SECRET_IN_IMAGE,
                        i.line,
                        format!("`{} {source}` copies {env_path}, which holds secret values, into the image", i.keyword),
                    ));
                }
            }
        }
    }
}

fn secret_values(cx: &Context<'_>, findings: &mut Vec<Finding>) {
    for i in &cx.parsed.instructions {
        if i.keyword != "ENV" && i.keyword != "ARG" {
            continue;
        }
        for (key, value) in server::assignments(i) {
            let Some(value) = value else { continue };
            if secret::env_line(&format!("{key}={value}")).is_some() {
                findings.push(cx.finding(
                    &SECRET_IN_IMAGE,
                    i.line,
                    format!("{} {key} holds a literal secret value", i.keyword),
                ));
            }
        }
    }
}

fn healthcheck(cx: &Context<'_>, chain: &[Stage<'_>], findings: &mut Vec<Finding>) {
    let Some(check) = chain
        .iter()
        .find_map(|s| s.body.iter().rev().find(|i| i.keyword == "HEALTHCHECK"))
    else {
        return;
    };
    let Some(words) = check.words() else { return };
    if words
        .first()
        .is_some_and(|w| w.eq_ignore_ascii_case("none"))
    {
        return;
    }
    let Some(image) = base_image(chain) else {
        return;
    };
    let (repo, tag) = repo_and_tag(&image);
    if repo != "python" {
        return;
    }
    let missing: &[&str] = if tag.contains("slim") {
        &["curl", "wget"]
    } else if tag.contains("alpine") {
        &["curl"]
    } else {
        return;
    };
    let mentioned = |tool: &str| {
        chain.iter().flat_map(|s| s.body).any(|i| {
            matches!(i.keyword.as_str(), "RUN" | "COPY" | "ADD")
                && i.commands().iter().flatten().any(|w| w.contains(tool))
        })
    };
    let used = words.iter().flat_map(|w| {
        shlex::split(w)
            .unwrap_or_default()
            .into_iter()
            .chain(std::iter::once(w.clone()))
    });
    let tool = used
        .map(|w| w.rsplit('/').next().unwrap_or_default().to_owned())
        .find(|w| missing.contains(&w.as_str()) && !mentioned(w));
    if let Some(tool) = tool {
        findings.push(cx.finding(
            &HEALTHCHECK_TOOL,
            check.line,
            format!("the HEALTHCHECK runs `{tool}`, which `{image}` does not have"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Project;

    fn ids(files: &[(&str, &str)]) -> Vec<(&'static str, usize)> {
        let project = Project::from_files(files);
        let mut findings = Vec::new();
        check(&Facts::of(&project), &mut findings);
        let mut out: Vec<_> = findings.iter().map(|f| (f.rule.id, f.line)).collect();
        out.sort_unstable();
        out
    }

    const GOOD: &str = "FROM python:3.12-slim\nRUN useradd -m -u 1000 user\nUSER user\nWORKDIR /app\nCOPY --chown=user requirements.txt .\nRUN pip install -r requirements.txt\nCOPY --chown=user . .\nCMD [\"uvicorn\", \"app.main:app\", \"--host\", \"0.0.0.0\", \"--port\", \"7860\", \"--forwarded-allow-ips\", \"*\"]\n";

    #[test]
    fn the_documented_pattern_is_clean() {
        assert_eq!(
            ids(&[
                ("Dockerfile", GOOD),
                ("requirements.txt", "fastapi==0.165.0\n")
            ]),
            vec![]
        );
    }

    #[test]
    fn a_gradio_readme_turns_off_space_rules() {
        let d = "FROM python:3.12\nCMD uvicorn m:app\n";
        assert_eq!(
            ids(&[("Dockerfile", d), ("README.md", "---\nsdk: gradio\n---\n")]),
            vec![]
        );
        assert_eq!(ids(&[("Dockerfile", d)]), vec![("SG103", 2), ("SG104", 2)]);
    }

    #[test]
    fn a_root_image_is_reported_only_with_a_write_uid_1000_cannot_make() {
        let root = "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\nCMD [\"uvicorn\", \"main:app\", \"--host\", \"0.0.0.0\", \"--port\", \"7860\", \"--forwarded-allow-ips\", \"*\"]\n";
        let sg101 = |files: &[(&str, &str)]| -> Vec<(&'static str, usize)> {
            let mut all = vec![("Dockerfile", root)];
            all.extend_from_slice(files);
            ids(&all)
                .into_iter()
                .filter(|(r, _)| *r == "SG101")
                .collect()
        };
        let reads = "import json\nDATA = json.load(open('data.json'))\n";
        assert_eq!(sg101(&[("main.py", reads)]), vec![]);
        let makedirs = "import os\nBASE = os.path.dirname(os.path.abspath(__file__))\nos.makedirs(os.path.join(BASE, 'uploads'), exist_ok=True)\n";
        assert_eq!(sg101(&[("main.py", makedirs)]), vec![("SG101", 1)]);
        // The folder is in the project, so the image has it: creating it again writes nothing.
        assert_eq!(
            sg101(&[("main.py", makedirs), ("uploads/.keep", "")]),
            vec![]
        );
        let writes = "def save(x):\n    with open('results.csv', 'a') as f:\n        f.write(x)\n";
        let imports_store = "from app import store\n";
        assert_eq!(
            sg101(&[("main.py", imports_store), ("app/store.py", writes)]),
            vec![("SG101", 1)]
        );
        // A module the served app never imports writes nothing while it runs.
        assert_eq!(
            sg101(&[("main.py", reads), ("app/store.py", writes)]),
            vec![]
        );
        let temp = "import tempfile, os\nos.makedirs(os.path.join(tempfile.gettempdir(), 'x'))\nopen('/tmp/log.txt', 'w')\n";
        assert_eq!(sg101(&[("main.py", temp)]), vec![]);
        assert_eq!(sg101(&[("tests/test_io.py", writes)]), vec![]);
        let cache = "import os\nos.environ['HF_HOME'] = './hf-cache'\nfrom transformers import AutoModel\nmodel = AutoModel.from_pretrained('x/y')\n";
        assert_eq!(sg101(&[("main.py", cache)]), vec![("SG101", 1)]);
        let cache_only = "import os\nos.environ['HF_HOME'] = './hf-cache'\n";
        assert_eq!(sg101(&[("main.py", cache_only)]), vec![]);
        let sqlite = "engine = create_engine('sqlite:///./app.db')\n";
        assert_eq!(
            sg101(&[("main.py", "import db\n"), ("db.py", sqlite)]),
            vec![("SG101", 1)]
        );
        // A working directory opened up by the build proves nothing.
        let loosened = root.replace("COPY . .", "COPY . .\nRUN chmod -R 777 /app");
        assert_eq!(
            ids(&[("Dockerfile", &loosened), ("main.py", makedirs)])
                .into_iter()
                .filter(|(r, _)| *r == "SG101")
                .collect::<Vec<_>>(),
            vec![]
        );
        let poetry = "FROM python:3.10\nWORKDIR /app\nRUN pip install poetry==2.1.1\nCOPY pyproject.toml poetry.lock ./\nRUN poetry install --no-root\nCOPY . .\nCMD [\"poetry\", \"run\", \"uvicorn\", \"main:app\", \"--host\", \"0.0.0.0\", \"--port\", \"7860\"]\n";
        let found = ids(&[("Dockerfile", poetry), ("main.py", reads)]);
        assert!(found.contains(&("SG101", 1)), "{found:?}");
        let no_venv = poetry.replace(
            "RUN poetry install",
            "ENV POETRY_VIRTUALENVS_CREATE=false\nRUN poetry install",
        );
        let found = ids(&[("Dockerfile", &no_venv), ("main.py", reads)]);
        assert!(!found.iter().any(|(r, _)| *r == "SG101"), "{found:?}");
    }

    #[test]
    fn root_owned_writes_are_found_only_when_certain() {
        let d = "FROM python:3.12\nRUN useradd -m -u 1000 user\nWORKDIR /app\nUSER user\nRUN mkdir data\nRUN mkdir -p /home/user/x /tmp/y\n";
        assert_eq!(
            ids(&[("Dockerfile", d), ("README.md", "# x\n")]),
            vec![("SG102", 5)]
        );
        let d = "FROM python:3.12\nRUN useradd -m -u 1000 user\nRUN mkdir /app && chown user /app\nWORKDIR /app\nUSER user\nRUN mkdir data\n";
        assert_eq!(ids(&[("Dockerfile", d), ("README.md", "# x\n")]), vec![]);
    }

    /// The SG105 lines of `dockerfile` in a project with code in backend/ and app/.
    fn copy_before_install_of(dockerfile: &str) -> Vec<usize> {
        let files = [
            ("Dockerfile", dockerfile),
            ("requirements.txt", "fastapi==0.165.0\n"),
            ("backend/requirements.txt", "fastapi==0.165.0\n"),
            ("backend/main.py", "x = 1\n"),
            ("pyproject.toml", "[project]\nname = \"x\"\n"),
            ("uv.lock", ""),
            ("static/index.html", ""),
        ];
        ids(&files)
            .into_iter()
            .filter(|(id, _)| *id == "SG105")
            .map(|(_, line)| line)
            .collect()
    }

    #[test]
    fn copying_code_before_installing_dependencies() {
        for (dockerfile, line) in [
            ("FROM p\nWORKDIR /app\nCOPY --chown=user . /app\nRUN uv sync\n", 3),
            ("FROM p\nWORKDIR /app\nCOPY . .\nRUN poetry install --no-root\n", 3),
            ("FROM p\nWORKDIR /app\nCOPY backend/ ./backend/\nRUN pip install --upgrade pip\nRUN pip install -r backend/requirements.txt\n", 3),
            ("FROM p\nWORKDIR /app\nCOPY backend ./backend\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n", 3),
        ] {
            assert_eq!(copy_before_install_of(dockerfile), vec![line], "{dockerfile}");
        }
        for fine in [
            "FROM p\nWORKDIR /app\nCOPY pyproject.toml uv.lock ./\nRUN uv sync --no-install-project\nCOPY . .\nRUN uv sync\n",
            "FROM p\nWORKDIR /app\nCOPY backend/requirements.txt .\nRUN pip install -r requirements.txt\nCOPY backend/ .\n",
            // Static files are not code; a wheel build needs the project.
            "FROM p\nWORKDIR /app\nCOPY static/ ./static/\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n",
            "FROM p\nWORKDIR /app\nCOPY . .\nRUN pip install .\n",
        ] {
            assert_eq!(copy_before_install_of(fine), Vec::<usize>::new(), "{fine}");
        }
    }

    #[test]
    fn an_exec_form_that_is_not_json_runs_as_a_shell_command() {
        let of = |dockerfile: &str| -> Vec<usize> {
            ids(&[("Dockerfile", dockerfile)])
                .into_iter()
                .filter(|(id, _)| *id == "SG112")
                .map(|(_, line)| line)
                .collect()
        };
        for (bad, line) in [
            ("FROM p\nCMD ['uvicorn', 'app:app', '--port', '7860']\n", 2),
            ("FROM p\nCMD [\"uvicorn\", \"app:app\",]\n", 2),
            (
                "FROM p\nENTRYPOINT [\u{201c}uvicorn\u{201d}]\nCMD [\"--port\", \"7860\"]\n",
                2,
            ),
            ("FROM p\nCMD [\"uvicorn\", 7860]\n", 2),
        ] {
            assert_eq!(of(bad), vec![line], "{bad}");
        }
        for fine in [
            "FROM p\nCMD [\"uvicorn\", \"app:app\"]\n",
            "FROM p\nCMD uvicorn app:app\n",
            "FROM p\nCMD [ -f /app/x ] && exec uvicorn app:app\n",
            // Only the CMD that runs counts.
            "FROM p\nCMD ['python']\nCMD [\"uvicorn\", \"app:app\"]\n",
        ] {
            assert_eq!(of(fine), Vec::<usize>::new(), "{fine}");
        }
    }

    #[test]
    fn a_hostile_dockerfile_of_copies_is_read_to_the_end() {
        let mut dockerfile = String::new();
        for n in 0..20_000 {
            dockerfile.push_str(&format!(
                "FROM p\nCOPY d{n}/ d/\nRUN pip install -r r.txt\n"
            ));
        }
        let files: Vec<(String, String)> = (0..5_000)
            .map(|n| (format!("code/m{n}.py"), String::new()))
            .collect();
        let mut all: Vec<(&str, &str)> = vec![("Dockerfile", &dockerfile), ("r.txt", "x==1\n")];
        all.extend(files.iter().map(|(p, t)| (p.as_str(), t.as_str())));
        let project = Project::from_files(&all);
        let facts = Facts::of(&project);
        // Its time is measured by bench/check.py; here, that it ends without a crash.
        check(&facts, &mut Vec::new());
    }
}

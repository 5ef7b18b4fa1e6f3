//! The Dockerfile family (`SG101`…): defects of a Space's `Dockerfile` that the files prove.
//! Only files named `Dockerfile` are read (the one a Space builds, with its folder as the build
//! context); the Space-only rules (user, port, bind address, proxy) apply when the folder's
//! README header is absent or says `sdk: docker`. Every finding is at the line of the
//! instruction (or start-script line) it is about; nothing is reported from a guess.
//!
//! Each Dockerfile is read once, with what surrounds it (its `.dockerignore`, the README
//! header of its folder, the server its final stage starts), into a [`Context`] that
//! [`Facts`] holds for every rule of the family.

pub(super) mod docker_copy_before_install;
pub(super) mod docker_copy_ignored;
pub(super) mod docker_exec_form_invalid;
pub(super) mod docker_forwarded_allow_ips;
pub(super) mod docker_healthcheck_tool;
pub(super) mod docker_loopback_bind;
pub(super) mod docker_port_mismatch;
pub(super) mod docker_python_eol;
pub(super) mod docker_python_too_old;
pub(super) mod docker_root_owned_write;
pub(super) mod docker_root_user;
pub(super) mod docker_secret_in_image;
mod program;
mod request_urls;
pub(crate) mod server;
mod writes;

use std::collections::HashMap;
use std::str::FromStr;

use pep440_rs::{Operator, Version};

use super::Facts;
use crate::check::dockerfile::{self, Dockerfile, Instruction, Stage};
use crate::check::ignore_file::{clean, IgnoreFile};
use crate::check::python::Module;
use crate::check::readme::{self, SpaceHeader};
use crate::check::{Finding, Project, Rule};
use crate::requirement::Requirement;
use server::Server;

/// One Dockerfile (with at least one stage) and what surrounds it.
pub(crate) struct Context<'a> {
    project: &'a Project,
    path: &'a str,
    /// The folder holding it (the build context): `""` for the root.
    dir: &'a str,
    parsed: Dockerfile,
    ignore: IgnoreFile,
    header: Option<SpaceHeader>,
    /// What the final chain's `ENV` and `ARG` set.
    env: HashMap<String, String>,
    /// The server the final stage starts, when Hugging Face builds this as a Docker Space.
    server: Option<Server>,
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

    /// The final stage and the stages it is built on, last first (never empty).
    fn chain(&self) -> Vec<Stage<'_>> {
        self.parsed.final_chain()
    }

    fn finding(&self, rule: &'static Rule, line: usize, message: String) -> Finding {
        Finding::new(rule, self.path, line, message)
    }
}

/// Every `Dockerfile` of `project` that has a stage, with what surrounds it: read once, for
/// every rule of the family.
pub(crate) fn contexts(project: &Project) -> Vec<Context<'_>> {
    let dockerfiles = project
        .dockerfiles()
        .filter(|(p, _)| p.rsplit('/').next() == Some("Dockerfile"));
    let mut contexts = Vec::new();
    for (path, text) in dockerfiles {
        let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
        let mut cx = Context {
            project,
            path,
            dir,
            parsed: dockerfile::parse(text),
            ignore: IgnoreFile::default(),
            header: None,
            env: HashMap::new(),
            server: None,
        };
        cx.ignore = IgnoreFile::parse(cx.file(".dockerignore").unwrap_or_default());
        cx.header = cx.file("README.md").and_then(readme::space);
        let chain = cx.chain();
        if chain.is_empty() {
            continue;
        }
        let env = server::environment(&chain);
        let server = if cx.is_space() {
            server::find(project, path, dir, &chain)
        } else {
            None
        };
        drop(chain);
        cx.env = env;
        cx.server = server;
        contexts.push(cx);
    }
    contexts
}

/// The app code of the served modules only (all of it when that cannot be known), for the
/// Dockerfile at the root: the code's paths are relative to the root's build context.
fn root_modules<'a>(facts: &'a Facts<'_>, cx: &Context<'_>) -> Vec<(&'a str, &'a Module)> {
    if !cx.dir.is_empty() {
        return Vec::new();
    }
    facts
        .python
        .iter()
        .filter(|(f, _)| facts.served.includes(f))
        .map(|(f, m)| (*f, m))
        .collect()
}

/// The sources of every `COPY` and `ADD` from the build context (not `--from` a stage or an
/// image, without a heredoc), in order, with their instruction; URLs, git addresses and
/// sources with a variable are left out.
fn copy_sources<'c>(cx: &'c Context<'_>) -> Vec<(&'c Instruction, String)> {
    let mut sources = Vec::new();
    for i in &cx.parsed.instructions {
        if !matches!(i.keyword.as_str(), "COPY" | "ADD")
            || i.flag("from").is_some()
            || !i.heredocs.is_empty()
        {
            continue;
        }
        let Some(mut words) = i.words() else { continue };
        if words.len() < 2 {
            continue;
        }
        words.pop();
        for source in words {
            if source.contains("://") || source.starts_with("git@") || source.contains('$') {
                continue;
            }
            sources.push((i, source));
        }
    }
    sources
}

/// Whether `.dockerignore` certainly excludes `source`, a literal path of a `COPY`/`ADD`.
fn ignored(cx: &Context<'_>, source: &str) -> bool {
    let path = clean(source);
    let literal = !source.contains(['*', '?', '[']);
    literal && !path.is_empty() && cx.ignore.excludes(&path) && !cx.ignore.may_include_below(&path)
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

/// The Python of a `python:3.Y…` base image: the image, its minor version, and the line of
/// the `FROM` the chain starts from.
fn python_base(chain: &[Stage<'_>]) -> Option<(String, u32, usize)> {
    let image = base_image(chain)?;
    let (repo, tag) = repo_and_tag(&image);
    if repo != "python" {
        return None;
    }
    let mut numbers = tag
        .split(|c: char| !c.is_ascii_digit())
        .take(2)
        .map(|n| n.parse::<u32>().ok());
    let (Some(Some(3)), Some(Some(minor))) = (numbers.next(), numbers.next()) else {
        return None;
    };
    let from_line = chain.last().map_or(0, |s| s.from.line);
    Some((image, minor, from_line))
}

/// What the pip installs of the chain ask of a Python 3.`minor`.
struct PipInstalls {
    /// The first requirement that needs a newer Python (read in order, the scan stops
    /// there): the requirement's line and the minor version it needs.
    too_old: Option<(String, u32)>,
    /// Whether FastAPI is installed (by the requirements read before `too_old`).
    fastapi: bool,
}

/// The requirements the chain's `pip install`s name (directly, or in `-r` files of the build
/// context), against Python 3.`minor`.
fn pip_installs(cx: &Context<'_>, chain: &[Stage<'_>], minor: u32) -> PipInstalls {
    let mut fastapi = false;
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
                    fastapi |= req.name == "fastapi";
                    if let Some(needed) = needs_python(&req) {
                        if needed > minor {
                            return PipInstalls {
                                too_old: Some((line.to_owned(), needed)),
                                fastapi,
                            };
                        }
                    }
                }
            }
        }
    }
    PipInstalls {
        too_old: None,
        fastapi,
    }
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

#[cfg(test)]
mod tests {
    use super::super::registry;
    use super::*;

    fn ids(files: &[(&str, &str)]) -> Vec<(&'static str, usize)> {
        let mut out = super::super::found_by("docker", files);
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
        for entry in registry::RULES.iter().filter(|e| e.family == "docker") {
            (entry.check)(&facts, &mut Vec::new());
        }
    }
}

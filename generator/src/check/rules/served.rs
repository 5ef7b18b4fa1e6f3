//! The Python modules a Space really serves: the app the root Dockerfile's server starts
//! (`uvicorn module:attr`, gunicorn, hypercorn, `fastapi run FILE`, `python FILE` calling
//! `uvicorn.run`), found in the image the Dockerfile builds (its `WORKDIR`s, `COPY`s and
//! `PYTHONPATH`), and every project module reachable from it through imports (absolute,
//! relative, and the packages' `__init__`). When the files cannot prove which modules are
//! served (no Dockerfile, a server started from a variable, code the build fetches or moves,
//! an import computed at run time) every module counts as served, as if there were no graph.
//! When they prove that the module the server names is not in the image, nothing is served.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::docker::server::{self, Kind as ServerKind, Server};
use crate::check::dockerfile::{self, Args, Stage};
use crate::check::ignore_file::clean;
use crate::check::python::{Import, Module};
use crate::check::Project;

/// The most `COPY` instructions and imports followed: beyond them the graph is unknown.
const MAX_COPIES: usize = 64;
const MAX_IMPORTS: usize = 100_000;

/// Base images that hold no application code of their own.
const PLAIN_BASES: &[&str] = &[
    "python",
    "ubuntu",
    "debian",
    "alpine",
    "nvidia/cuda",
    "pytorch/pytorch",
    "continuumio/miniconda3",
    "condaforge/miniforge3",
    "mambaorg/micromamba",
    "ghcr.io/astral-sh/uv",
];

/// Build commands that may put code into the image that no `COPY` shows.
const FETCHES: &[&str] = &[
    "git ",
    "wget",
    "curl",
    "cp ",
    "mv ",
    "ln ",
    "tar ",
    "unzip",
    "rsync",
    "npm",
    "yarn",
    "pnpm",
    "bun ",
    "pip install .",
    "pip install -e",
    "uv sync",
    "poetry install",
    "setup.py",
];

/// Calls that change where imports are found.
const PATH_CHANGES: &[&str] = &["sys.path.insert", "sys.path.append", "sys.path.extend"];

/// Calls that import modules by a name computed at run time.
const DYNAMIC: &[&str] = &[
    "importlib.import_module",
    "import_module",
    "__import__",
    "exec",
    "runpy.run_path",
    "runpy.run_module",
];

/// Which modules are served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Served {
    /// The served project files; `None` when the files do not prove them (all count).
    files: Option<BTreeSet<String>>,
    /// The sources of the final stage's `COPY`s, when they are all the image's code.
    sources: Option<Vec<String>>,
}

impl Served {
    /// Every module counts as served.
    fn unknown() -> Served {
        Served {
            files: None,
            sources: None,
        }
    }

    /// The served modules of `project`, whose Python files `python` holds parsed.
    pub(crate) fn of(project: &Project, python: &[(&str, Module)]) -> Served {
        graph(project, python).unwrap_or_else(Served::unknown)
    }

    /// Whether `file` is served (always, when that cannot be known).
    pub(crate) fn includes(&self, file: &str) -> bool {
        self.files.as_ref().is_none_or(|f| f.contains(file))
    }

    /// Whether the image certainly holds nothing of a folder the code names with `parts` (the
    /// literal pieces of a path such as `["frontend", "dist"]`): the project has a folder of
    /// the first name, and no `COPY` of a complete image copies it (every `COPY` names its
    /// sources, none the whole build context or a pattern). `false` whenever unsure.
    pub(crate) fn lacks_folder(&self, project: &Project, parts: &[&str]) -> bool {
        let Some(sources) = &self.sources else {
            return false;
        };
        if sources.iter().any(|s| s.is_empty() || s.contains('*')) {
            return false;
        }
        let Some(first) = parts
            .iter()
            .flat_map(|p| p.split('/'))
            .find(|p| !p.is_empty() && *p != "." && *p != "..")
        else {
            return false;
        };
        let folder_of = |path: &str| {
            let mut dirs = path.split('/').collect::<Vec<_>>();
            dirs.pop();
            dirs.contains(&first)
        };
        let in_project = project.files().any(|(p, _)| folder_of(p));
        let copied = sources.iter().any(|s| s.split('/').any(|d| d == first))
            || project.files().any(|(p, _)| {
                folder_of(p)
                    && sources
                        .iter()
                        .any(|s| p == s || p.starts_with(&format!("{s}/")))
            });
        in_project && !copied
    }
}

/// The root Dockerfile: `Dockerfile`, else `dockerfile` (which Docker also builds).
fn root_dockerfile(project: &Project) -> Option<(&'static str, &str)> {
    ["Dockerfile", "dockerfile"]
        .into_iter()
        .find_map(|name| project.text(name).map(|text| (name, text)))
}

/// What the final stage copies into the image, and whether that is all of its code.
struct Image {
    /// The Python files: image path (without the leading `/`) → project path.
    files: BTreeMap<String, String>,
    sources: Vec<String>,
    complete: bool,
    workdir: String,
    pythonpath: Vec<String>,
}

fn image(project: &Project, chain: &[Stage<'_>]) -> Option<Image> {
    let mut files = BTreeMap::new();
    let mut copied = Vec::new();
    let base = chain.last()?.image.to_ascii_lowercase();
    let base = base
        .trim_start_matches("docker.io/")
        .trim_start_matches("library/");
    let base_name = base.split([':', '@']).next().unwrap_or(base);
    let mut complete = PLAIN_BASES.contains(&base_name);
    let env = server::environment(chain);
    let known = |text: &str| server::expand(text, &env);
    let mut workdir = String::new();
    let mut copies = 0;
    for stage in chain.iter().rev() {
        for i in stage.body {
            match i.keyword.as_str() {
                "WORKDIR" => {
                    let dir = known(i.text().trim().trim_matches('"'))?;
                    workdir = join(&workdir, &dir);
                }
                "COPY" | "ADD" => {
                    copies += 1;
                    if copies > MAX_COPIES {
                        return None;
                    }
                    let words = i.words().unwrap_or_default();
                    let Some((dest, sources)) = words.split_last() else {
                        continue;
                    };
                    let Some(dest) = known(dest) else {
                        complete = false;
                        continue;
                    };
                    if i.flag("from").is_some()
                        || sources.is_empty()
                        || (i.keyword == "ADD"
                            && sources
                                .iter()
                                .any(|s| s.contains("://") || s.contains(".tar")))
                    {
                        complete = false;
                        continue;
                    }
                    let into_dir = dest.ends_with('/') || sources.len() > 1;
                    let dest = join(&workdir, &dest);
                    for source in sources {
                        copied.push(clean(source));
                        copy(project, source, &dest, into_dir, &mut files);
                    }
                }
                "RUN" => {
                    let text = i.text();
                    if FETCHES.iter().any(|f| text.contains(f)) {
                        complete = false;
                    }
                }
                _ => {}
            }
        }
    }
    let pythonpath = env
        .get("PYTHONPATH")
        .map(|p| {
            p.split(':')
                .filter(|d| !d.is_empty())
                .filter_map(known)
                .map(|d| join(&workdir, &d))
                .collect()
        })
        .unwrap_or_default();
    Some(Image {
        files,
        sources: copied,
        complete,
        workdir,
        pythonpath,
    })
}

/// `path` from directory `dir` (both without a leading `/`), normalised.
fn join(dir: &str, path: &str) -> String {
    if path.starts_with('/') {
        clean(path)
    } else {
        clean(&format!("{dir}/{path}"))
    }
}

/// Whether `name` matches `pattern`, where `*` stands for any run of characters.
fn matches(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let pieces: Vec<&str> = parts.collect();
    for (n, piece) in pieces.iter().enumerate() {
        if n + 1 == pieces.len() {
            return rest.ends_with(piece);
        }
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// Adds the Python files of the project `COPY source dest` puts into the image.
fn copy(
    project: &Project,
    source: &str,
    dest: &str,
    into_dir: bool,
    files: &mut BTreeMap<String, String>,
) {
    let source = clean(source);
    let under = |p: &str, dir: &str| -> Option<String> {
        if dir.is_empty() {
            Some(p.to_owned())
        } else {
            p.strip_prefix(dir)
                .and_then(|r| r.strip_prefix('/'))
                .map(str::to_owned)
        }
    };
    for (path, _) in project.python() {
        let target = if source.contains('*') {
            let (dir, pattern) = source.rsplit_once('/').unwrap_or(("", source.as_str()));
            match under(path, dir) {
                Some(rest) if !rest.contains('/') && matches(pattern, &rest) => join(dest, &rest),
                _ => continue,
            }
        } else if path == source {
            if into_dir {
                join(dest, path.rsplit('/').next().unwrap_or(path))
            } else {
                dest.to_owned()
            }
        } else if let Some(rest) = under(path, &source) {
            join(dest, &rest)
        } else {
            continue;
        };
        files.insert(target, path.to_owned());
    }
}

/// `module:attr` (a uvicorn, gunicorn or hypercorn app): the module.
fn app_module(arg: &str) -> Option<&str> {
    let (module, attr) = arg.split_once(':')?;
    let ident = |s: &str| {
        s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let attr = attr.split('(').next().unwrap_or(attr);
    (module.split('.').all(ident) && ident(attr)).then_some(module)
}

/// The image files that importing module `dotted` from `root` runs, parents first: for each
/// part `a/b.py` or `a/b/__init__.py`, nothing for a namespace package (a folder without
/// `__init__.py`); `None` when a part is not in the image.
fn module_files(files: &BTreeMap<String, String>, root: &str, dotted: &str) -> Option<Vec<String>> {
    let parts: Vec<&str> = dotted.split('.').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return None;
    }
    let mut found = Vec::new();
    let mut base = root.to_owned();
    for part in parts {
        base = join(&base, part);
        let file = format!("{base}.py");
        let init = format!("{base}/__init__.py");
        if files.contains_key(&file) {
            found.push(file);
        } else if files.contains_key(&init) {
            found.push(init);
        } else if !is_folder(files, &base) {
            return None;
        }
    }
    Some(found)
}

/// Whether the image holds a file under `dir`.
fn is_folder(files: &BTreeMap<String, String>, dir: &str) -> bool {
    let prefix = format!("{dir}/");
    files
        .range(prefix.clone()..)
        .next()
        .is_some_and(|(p, _)| p.starts_with(&prefix))
}

/// The module file of `dotted` under one of `search`, with its parents' `__init__`.
fn find_module(
    files: &BTreeMap<String, String>,
    search: &[String],
    dotted: &str,
) -> Option<Vec<String>> {
    search.iter().find_map(|r| {
        module_files(files, r, dotted).filter(|f| f.last().is_some_and(|l| l.ends_with(".py")))
    })
}

/// Where the server starts: the image files it imports first, and the folders on its path.
struct Start {
    roots: Vec<String>,
    search: Vec<String>,
}

fn start(server: &Server, cwd: &str, image: &Image) -> Option<Result<Start, ()>> {
    let files = &image.files;
    let with_path = |mut search: Vec<String>| {
        search.extend(image.pythonpath.iter().cloned());
        search
    };
    match server.kind {
        ServerKind::Uvicorn | ServerKind::Gunicorn | ServerKind::Hypercorn => {
            let target = server.args.iter().find_map(|a| app_module(a))?;
            let cwd = match server.option(&["--chdir"]) {
                Some(dir) if dir.contains('$') => return None,
                Some(dir) => join(cwd, dir),
                None => cwd.to_owned(),
            };
            let root = match server.option(&["--app-dir"]) {
                Some(dir) if dir.contains('$') => return None,
                Some(dir) => join(&cwd, dir),
                None => cwd,
            };
            let mut search = vec![root.clone()];
            search.extend(
                server
                    .options(&["--pythonpath"])
                    .iter()
                    .flat_map(|p| p.split(','))
                    .map(|p| join(&root, p)),
            );
            let search = with_path(search);
            let found = find_module(files, &search, target);
            Some(match found {
                Some(roots) => Ok(Start { roots, search }),
                None => Err(()),
            })
        }
        ServerKind::FastapiCli { .. } => {
            let given: Vec<&String> = server
                .args
                .iter()
                .filter(|a| a.ends_with(".py") && !a.starts_with('-'))
                .collect();
            let candidates: Vec<String> = match given.as_slice() {
                [one] => vec![join(cwd, one)],
                [] if !server.args.iter().any(|a| !a.starts_with('-')) => [
                    "main.py",
                    "app.py",
                    "api.py",
                    "app/main.py",
                    "app/app.py",
                    "api/main.py",
                    "api/app.py",
                ]
                .iter()
                .map(|c| join(cwd, c))
                .collect(),
                _ => return None,
            };
            let Some(file) = candidates.into_iter().find(|c| files.contains_key(c)) else {
                return Some(Err(()));
            };
            // The first folder up that is not a package goes on the path.
            let mut dir = file.rsplit_once('/').map_or("", |(d, _)| d).to_owned();
            while !dir.is_empty() && files.contains_key(&format!("{dir}/__init__.py")) {
                dir = dir.rsplit_once('/').map_or("", |(d, _)| d).to_owned();
            }
            Some(Ok(Start {
                roots: vec![file],
                search: with_path(vec![dir]),
            }))
        }
        // Started from a Python file: see [`script_start`].
        ServerKind::UvicornRun => None,
    }
}

/// A `python FILE.py` (or `python -m module`) command whose file calls `uvicorn.run`: that
/// file, and the module `uvicorn.run("module:app")` names; the file's folder is on the path.
fn script_start(
    python: &[(&str, Module)],
    words: &[String],
    cwd: &str,
    image: &Image,
) -> Option<Result<Start, ()>> {
    let files = &image.files;
    let at = words.iter().position(|w| {
        let name = w.rsplit('/').next().unwrap_or(w);
        name == "python"
            || name
                .strip_prefix("python")
                .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
    })?;
    let mut rest = words[at + 1..].iter().filter(|w| *w != "-u");
    let script = match rest.next()?.as_str() {
        "-m" => {
            let module = rest.next()?;
            let found = find_module(files, &[cwd.to_owned()], module)
                .and_then(|f| f.last().cloned())
                .or_else(|| {
                    let main = join(cwd, &format!("{}/__main__.py", module.replace('.', "/")));
                    files.contains_key(&main).then_some(main)
                });
            match found {
                Some(f) => f,
                None => return Some(Err(())),
            }
        }
        file if file.ends_with(".py") && !file.contains('$') => {
            let path = join(cwd, file);
            if !files.contains_key(&path) {
                return Some(Err(()));
            }
            path
        }
        _ => return None,
    };
    let project_path = files.get(&script)?;
    let module = python
        .iter()
        .find(|(f, _)| *f == project_path.as_str())
        .map(|(_, m)| m)?;
    let from_uvicorn = module
        .imports
        .iter()
        .any(|i| i.module == "uvicorn" && i.name.as_deref() == Some("run"));
    let runs: Vec<_> = module
        .calls
        .iter()
        .filter(|c| c.name == "uvicorn.run" || (from_uvicorn && c.name == "run"))
        .collect();
    if runs.is_empty() {
        return None;
    }
    let dir = script.rsplit_once('/').map_or("", |(d, _)| d).to_owned();
    let mut search = vec![dir];
    search.extend(image.pythonpath.iter().cloned());
    let mut roots = vec![script];
    for call in runs {
        if let Some(target) = call.arg(0, "app").and_then(|v| v.as_str()) {
            let target = app_module(target)?;
            roots.extend(find_module(files, &search, target)?);
        }
    }
    Some(Ok(Start { roots, search }))
}

/// The words of the final stage's `ENTRYPOINT` and `CMD`.
fn command_words(chain: &[Stage<'_>]) -> Vec<String> {
    let last = |keyword: &str| {
        chain
            .iter()
            .find_map(|s| s.body.iter().rev().find(|i| i.keyword == keyword))
    };
    [last("ENTRYPOINT"), last("CMD")]
        .into_iter()
        .flatten()
        .flat_map(|i| {
            match &i.args {
                Args::Exec(list) => list.join(" "),
                Args::Shell(text) => text.clone(),
            }
            .split_whitespace()
            .map(|w| w.trim_matches(['"', '\'']).to_owned())
            .collect::<Vec<_>>()
        })
        .collect()
}

/// The working directory of the server: the final `WORKDIR`, changed by a `cd DIR` in the
/// command; `None` when a start script or a variable hides it.
fn server_cwd(words: &[String], workdir: &str) -> Option<String> {
    let mut cwd = workdir.to_owned();
    let mut words = words.iter();
    while let Some(w) = words.next() {
        if w == "cd" {
            let dir = words.next()?.trim_end_matches([';', '&']);
            if dir.contains('$') || dir.is_empty() {
                return None;
            }
            cwd = join(&cwd, dir);
        }
    }
    Some(cwd)
}

fn graph(project: &Project, python: &[(&str, Module)]) -> Option<Served> {
    let (path, text) = root_dockerfile(project)?;
    let parsed = dockerfile::parse(text);
    let chain = parsed.final_chain();
    if chain.is_empty() {
        return None;
    }
    let server = server::find(project, path, "", &chain);
    let image = image(project, &chain)?;
    let words = command_words(&chain);
    let cwd = server_cwd(&words, &image.workdir)?;
    let started = match &server {
        // A start script may change folders: its server is not placed.
        Some(s) if s.file != path && s.kind != ServerKind::UvicornRun => return None,
        Some(s) if s.kind != ServerKind::UvicornRun => start(s, &cwd, &image)?,
        _ => script_start(python, &words, &cwd, &image)?,
    };
    let start = match started {
        Ok(start) => start,
        // The module the server names is not in the image: the app does not start.
        Err(()) if image.complete => {
            return Some(Served {
                files: Some(BTreeSet::new()),
                sources: Some(image.sources),
            })
        }
        Err(()) => return None,
    };
    let modules: BTreeMap<&str, &Module> = python.iter().map(|(f, m)| (*f, m)).collect();
    // Names of the project's top-level modules and packages (and those under `src/`).
    let project_names: BTreeSet<&str> = image
        .files
        .values()
        .filter_map(|p| {
            let p = p.strip_prefix("src/").unwrap_or(p);
            let first = p.split('/').next()?;
            Some(first.strip_suffix(".py").unwrap_or(first))
        })
        .collect();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut queue: VecDeque<String> = start.roots.iter().cloned().collect();
    let mut followed = 0;
    let mut unresolved: BTreeSet<&str> = BTreeSet::new();
    let mut path_changed = false;
    while let Some(file) = queue.pop_front() {
        if !seen.insert(file.clone()) {
            continue;
        }
        let project_path = image.files.get(&file)?;
        let module = modules.get(project_path.as_str())?;
        if module
            .calls
            .iter()
            .any(|c| DYNAMIC.contains(&c.name.as_str()))
        {
            return None;
        }
        path_changed |= module
            .calls
            .iter()
            .any(|c| PATH_CHANGES.contains(&c.name.as_str()));
        for import in &module.imports {
            followed += 1;
            if followed > MAX_IMPORTS {
                return None;
            }
            match resolve(&image.files, &start.search, &file, import) {
                Some(found) => queue.extend(found),
                // Project code the graph cannot place may be reached some other way.
                None if import.level > 0 => return None,
                None => {
                    unresolved.insert(import.module.split('.').next().unwrap_or(""));
                }
            }
        }
    }
    // After `sys.path` changes, any package of the project may be reached unplaced.
    let any_name: BTreeSet<&str> = if path_changed {
        image
            .files
            .values()
            .flat_map(|p| p.rsplit_once('/').map(|(dirs, _)| dirs.split('/')))
            .flatten()
            .collect()
    } else {
        BTreeSet::new()
    };
    if unresolved
        .iter()
        .any(|name| project_names.contains(name) || any_name.contains(name))
    {
        return None;
    }
    let files = seen
        .iter()
        .filter_map(|f| image.files.get(f).cloned())
        .collect();
    Some(Served {
        files: Some(files),
        sources: image.complete.then_some(image.sources),
    })
}

/// The image files an import runs: the module, its parent packages' `__init__`, and a
/// submodule it names (`from pkg import sub`).
fn resolve(
    files: &BTreeMap<String, String>,
    search: &[String],
    importer: &str,
    import: &Import,
) -> Option<Vec<String>> {
    let bases: Vec<String> = if import.level > 0 {
        let mut dir = importer.rsplit_once('/').map_or("", |(d, _)| d).to_owned();
        for _ in 1..import.level {
            if dir.is_empty() {
                return None;
            }
            dir = dir.rsplit_once('/').map_or("", |(d, _)| d).to_owned();
        }
        vec![dir]
    } else {
        search.to_vec()
    };
    for base in &bases {
        let mut found = if import.module.is_empty() {
            // `from . import name`: the package itself.
            let init = join(base, "__init__.py");
            if !files.contains_key(&init) && !is_folder(files, base) {
                continue;
            }
            files
                .contains_key(&init)
                .then_some(init)
                .into_iter()
                .collect()
        } else {
            match module_files(files, base, &import.module) {
                Some(found) => found,
                None => continue,
            }
        };
        if let Some(name) = &import.name {
            let dotted = format!("{}.{name}", import.module);
            if let Some(sub) = module_files(files, base, &dotted) {
                if let Some(last) = sub.last().filter(|l| !found.contains(l)) {
                    found.push(last.clone());
                }
            }
        }
        return Some(found);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::python;

    fn served(files: &[(&str, &str)]) -> Option<Vec<String>> {
        let project = Project::from_files(files);
        let python = python::modules(&project);
        let served = Served::of(&project, &python);
        served.files.map(|f| f.into_iter().collect())
    }

    const APP: &str = "from fastapi import FastAPI\napp = FastAPI()\n";

    #[test]
    fn the_module_the_command_names_and_what_it_imports() {
        let docker =
            "FROM python:3.12\nWORKDIR /code\nCOPY . .\nCMD [\"uvicorn\", \"app.main:app\"]\n";
        let main = "from fastapi import FastAPI\nfrom .routers import items\nfrom app.core import config\nimport os\napp = FastAPI()\n";
        let files = [
            ("Dockerfile", docker),
            ("app/__init__.py", ""),
            ("app/main.py", main),
            ("app/routers/__init__.py", ""),
            ("app/routers/items.py", "from ..db import session\n"),
            ("app/db.py", ""),
            ("app/core/__init__.py", ""),
            ("app/core/config.py", ""),
            ("scripts/debug.py", APP),
        ];
        assert_eq!(
            served(&files).unwrap(),
            vec![
                "app/__init__.py",
                "app/core/__init__.py",
                "app/core/config.py",
                "app/db.py",
                "app/main.py",
                "app/routers/__init__.py",
                "app/routers/items.py",
            ]
        );
    }

    #[test]
    fn a_module_the_image_does_not_hold_serves_nothing() {
        let docker = "FROM python:3.12\nWORKDIR /code\nCOPY ./requirements.txt /code/requirements.txt\nRUN pip install -r requirements.txt\nCOPY . .\nCMD [\"uvicorn\", \"app:app\", \"--port\", \"7860\"]\n";
        let files = [("Dockerfile", docker), ("backend/app.py", APP)];
        assert_eq!(served(&files), Some(vec![]));
        // Copied into place, it is served.
        let copied = docker.replace("COPY . .", "COPY backend/ .");
        let files = [("Dockerfile", copied.as_str()), ("backend/app.py", APP)];
        assert_eq!(served(&files).unwrap(), vec!["backend/app.py"]);
        // The lowercase name Docker also builds.
        let files = [("dockerfile", docker), ("backend/app.py", APP)];
        assert_eq!(served(&files), Some(vec![]));
    }

    #[test]
    fn what_the_files_cannot_prove_serves_everything() {
        let files = [("main.py", APP)];
        assert_eq!(served(&files), None, "no Dockerfile");
        let fetched = "FROM python:3.12\nWORKDIR /code\nRUN git clone https://example.com/x.git .\nCMD uvicorn app:app\n";
        assert_eq!(
            served(&[("Dockerfile", fetched), ("backend/app.py", APP)]),
            None
        );
        let variable = "FROM python:3.12\nCOPY . .\nCMD uvicorn $APP_MODULE\n";
        assert_eq!(served(&[("Dockerfile", variable), ("app.py", APP)]), None);
        let dynamic = "import importlib\napp = FastAPI()\nimportlib.import_module('plugins')\n";
        let docker = "FROM python:3.12\nCOPY . .\nCMD uvicorn main:app\n";
        assert_eq!(
            served(&[("Dockerfile", docker), ("main.py", dynamic)]),
            None
        );
        let unplaced = "from helpers import x\napp = FastAPI()\n";
        assert_eq!(
            served(&[
                ("Dockerfile", docker),
                ("main.py", unplaced),
                ("src/helpers.py", "")
            ]),
            None,
            "project code imported from a folder not on the path"
        );
        let moved =
            "import sys\nsys.path.insert(0, 'lib')\nfrom services import chat\napp = FastAPI()\n";
        let files = [
            ("Dockerfile", docker),
            ("main.py", moved),
            ("lib/services/chat.py", ""),
        ];
        assert_eq!(served(&files), None, "a package placed by sys.path");
        let own = "import sys, logging\nsys.path.insert(0, '.')\nimport db\napp = FastAPI()\n";
        let files = [
            ("Dockerfile", docker),
            ("main.py", own),
            ("db.py", ""),
            ("mw/logging.py", ""),
        ];
        assert_eq!(served(&files).unwrap(), vec!["db.py", "main.py"]);
        let custom_base = "FROM tiangolo/uvicorn-gunicorn-fastapi\nCMD uvicorn app:app\n";
        assert_eq!(
            served(&[("Dockerfile", custom_base), ("x/app.py", APP)]),
            None
        );
    }

    #[test]
    fn other_ways_to_start_the_app() {
        let app_dir =
            "FROM python:3.12\nWORKDIR /srv\nCOPY . .\nCMD uvicorn main:app --app-dir backend\n";
        let files = [
            ("Dockerfile", app_dir),
            ("backend/main.py", "import models\n"),
            ("backend/models.py", ""),
            ("main.py", APP),
        ];
        assert_eq!(
            served(&files).unwrap(),
            vec!["backend/main.py", "backend/models.py"]
        );
        let cd = "FROM python:3.12\nWORKDIR /srv\nCOPY . .\nCMD cd backend && gunicorn -k uvicorn.workers.UvicornWorker -b 0.0.0.0:7860 main:app\n";
        let files = [
            ("Dockerfile", cd),
            ("backend/main.py", APP),
            ("main.py", APP),
        ];
        assert_eq!(served(&files).unwrap(), vec!["backend/main.py"]);
        // The documented Space layout: a home folder named through a variable.
        let home = "FROM python:3.12\nRUN useradd -m -u 1000 user\nUSER user\nENV HOME=/home/user \\\n    PATH=/home/user/.local/bin:$PATH\nWORKDIR $HOME/app\nCOPY --chown=user . $HOME/app\nCMD [\"uvicorn\", \"app:app\", \"--host\", \"0.0.0.0\", \"--port\", \"7860\"]\n";
        let files = [("Dockerfile", home), ("app.py", APP), ("old.py", APP)];
        assert_eq!(served(&files).unwrap(), vec!["app.py"]);
        let path = home.replace("ENV HOME", "ENV PYTHONPATH=$HOME/app/src:$PYTHONPATH HOME");
        let main = "from fastapi import FastAPI\nimport models\napp = FastAPI()\n";
        let files = [
            ("Dockerfile", path.as_str()),
            ("app.py", main),
            ("src/models.py", ""),
        ];
        assert_eq!(served(&files).unwrap(), vec!["app.py", "src/models.py"]);
        let cli = "FROM python:3.12\nWORKDIR /srv\nCOPY . .\nCMD [\"fastapi\", \"run\", \"app/main.py\", \"--port\", \"7860\"]\n";
        let files = [
            ("Dockerfile", cli),
            ("app/__init__.py", ""),
            ("app/main.py", "from app import deps\n"),
            ("app/deps.py", ""),
            ("other.py", APP),
        ];
        assert_eq!(
            served(&files).unwrap(),
            vec!["app/__init__.py", "app/deps.py", "app/main.py"]
        );
        let run = "import uvicorn\nfrom api import app\nif __name__ == '__main__':\n    uvicorn.run(app, host='0.0.0.0', port=7860)\n";
        let script = "FROM python:3.12\nWORKDIR /home/user/app\nCOPY backend/ .\nCMD [\"python\", \"run.py\"]\n";
        let files = [
            ("Dockerfile", script),
            ("backend/run.py", run),
            ("backend/api.py", APP),
            ("backend/old.py", APP),
        ];
        assert_eq!(
            served(&files).unwrap(),
            vec!["backend/api.py", "backend/run.py"]
        );
    }

    #[test]
    fn missing_folders_only_when_the_image_is_known() {
        let docker = "FROM python:3.12\nWORKDIR /app\nCOPY backend/ ./backend/\nWORKDIR /app/backend\nCMD [\"uvicorn\", \"main:app\"]\n";
        let files = [
            ("Dockerfile", docker),
            ("backend/main.py", APP),
            ("backend/static/app.js", ""),
            ("frontend/package.json", "{}"),
        ];
        let lacks = |files: &[(&str, &str)], parts: &[&str]| {
            let project = Project::from_files(files);
            let python = python::modules(&project);
            Served::of(&project, &python).lacks_folder(&project, parts)
        };
        assert!(lacks(&files, &["frontend", "dist"]));
        assert!(lacks(&files, &["../frontend/dist"]));
        assert!(!lacks(&files, &["static"]), "copied with backend/");
        assert!(!lacks(&files, &["public"]), "no such folder in the project");
        assert!(!lacks(&files, &[]));
        let everything = docker.replace("COPY backend/ ./backend/", "COPY . .");
        let mut all = files;
        all[0].1 = everything.as_str();
        assert!(
            !lacks(&all, &["frontend", "dist"]),
            "the whole context is copied"
        );
        let built = docker.replace(
            "WORKDIR /app/backend",
            "RUN npm run build\nWORKDIR /app/backend",
        );
        let mut all = files;
        all[0].1 = built.as_str();
        assert!(!lacks(&all, &["frontend", "dist"]), "the build may make it");
    }
}

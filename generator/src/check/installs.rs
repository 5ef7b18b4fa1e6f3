//! What the image installs: for every `Dockerfile` (the file a Space builds, its folder the build
//! context), the Python install commands of its RUN instructions (`pip install`, `python -m pip
//! install`, `uv pip install`/`sync`, `uv sync`, `poetry install`, `pdm install`, `pipenv
//! install`), with the requirements files they install (resolved through the COPY instructions
//! before them, and the `-r` lines inside them), the packages named on the command line, and the
//! project installs from `pyproject.toml` with whether a lock file (`uv.lock`, `poetry.lock`,
//! `pdm.lock`) was copied for them to use. A path that cannot be resolved is left out, never
//! guessed.

use std::collections::BTreeSet;

use super::dockerfile::{self, Instruction};
use super::ignore_file::clean;
use super::requirements::{entries, Entry};
use super::Project;

/// Installers' own packages: upgrading them is not a dependency of the app.
const TOOLS: &[&str] = &[
    "pip",
    "setuptools",
    "wheel",
    "uv",
    "poetry",
    "pipenv",
    "pdm",
    "pip-tools",
    "virtualenv",
    "hatch",
];

/// pip and uv options that take a value as the next word.
const VALUE_OPTIONS: &[&str] = &[
    "-i",
    "--index-url",
    "--extra-index-url",
    "--index",
    "--default-index",
    "-f",
    "--find-links",
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--platform",
    "--python-version",
    "--implementation",
    "--abi",
    "--only-binary",
    "--no-binary",
    "--progress-bar",
    "--src",
    "--upgrade-strategy",
    "--log",
    "--cache-dir",
    "--trusted-host",
    "--timeout",
    "--retries",
    "--proxy",
    "-C",
    "--config-settings",
    "--global-option",
    "-p",
    "--python",
    "--extra",
    "--group",
    "--only-group",
    "--package",
    "--directory",
    "--project",
    "--index-strategy",
    "--keyring-provider",
    "--resolution",
    "--prerelease",
];

/// The most install commands read from a project's Dockerfiles, and the most COPY sources
/// looked through for one path: a hostile Dockerfile cannot make the work quadratic.
const MAX_COMMANDS: usize = 256;
const MAX_SOURCES: usize = 4096;

/// Everything the project's Dockerfiles install.
#[derive(Debug, Default)]
pub(crate) struct Installs {
    /// Whether a Dockerfile installs Python packages the app needs (not only pip itself): then
    /// only what the Dockerfiles install is what the Space runs with.
    pub known: bool,
    /// The requirements files installed (`-r`, and the files they include), by project path.
    pub files: BTreeSet<String>,
    /// The constraints files given with `-c`, by project path.
    pub constraints: BTreeSet<String>,
    /// Packages named on an install command line.
    pub packages: Vec<Named>,
    /// Installs of a project from its `pyproject.toml`.
    pub projects: Vec<ProjectInstall>,
}

/// A package named on an install command line of a Dockerfile.
#[derive(Debug, Clone)]
pub(crate) struct Named {
    pub dockerfile: String,
    /// The RUN's line.
    pub line: usize,
    pub entry: Entry,
}

/// Which tool installs a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tool {
    Pip,
    Uv,
    Poetry,
    Pdm,
}

impl Tool {
    /// The lock file the tool installs from, if it has one.
    pub(crate) fn lock(self) -> Option<&'static str> {
        match self {
            Tool::Pip => None,
            Tool::Uv => Some("uv.lock"),
            Tool::Poetry => Some("poetry.lock"),
            Tool::Pdm => Some("pdm.lock"),
        }
    }
}

/// A project installed from its `pyproject.toml`.
#[derive(Debug, Clone)]
pub(crate) struct ProjectInstall {
    pub dockerfile: String,
    /// The RUN's line.
    pub line: usize,
    /// The command as written (`uv sync --no-dev`).
    pub command: String,
    pub tool: Tool,
    /// The `pyproject.toml` it installs, by project path.
    pub pyproject: String,
    /// Whether the tool's lock file was in the image (copied or mounted) when it ran.
    pub locked: bool,
}

/// One install command, as words say it.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Command {
    /// `-r` arguments, as written.
    pub files: Vec<String>,
    /// `-c` arguments, as written.
    pub constraints: Vec<String>,
    /// Requirements named as arguments (not paths, URLs or options).
    pub packages: Vec<String>,
    /// The project tool, when the command installs a project (`uv sync`, `pip install .`).
    pub project: Option<Tool>,
    /// A folder or `pyproject.toml` named for the project (`pip install ./api`), as written.
    pub project_path: Option<String>,
    /// Whether it installs anything (pipenv installs from a Pipfile, which is not checked).
    pub installs: bool,
}

impl Command {
    /// Whether it installs dependencies of the app (not only installers).
    pub(crate) fn installs_app(&self) -> bool {
        self.installs
            && (!self.files.is_empty()
                || self.project.is_some()
                || self.packages.iter().any(|p| !is_tool(p)))
    }
}

fn is_tool(requirement: &str) -> bool {
    entries(requirement)
        .first()
        .is_some_and(|e| TOOLS.contains(&e.requirement.name.as_str()))
}

/// What `words` (one simple command) install, if they are an install command.
pub(crate) fn command(words: &[String]) -> Option<Command> {
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let base = |w: &str| w.rsplit('/').next().unwrap_or(w).to_owned();
    let names: Vec<String> = words.iter().map(|w| base(w)).collect();
    let at = |i: usize| names.get(i).map(String::as_str);
    let is_python = |w: &str| {
        w.strip_prefix("python")
            .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
    };
    for start in 0..names.len() {
        let first = names[start].as_str();
        let pip_at = if first.starts_with("pip") && at(start + 1) == Some("install") {
            Some(start + 2)
        } else if is_python(first)
            && at(start + 1) == Some("-m")
            && at(start + 3) == Some("install")
        {
            at(start + 2)
                .is_some_and(|m| m.starts_with("pip"))
                .then_some(start + 4)
        } else if first == "uv" && at(start + 1) == Some("pip") {
            matches!(at(start + 2), Some("install" | "sync")).then_some(start + 3)
        } else {
            None
        };
        if let Some(rest) = pip_at {
            return Some(pip(&words[rest..]));
        }
        let project = match (first, at(start + 1)) {
            ("uv", Some("sync")) => Some(Tool::Uv),
            ("poetry", Some("install")) => Some(Tool::Poetry),
            ("pdm", Some("install" | "sync")) => Some(Tool::Pdm),
            ("pipenv", Some("install" | "sync")) => {
                return Some(Command {
                    installs: true,
                    ..Command::default()
                })
            }
            _ => None,
        };
        if let Some(tool) = project {
            let rest = &words[start + 2..];
            let project_path = rest
                .windows(2)
                .find(|w| matches!(w[0], "--project" | "--directory" | "-C"))
                .map(|w| w[1].to_owned());
            return Some(Command {
                project: Some(tool),
                project_path,
                installs: true,
                ..Command::default()
            });
        }
    }
    None
}

/// The arguments of `pip install` (or `uv pip install`).
fn pip(args: &[&str]) -> Command {
    let mut out = Command {
        installs: true,
        ..Command::default()
    };
    let mut words = args.iter();
    while let Some(&w) = words.next() {
        if matches!(w, "&&" | "||" | ";" | "|") {
            break;
        }
        let requirement = if w == "-r" || w == "--requirement" {
            words.next().copied()
        } else {
            w.strip_prefix("--requirement=").or_else(|| {
                w.strip_prefix("-r")
                    .filter(|f| !f.is_empty() && !f.starts_with('-'))
            })
        };
        if let Some(f) = requirement {
            // `uv pip install -r pyproject.toml` installs the project's dependencies.
            if f.ends_with(".toml") {
                local(&mut out, f);
            } else {
                out.files.push(f.to_owned());
            }
        } else if w == "-c" || w == "--constraint" {
            out.constraints
                .extend(words.next().map(|f| (*f).to_owned()));
        } else if let Some(f) = w.strip_prefix("--constraint=") {
            out.constraints.push(f.to_owned());
        } else if w == "-e" || w == "--editable" {
            if let Some(path) = words.next() {
                local(&mut out, path);
            }
        } else if VALUE_OPTIONS.contains(&w) {
            words.next();
        } else if w.starts_with('-') || w.contains('$') || w.contains("://") {
            // An option, a variable or a URL: nothing to say about its pins.
        } else if w.starts_with(['.', '/', '~'])
            || w.ends_with(".whl")
            || w.ends_with(".tar.gz")
            || w.ends_with("pyproject.toml")
        {
            local(&mut out, w);
        } else {
            out.packages.push(w.to_owned());
        }
    }
    // `--no-deps` installs the project alone.
    if args.contains(&"--no-deps") {
        out.project = None;
        out.project_path = None;
    }
    out
}

/// A local path given to pip: a project folder (or its `pyproject.toml`).
fn local(out: &mut Command, path: &str) {
    let path = path.split('[').next().unwrap_or(path);
    if path.ends_with(".whl") || path.ends_with(".tar.gz") || path.ends_with(".zip") {
        return;
    }
    out.project = Some(Tool::Pip);
    out.project_path = Some(path.trim_end_matches("pyproject.toml").to_owned());
}

/// What the `Dockerfile`s of `project` install.
pub(crate) fn of(project: &Project) -> Installs {
    let mut out = Installs::default();
    // Every folder that holds a file, for resolving COPY sources.
    let mut folders: BTreeSet<&str> = BTreeSet::new();
    for (path, _) in project.files() {
        let mut rest = path;
        while let Some((folder, _)) = rest.rsplit_once('/') {
            if !folders.insert(folder) {
                break;
            }
            rest = folder;
        }
    }
    let mut commands = 0;
    let dockerfiles = project
        .dockerfiles()
        .filter(|(p, _)| p.rsplit('/').next() == Some("Dockerfile"));
    for (path, text) in dockerfiles {
        let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
        let parsed = dockerfile::parse(text);
        for stage in parsed.stages() {
            let mut image = Image {
                project,
                folders: &folders,
                dir,
                workdir: "/".to_owned(),
                copies: Vec::new(),
            };
            for i in stage.body {
                image.step(i);
                if i.keyword != "RUN" {
                    continue;
                }
                for words in i.commands() {
                    let Some(command) = command(&words) else {
                        continue;
                    };
                    out.known |= command.installs_app();
                    commands += 1;
                    if commands <= MAX_COMMANDS {
                        record(&mut out, &image, path, i, &words, command);
                    }
                }
            }
        }
    }
    // Files that installed files include with `-r`, relative to the including file.
    let mut pending: Vec<String> = out.files.iter().cloned().collect();
    while let Some(file) = pending.pop() {
        let Some(text) = project.text(&file) else {
            continue;
        };
        let folder = file.rsplit_once('/').map_or("", |(d, _)| d);
        for line in text.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            let (included, constraint) = match words.as_slice() {
                ["-r" | "--requirement", f, ..] => (*f, false),
                ["-c" | "--constraint", f, ..] => (*f, true),
                [w, ..] => match w
                    .strip_prefix("--requirement=")
                    .or_else(|| w.strip_prefix("-r").filter(|f| !f.is_empty()))
                {
                    Some(f) => (f, false),
                    None => continue,
                },
                [] => continue,
            };
            let path = clean(&format!("{folder}/{included}"));
            if project.text(&path).is_none() {
                continue;
            }
            if constraint {
                out.constraints.insert(path);
            } else if out.files.insert(path.clone()) {
                pending.push(path);
            }
        }
    }
    out
}

fn record(
    out: &mut Installs,
    image: &Image<'_>,
    dockerfile: &str,
    run: &Instruction,
    words: &[String],
    command: Command,
) {
    for f in &command.files {
        out.files.extend(image.source(f));
    }
    for f in &command.constraints {
        out.constraints.extend(image.source(f));
    }
    for package in &command.packages {
        if let Some(entry) = entries(package).into_iter().next() {
            if !TOOLS.contains(&entry.requirement.name.as_str()) {
                out.packages.push(Named {
                    dockerfile: dockerfile.to_owned(),
                    line: run.line,
                    entry,
                });
            }
        }
    }
    let Some(tool) = command.project else {
        return;
    };
    let folder = command.project_path.as_deref().unwrap_or(".");
    let Some(pyproject) = image.source(&format!("{folder}/pyproject.toml")) else {
        return;
    };
    let lock_in =
        |name: &str| image.copied(&format!("{folder}/{name}")) || image.mounted(run, name);
    let locked = tool.lock().is_some_and(lock_in);
    out.projects.push(ProjectInstall {
        dockerfile: dockerfile.to_owned(),
        line: run.line,
        command: words.join(" "),
        tool,
        pyproject,
        locked,
    });
}

/// A COPY into the image: its sources (project paths, `""` for the context itself) and the
/// absolute destination, and whether the destination is a folder.
#[derive(Debug)]
struct Copy {
    sources: Vec<String>,
    dest: String,
    into_folder: bool,
}

/// The image of one stage as its instructions build it.
struct Image<'a> {
    project: &'a Project,
    /// Every folder of the project that holds a file.
    folders: &'a BTreeSet<&'a str>,
    /// The build context: the Dockerfile's folder.
    dir: &'a str,
    workdir: String,
    copies: Vec<Copy>,
}

impl Image<'_> {
    fn step(&mut self, i: &Instruction) {
        match i.keyword.as_str() {
            "WORKDIR" => {
                let to = i.text();
                self.workdir = absolute(to.trim(), &self.workdir);
            }
            "COPY" | "ADD" if i.flag("from").is_none() => {
                let Some(words) = i.words() else { return };
                let Some((dest, sources)) = words.split_last() else {
                    return;
                };
                if sources.is_empty() {
                    return;
                }
                self.copies.push(Copy {
                    sources: sources.iter().map(|s| self.context(s)).collect(),
                    dest: absolute(dest, &self.workdir),
                    into_folder: dest.ends_with('/') || sources.len() > 1,
                });
            }
            _ => {}
        }
    }

    /// A path of the build context, as a project path.
    fn context(&self, path: &str) -> String {
        clean(&format!("{}/{}", self.dir, path))
    }

    /// Whether `path` is a folder of the project (the context itself included).
    fn is_folder(&self, path: &str) -> bool {
        path.is_empty() || self.folders.contains(path)
    }

    /// The project file an image path (relative to the WORKDIR) was copied from: through the
    /// latest COPY that put it there, else the same path in the build context.
    fn source(&self, path: &str) -> Option<String> {
        let wanted = absolute(path, &self.workdir);
        let latest = self
            .copies
            .iter()
            .rev()
            .flat_map(|c| c.sources.iter().map(move |s| (c, s)))
            .take(MAX_SOURCES);
        for (copy, source) in latest {
            if let Some(found) = self.through(copy, source, &wanted) {
                return Some(found);
            }
        }
        let direct = self.context(path.trim_start_matches('/'));
        if self.project.text(&direct).is_some() {
            return Some(direct);
        }
        None
    }

    /// The project file at image path `wanted`, if `copy` of `source` put it there.
    fn through(&self, copy: &Copy, source: &str, wanted: &str) -> Option<String> {
        let name = source.rsplit('/').next().unwrap_or(source);
        let candidate = if source.contains('*') || source.contains('?') {
            let rel = wanted.strip_prefix(&format!("{}/", copy.dest.trim_end_matches('/')))?;
            let parent = source.rsplit_once('/').map_or("", |(p, _)| p);
            let file = clean(&format!("{parent}/{rel}"));
            glob(name, file.rsplit('/').next().unwrap_or(&file)).then_some(file)?
        } else if self.is_folder(source) {
            let dest = copy.dest.trim_end_matches('/');
            let rel = if wanted == dest {
                ""
            } else {
                wanted.strip_prefix(&format!("{dest}/"))?
            };
            clean(&format!("{source}/{rel}"))
        } else {
            let target = if copy.into_folder {
                format!("{}/{name}", copy.dest.trim_end_matches('/'))
            } else {
                copy.dest.clone()
            };
            if target != wanted {
                return None;
            }
            source.to_owned()
        };
        self.project.text(&candidate).is_some().then_some(candidate)
    }

    /// Whether the image holds the project file at image path `path` (a lock file).
    fn copied(&self, path: &str) -> bool {
        self.source(path).is_some_and(|found| {
            let wanted = absolute(path, &self.workdir);
            self.copies
                .iter()
                .rev()
                .flat_map(|c| c.sources.iter().map(move |s| (c, s)))
                .take(MAX_SOURCES)
                .any(|(c, s)| self.through(c, s, &wanted).as_ref() == Some(&found))
        })
    }

    /// Whether `run` bind-mounts a file named `name` from the context.
    fn mounted(&self, run: &Instruction, name: &str) -> bool {
        run.flags
            .iter()
            .filter(|f| f.name == "mount")
            .filter_map(|f| f.value.as_deref())
            .any(|v| {
                v.contains("type=bind")
                    && v.split(',').any(|kv| {
                        kv.strip_prefix("source=")
                            .or_else(|| kv.strip_prefix("src="))
                            .is_some_and(|s| s.rsplit('/').next() == Some(name))
                    })
            })
    }
}

/// `path` as an absolute image path, relative ones below `workdir`.
fn absolute(path: &str, workdir: &str) -> String {
    if path.starts_with('/') {
        format!("/{}", clean(path))
    } else {
        format!("/{}", clean(&format!("{workdir}/{path}")))
    }
}

/// Whether `name` matches the glob `pattern` (`*` and `?`, within one path segment).
fn glob(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // Matches of pattern[..i] against name[..j], row by row.
    let mut row = vec![false; n.len() + 1];
    row[0] = true;
    for c in &p {
        let mut next = vec![false; n.len() + 1];
        if *c == '*' {
            next[0] = row[0];
        }
        for j in 1..=n.len() {
            next[j] = match c {
                '*' => next[j - 1] || row[j],
                '?' => row[j - 1],
                c => row[j - 1] && n[j - 1] == *c,
            };
        }
        row = next;
    }
    row[n.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        shlex::split(text).unwrap()
    }

    #[test]
    fn install_commands() {
        let c = command(&words("pip install --no-cache-dir -r req.txt -c c.txt cython onnxruntime==1.20.1 --index-url https://x")).unwrap();
        assert_eq!(c.files, vec!["req.txt"]);
        assert_eq!(c.constraints, vec!["c.txt"]);
        assert_eq!(c.packages, vec!["cython", "onnxruntime==1.20.1"]);
        assert!(c.project.is_none() && c.installs_app());
        let c = command(&words("python3 -m pip install --upgrade pip setuptools")).unwrap();
        assert!(c.installs && !c.installs_app());
        let c = command(&words(
            "/usr/local/bin/uv pip install --system -r requirements.txt",
        ))
        .unwrap();
        assert_eq!(c.files, vec!["requirements.txt"]);
        let c = command(&words("pip install --no-deps -e .")).unwrap();
        assert!(c.project.is_none(), "without its dependencies");
        let c = command(&words("uv pip install --system -r api/pyproject.toml")).unwrap();
        assert!(c.files.is_empty());
        assert_eq!(
            (c.project, c.project_path.as_deref()),
            (Some(Tool::Pip), Some("api/"))
        );
        let c = command(&words("pip install -e .")).unwrap();
        assert_eq!(
            (c.project, c.project_path.as_deref()),
            (Some(Tool::Pip), Some("."))
        );
        let c = command(&words("uv sync --frozen --no-dev --project api")).unwrap();
        assert_eq!(
            (c.project, c.project_path.as_deref()),
            (Some(Tool::Uv), Some("api"))
        );
        assert_eq!(
            command(&words("poetry install --no-root")).unwrap().project,
            Some(Tool::Poetry)
        );
        assert!(
            command(&words("pipenv install --system --deploy")).is_some_and(|c| !c.installs_app())
        );
        for other in ["apt-get install -y gcc", "npm install", "pip download x"] {
            assert!(command(&words(other)).is_none(), "{other}");
        }
    }

    #[test]
    fn files_are_resolved_through_the_copies() {
        let project = Project::from_files(&[
            ("Dockerfile", "FROM p\nWORKDIR /code\nCOPY ./deps/base.txt /code/requirements.txt\nCOPY backend/ ./backend/\nRUN pip install -r /code/requirements.txt && pip install -r backend/requirements.txt\n"),
            ("deps/base.txt", "-r more.txt\nfastapi\n"),
            ("deps/more.txt", "uvicorn\n"),
            ("backend/requirements.txt", "x==1\n"),
            ("backend/main.py", ""),
            ("requirements.txt", "never\n"),
        ]);
        let installs = of(&project);
        assert!(installs.known);
        let files: Vec<&str> = installs.files.iter().map(String::as_str).collect();
        assert_eq!(
            files,
            vec!["backend/requirements.txt", "deps/base.txt", "deps/more.txt"]
        );
    }

    #[test]
    fn a_lock_counts_when_the_image_has_it() {
        let locked = |dockerfile: &str| {
            let project = Project::from_files(&[
                ("Dockerfile", dockerfile),
                ("pyproject.toml", "[project]\nname = \"x\"\n"),
                ("uv.lock", ""),
                ("poetry.lock", ""),
            ]);
            let installs = of(&project);
            assert_eq!(installs.projects.len(), 1, "{dockerfile}");
            installs.projects[0].locked
        };
        assert!(locked("FROM p\nWORKDIR /app\nCOPY . /app\nRUN uv sync\n"));
        assert!(locked(
            "FROM p\nWORKDIR /app\nCOPY pyproject.toml uv.lock ./\nRUN uv sync --locked\n"
        ));
        assert!(locked(
            "FROM p\nCOPY pyproject.toml *.lock ./\nRUN poetry install --no-root\n"
        ));
        assert!(locked("FROM p\nWORKDIR /app\nCOPY pyproject.toml .\nRUN --mount=type=bind,source=uv.lock,target=uv.lock uv sync --frozen\n"));
        assert!(!locked(
            "FROM p\nWORKDIR /app\nCOPY pyproject.toml README.md ./\nRUN uv sync --no-dev\n"
        ));
        assert!(!locked(
            "FROM p\nWORKDIR /app\nCOPY . .\nRUN pip install .\n"
        ));
        assert!(!locked(
            "FROM p\nWORKDIR /app\nCOPY pyproject.toml uv.lock ./\nRUN poetry install\n"
        ));
    }

    #[test]
    fn globs() {
        assert!(glob("*.lock", "uv.lock") && glob("requirements*.txt", "requirements.txt"));
        assert!(!glob("*.lock", "uv.lock.bak") && glob("?v.lock", "uv.lock"));
    }

    #[test]
    fn work_is_bounded_on_hostile_dockerfiles() {
        let mut dockerfile = String::from("FROM p\n");
        for n in 0..20_000 {
            dockerfile.push_str(&format!(
                "COPY d{n}/ /app/d{n}/\nRUN pip install -r /x/r{n}.txt\n"
            ));
        }
        let files: Vec<(String, String)> = (0..5_000)
            .map(|n| (format!("d{n}/sub/r.txt"), String::new()))
            .collect();
        let mut all: Vec<(&str, &str)> = vec![("Dockerfile", &dockerfile)];
        all.extend(files.iter().map(|(p, t)| (p.as_str(), t.as_str())));
        let project = Project::from_files(&all);
        // Its time is measured by bench/check.py.
        let installs = of(&project);
        assert!(installs.known);
    }
}

//! The proof behind SG101: a write the app makes at run time that uid 1000 cannot make in an
//! image built for root. An image without USER is harmless while the app only reads; it
//! breaks on a Space when the served code creates a folder or writes a file inside the
//! root-owned working directory, points a download cache (`HF_HOME`, …) there, keeps a SQLite
//! file there, or runs `poetry run` against the virtualenv `poetry install` made under
//! `/root` (mode 700). Only what the files prove counts: a path the source does not fix, a
//! working directory loosened by chown/chmod, or a start script that may `cd` elsewhere
//! prove nothing.

use super::super::super::dockerfile::Stage;
use super::super::super::fs_path::{Location, WriteKind};
use super::super::super::python::Module;
use super::super::super::Project;
use super::super::app;

/// A write uid 1000 cannot make: where, and what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Evidence {
    pub file: String,
    pub line: usize,
    pub what: String,
}

/// Libraries' download calls that fill the cache folder.
const DOWNLOADS: &[&str] = &[
    "from_pretrained",
    "hf_hub_download",
    "snapshot_download",
    "SentenceTransformer",
    "CrossEncoder",
    "TextEmbedding",
];

/// The first write of `modules` (or of the final stage's start command) that uid 1000 cannot
/// make in the root Dockerfile's root-owned working directory.
pub(super) fn first_blocked(
    project: &Project,
    modules: &[(&str, &Module)],
    chain: &[Stage<'_>],
) -> Option<Evidence> {
    if let Some(evidence) = poetry_run(chain) {
        return Some(evidence);
    }
    let workdir = app::root_owned_workdir(project)?;
    let downloads = modules.iter().any(|(_, m)| {
        m.calls
            .iter()
            .any(|c| DOWNLOADS.contains(&c.method()) || c.name == "pipeline")
    });
    let mut found: Vec<Evidence> = Vec::new();
    for (file, module) in modules {
        if !is_served_code(file) {
            continue;
        }
        for write in &module.writes {
            let Some(path) = in_image(&workdir, file, &write.target) else {
                continue;
            };
            if !(path == workdir || path.starts_with(&format!("{workdir}/"))) {
                continue;
            }
            let what = match write.kind {
                WriteKind::CreateFolder => {
                    let relative = path
                        .strip_prefix(&format!("{workdir}/"))
                        .unwrap_or_default();
                    if !relative.is_empty() && in_project(project, relative) {
                        // The folder is copied into the image: it exists already.
                        continue;
                    }
                    format!("creates the folder {path}")
                }
                WriteKind::WriteFile => format!("writes the file {path}"),
                WriteKind::CacheFolder if downloads => format!(
                    "points {} at {path}, where models are downloaded",
                    write.variable.as_deref().unwrap_or("a download cache")
                ),
                WriteKind::CacheFolder => continue,
            };
            found.push(Evidence {
                file: (*file).to_owned(),
                line: write.place.line,
                what,
            });
        }
        for (value, path) in app::sqlite_files(module) {
            let full = if path.starts_with('/') {
                path.to_owned()
            } else {
                format!("{workdir}/{}", path.trim_start_matches("./"))
            };
            if !full.contains("..") && full.starts_with(&format!("{workdir}/")) {
                found.push(Evidence {
                    file: (*file).to_owned(),
                    line: value.place.line,
                    what: format!("keeps the SQLite database {full}"),
                });
            }
        }
    }
    found.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    found.into_iter().next()
}

/// Code that runs in the served app, not the project's tests, scripts or notebooks.
fn is_served_code(file: &str) -> bool {
    let name = file.rsplit('/').next().unwrap_or(file);
    let in_folder = |folder: &str| {
        file.starts_with(&format!("{folder}/")) || file.contains(&format!("/{folder}/"))
    };
    !(name.starts_with("test_")
        || name.ends_with("_test.py")
        || name == "conftest.py"
        || name == "setup.py"
        || [
            "tests",
            "test",
            "scripts",
            "notebooks",
            "examples",
            "migrations",
        ]
        .iter()
        .any(|f| in_folder(f)))
}

/// Whether the project holds `path` as a folder or a file (copied into the image).
fn in_project(project: &Project, path: &str) -> bool {
    project.has_folder(path) || project.text(path).is_some()
}

/// Where `target`, written by the module at `file`, lands in the image whose code is copied
/// into `workdir` (relative paths are relative to it, the start command's working directory).
fn in_image(workdir: &str, file: &str, target: &Location) -> Option<String> {
    let relative = match target {
        Location::Absolute(p) => return normalise(p),
        Location::Cwd(rel) => rel.clone(),
        Location::ModuleDir(rel) => {
            let dir = file.rsplit_once('/').map_or("", |(d, _)| d);
            match (dir.is_empty(), rel.is_empty()) {
                (true, _) => rel.clone(),
                (false, true) => dir.to_owned(),
                (false, false) => format!("{dir}/{rel}"),
            }
        }
        Location::ModuleFile | Location::Temp | Location::Unknown => return None,
    };
    let relative = normalise_relative(&relative)?;
    normalise(&if relative.is_empty() {
        workdir.to_owned()
    } else {
        format!("{workdir}/{relative}")
    })
}

/// `a/b/../c` as `a/c`; `None` when it climbs above its start.
fn normalise_relative(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// An absolute path without `.`, `..` or repeated slashes.
fn normalise(path: &str) -> Option<String> {
    let inner = normalise_relative(path.trim_start_matches('/'))?;
    Some(format!("/{inner}"))
}

/// `poetry install` as root (a virtualenv under /root/.cache/pypoetry) and a start command
/// that is `poetry run …`: uid 1000 cannot enter /root, so poetry finds no environment.
fn poetry_run(chain: &[Stage<'_>]) -> Option<Evidence> {
    let body = chain.iter().flat_map(|s| s.body.iter());
    let mut install = None;
    let mut start = None;
    for instruction in body {
        let text = instruction.text().to_ascii_lowercase();
        match instruction.keyword.as_str() {
            "RUN" if text.contains("poetry install") => install = Some(instruction.line),
            "ENV" | "RUN"
                if text.contains("virtualenvs.create false")
                    || text.contains("virtualenvs.create=false")
                    || text.contains("virtualenvs_create=false")
                    || text.contains("virtualenvs_create false")
                    || text.contains("virtualenvs.in-project")
                    || text.contains("virtualenvs_in_project")
                    || text.contains("poetry_virtualenvs_path")
                    || text.contains("virtualenvs.path") =>
            {
                return None;
            }
            "CMD" | "ENTRYPOINT" => {
                start = (text.contains("poetry\", \"run") || text.contains("poetry run"))
                    .then_some(instruction.line);
            }
            _ => {}
        }
    }
    let (install, _) = (install?, start?);
    Some(Evidence {
        file: String::new(),
        line: install,
        what:
            "runs `poetry install` as root, whose virtualenv `poetry run` cannot reach as uid 1000"
                .into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_land_in_the_image_relative_to_the_workdir_and_the_module() {
        let w = "/app";
        assert_eq!(
            in_image(w, "main.py", &Location::Cwd("data".into())).as_deref(),
            Some("/app/data")
        );
        assert_eq!(
            in_image(w, "src/api/main.py", &Location::ModuleDir("../logs".into())).as_deref(),
            Some("/app/src/logs")
        );
        assert_eq!(
            in_image(w, "main.py", &Location::ModuleDir("../../x".into())),
            None
        );
        assert_eq!(
            in_image(w, "main.py", &Location::Absolute("/app/./a//b".into())).as_deref(),
            Some("/app/a/b")
        );
        assert_eq!(in_image(w, "main.py", &Location::Temp), None);
    }

    #[test]
    fn tests_and_scripts_are_not_served_code() {
        assert!(is_served_code("app/main.py"));
        assert!(!is_served_code("tests/test_api.py"));
        assert!(!is_served_code("backend/scripts/ingest.py"));
        assert!(!is_served_code("test_main.py"));
    }
}

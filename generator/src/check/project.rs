//! The files of a project to check, found once and read once. Folders no deployment reads
//! (`.git`, virtual environments, `node_modules`, caches) are skipped; so are files larger than
//! [`MAX_FILE`] and files that are not UTF-8 text.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The largest file read; larger ones are data, not configuration or code.
pub(crate) const MAX_FILE: u64 = 2 << 20;

/// Folders never entered.
const SKIPPED: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".tox",
    ".nox",
    ".venv",
    "venv",
    "env",
    "site-packages",
    "dist",
    "build",
    ".next",
    "target",
];

/// A project folder's text files, by relative path (`/`-separated).
#[derive(Debug, Default)]
pub(crate) struct Project {
    #[allow(dead_code)]
    root: PathBuf,
    files: BTreeMap<String, String>,
}

impl Project {
    /// Reads the text files below `root`.
    pub(crate) fn read(root: &Path) -> Result<Project> {
        if !root.is_dir() {
            return Err(Error::Input(vec![crate::error::Problem::new(
                crate::error::About::Variable("DIR".into()),
                format!("{} is not a folder", root.display()),
            )]));
        }
        let mut files = BTreeMap::new();
        let walker = walkdir::WalkDir::new(root)
            .follow_links(false)
            .into_iter()
            .filter_entry(|e| {
                e.depth() == 0 || !(e.file_type().is_dir() && skipped(e.file_name(), e.path()))
            });
        for entry in walker {
            let Ok(entry) = entry else { continue };
            if !entry.file_type().is_file() || !wanted(entry.file_name()) {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if meta.len() > MAX_FILE {
                continue;
            }
            let Ok(bytes) = std::fs::read(entry.path()) else {
                continue;
            };
            let Ok(text) = String::from_utf8(bytes) else {
                continue;
            };
            let Ok(rel) = entry.path().strip_prefix(root) else {
                continue;
            };
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            files.insert(rel, text);
        }
        Ok(Project {
            root: root.to_path_buf(),
            files,
        })
    }

    /// A project made of `files` (path, text), for tests.
    #[cfg(test)]
    pub(crate) fn from_files(files: &[(&str, &str)]) -> Project {
        Project {
            root: PathBuf::from("."),
            files: files
                .iter()
                .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
                .collect(),
        }
    }

    #[allow(dead_code)]
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// How many files were read.
    pub(crate) fn len(&self) -> usize {
        self.files.len()
    }

    /// The text of `path`, if the project has it.
    pub(crate) fn text(&self, path: &str) -> Option<&str> {
        self.files.get(path).map(String::as_str)
    }

    /// Every file, with its text.
    pub(crate) fn files(&self) -> impl Iterator<Item = (&str, &str)> {
        self.files.iter().map(|(p, t)| (p.as_str(), t.as_str()))
    }

    /// The files whose name (the last segment) satisfies `name`.
    pub(crate) fn named<'a>(
        &'a self,
        name: impl Fn(&str) -> bool + 'a,
    ) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.files()
            .filter(move |(p, _)| name(p.rsplit('/').next().unwrap_or(p)))
    }

    /// The Python files.
    pub(crate) fn python(&self) -> impl Iterator<Item = (&str, &str)> {
        self.named(|n| n.ends_with(".py"))
    }

    /// The Dockerfiles: `Dockerfile`, `Dockerfile.*`, `*.Dockerfile`.
    pub(crate) fn dockerfiles(&self) -> impl Iterator<Item = (&str, &str)> {
        self.named(|n| {
            n == "Dockerfile" || n.starts_with("Dockerfile.") || n.ends_with(".Dockerfile")
        })
    }

    /// The pip requirements files: `requirements*.txt` and `*.txt` under a `requirements/` folder.
    pub(crate) fn requirements(&self) -> impl Iterator<Item = (&str, &str)> {
        self.files().filter(|(p, _)| {
            let name = p.rsplit('/').next().unwrap_or(p);
            (name.starts_with("requirements") && name.ends_with(".txt"))
                || (p.contains("requirements/") && name.ends_with(".txt"))
        })
    }
}

/// Whether a file can matter to a deployment (code, configuration, documentation).
fn wanted(name: &std::ffi::OsStr) -> bool {
    let name = name.to_string_lossy();
    let ext = name.rsplit('.').next().unwrap_or("");
    name.starts_with("Dockerfile")
        || name.ends_with(".Dockerfile")
        || name.starts_with(".env")
        || name == ".dockerignore"
        || name == ".gitignore"
        || matches!(
            ext,
            "py" | "txt"
                | "toml"
                | "md"
                | "yml"
                | "yaml"
                | "cfg"
                | "ini"
                | "json"
                | "sh"
                | "js"
                | "ts"
                | "tsx"
                | "jsx"
                | "mjs"
        )
}

/// Whether a folder is skipped: by name, or because it holds a virtual environment.
fn skipped(name: &std::ffi::OsStr, path: &Path) -> bool {
    let name = name.to_string_lossy();
    SKIPPED.contains(&name.as_ref()) || path.join("pyvenv.cfg").is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_what_no_deployment_reads() {
        let dir = tempfile::tempdir().unwrap();
        let put = |p: &str| {
            let path = dir.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        };
        for p in [
            "app/main.py",
            "Dockerfile",
            ".git/config",
            "node_modules/a/index.js",
            "myenv/pyvenv.cfg",
            "myenv/lib/x.py",
            "image.png",
        ] {
            put(p);
        }
        let project = Project::read(dir.path()).unwrap();
        let paths: Vec<&str> = project.files().map(|(p, _)| p).collect();
        assert_eq!(paths, vec!["Dockerfile", "app/main.py"]);
    }
}

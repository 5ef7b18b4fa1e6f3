//! The files of a project to check, found once and read once. Folders no deployment reads
//! (`.git`, virtual environments, `node_modules`, caches) are skipped. Text is decoded lossily,
//! so a stray byte that is not UTF-8 does not hide a file. Files are read within budgets: of a
//! file larger than [`MAX_FILE`] only the head is read when the head is what matters (the
//! README's header, a Dockerfile, requirements, `.env`), other large files are not read, and
//! nothing more is read once [`MAX_TOTAL`] bytes are. Binary files (with a NUL byte), symbolic
//! links and special files are not read either. Every file left out, wholly or in part, is named in [`Project::not_read`].

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::Path;

use super::git;
use super::not_read::{human_size, NotRead};
use crate::error::{Error, Result};

/// The largest file read whole; larger ones are data, not configuration or code.
pub(crate) const MAX_FILE: u64 = 2 << 20;

/// The most text read from one project.
pub(crate) const MAX_TOTAL: u64 = 32 << 20;

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
    files: BTreeMap<String, String>,
    not_read: Vec<NotRead>,
    /// Every folder below the root (also those holding only files that are not read).
    folders: BTreeSet<String>,
    /// The files git tracks (relative to the root), when the root is in a repository whose
    /// index was read.
    tracked: Option<BTreeSet<String>>,
}

impl Project {
    /// Reads the text files below `root`, and which of them git tracks.
    pub(crate) fn read(root: &Path) -> Result<Project> {
        if !root.is_dir() {
            return Err(Error::Input(vec![crate::error::Problem::new(
                crate::error::About::Variable("DIR".into()),
                format!("{} is not a folder", root.display()),
            )]));
        }
        let mut project = Project::default();
        let mut total = 0;
        let walker = walkdir::WalkDir::new(root)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                e.depth() == 0 || !(e.file_type().is_dir() && skipped(e.file_name(), e.path()))
            });
        let mut found = Vec::new();
        for entry in walker {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    let rel = e
                        .path()
                        .map_or_else(|| ".".to_owned(), |p| relative(root, p));
                    project
                        .not_read
                        .push(NotRead::new(rel, 0, format!("not read: {e}")));
                    continue;
                }
            };
            let kind = entry.file_type();
            if kind.is_dir() && entry.depth() > 0 {
                project.folders.insert(relative(root, entry.path()));
            }
            if kind.is_dir() || !wanted(entry.file_name()) {
                continue;
            }
            if kind.is_file() {
                found.push((head_matters(entry.file_name()), entry.into_path()));
            } else {
                let reason = if kind.is_symlink() {
                    "not read: a symbolic link (links are not followed)"
                } else {
                    "not read: not a regular file"
                };
                let rel = relative(root, entry.path());
                project.not_read.push(NotRead::new(rel, 0, reason));
            }
        }
        // What the rules need most is read first, so data cannot use up the budget.
        found.sort_by_key(|(head, _)| !head);
        for (head, path) in found {
            let rel = relative(root, &path);
            match read(&path, head, MAX_TOTAL - total) {
                Ok((text, note)) => {
                    total += text.len() as u64;
                    if let Some(note) = note {
                        project.not_read.push(NotRead::new(rel.clone(), 0, note));
                    }
                    project.files.insert(rel, text);
                }
                Err(reason) => project.not_read.push(NotRead::new(rel, 0, reason)),
            }
        }
        if let Some(location) = git::locate(root) {
            match git::tracked(&location) {
                Ok(tracked) => project.tracked = Some(tracked),
                Err(reason) => {
                    let shown = index_shown(&location);
                    project.not_read.push(NotRead::new(shown, 0, reason));
                }
            }
        }
        Ok(project)
    }

    /// The files left out, wholly or in part, and why.
    pub(crate) fn not_read(&self) -> &[NotRead] {
        &self.not_read
    }

    /// Leaves `path` out of the check, for `reason` (at `line`).
    pub(crate) fn leave_out(&mut self, path: &str, line: usize, reason: String) {
        self.files.remove(path);
        self.not_read.push(NotRead::new(path, line, reason));
    }

    /// A project made of `files` (path, text), for tests.
    #[cfg(test)]
    pub(crate) fn from_files(files: &[(&str, &str)]) -> Project {
        Project {
            files: files
                .iter()
                .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
                .collect(),
            not_read: Vec::new(),
            tracked: None,
            folders: files
                .iter()
                .flat_map(|(p, _)| {
                    p.match_indices('/')
                        .map(|(i, _)| p[..i].to_owned())
                        .collect::<Vec<_>>()
                })
                .collect(),
        }
    }

    /// The same project, in a repository whose index tracks `paths`: for tests.
    #[cfg(test)]
    pub(crate) fn tracking(mut self, paths: &[&str]) -> Project {
        self.tracked = Some(paths.iter().map(|p| (*p).to_owned()).collect());
        self
    }

    /// Whether git tracks the file `path`: `None` when the root is in no repository, or its
    /// index could not be read.
    pub(crate) fn is_tracked(&self, path: &str) -> Option<bool> {
        self.tracked.as_ref().map(|t| t.contains(path))
    }

    /// Whether the project has the folder `path` (relative, `/`-separated).
    pub(crate) fn has_folder(&self, path: &str) -> bool {
        self.folders.contains(path.trim_end_matches('/'))
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

/// `path` below `root`, `/`-separated.
fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Reads `path` as text within the budgets: the text, and a note when only part was read; or
/// why it was not read.
fn read(
    path: &Path,
    head_matters: bool,
    left: u64,
) -> std::result::Result<(String, Option<String>), String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!("not read: {e}"))?
        .len();
    if size > MAX_FILE && !head_matters {
        return Err(format!(
            "not read: larger than {} ({})",
            human_size(MAX_FILE),
            human_size(size)
        ));
    }
    let budget = MAX_FILE.min(left);
    if budget == 0 || (size > left && !head_matters) {
        return Err(format!(
            "not read: the check reads at most {} of text from a project",
            human_size(MAX_TOTAL)
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(budget).read_to_end(&mut bytes))
        .map_err(|e| format!("not read: {e}"))?;
    let mut text = decode(&bytes);
    if text.contains('\0') {
        return Err("not read: binary (it holds a NUL byte)".to_owned());
    }
    let mut note = None;
    if size > bytes.len() as u64 {
        // Whole lines only: a cut line would be misread.
        let end = text.rfind('\n').map_or(0, |i| i + 1);
        text.truncate(end);
        note = Some(format!(
            "read in part: only the first {} (in whole lines) of {}",
            human_size(budget.min(size)),
            human_size(size)
        ));
    }
    Ok((text, note))
}

/// The text of `bytes`: UTF-16 when it starts with a UTF-16 byte order mark (Windows editors
/// and PowerShell's `>` write requirements files so, and pip reads them), else UTF-8, lossily;
/// without the byte order mark.
fn decode(bytes: &[u8]) -> String {
    let utf16 = |rest: &[u8], unit: fn([u8; 2]) -> u16| {
        let units: Vec<u16> = rest
            .chunks(2)
            .map(|pair| match pair {
                [a, b] => unit([*a, *b]),
                _ => 0xfffd,
            })
            .collect();
        String::from_utf16_lossy(&units)
    };
    match bytes {
        [0xff, 0xfe, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xfe, 0xff, rest @ ..] => utf16(rest, u16::from_be_bytes),
        [0xef, 0xbb, 0xbf, rest @ ..] => String::from_utf8_lossy(rest).into_owned(),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Whether the head of a large file is what the check needs: the README's header, a
/// Dockerfile, requirements, environment files.
fn head_matters(name: &std::ffi::OsStr) -> bool {
    let name = name.to_string_lossy();
    name == "README.md"
        || name == "dockerfile"
        || name.starts_with("Dockerfile")
        || name.ends_with(".Dockerfile")
        || name.starts_with(".env")
        || (name.starts_with("requirements") && name.ends_with(".txt"))
        || LOCKS.contains(&name.as_ref())
}

/// Lock files an install may use: whether the image has one decides what it installs.
const LOCKS: &[&str] = &["uv.lock", "poetry.lock", "pdm.lock"];

/// Whether a file can matter to a deployment (code, configuration, documentation).
fn wanted(name: &std::ffi::OsStr) -> bool {
    let name = name.to_string_lossy();
    let ext = name.rsplit('.').next().unwrap_or("");
    name.starts_with("Dockerfile")
        || name == "dockerfile"
        || name.ends_with(".Dockerfile")
        || name.starts_with(".env")
        || name == ".dockerignore"
        || name == ".gitignore"
        || LOCKS.contains(&name.as_ref())
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

/// Where the index is, as the output names it: relative to the checked root in the usual
/// layout (`.git/index`, `../.git/index`), else as git's own path.
fn index_shown(location: &git::Location) -> String {
    let up = location.prefix.matches('/').count();
    let usual = location.index.ends_with(".git/index");
    if usual {
        format!("{}.git/index", "../".repeat(up))
    } else {
        location.index.display().to_string()
    }
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
            "backend/dockerfile",
            ".git/config",
            "node_modules/a/index.js",
            "myenv/pyvenv.cfg",
            "myenv/lib/x.py",
            "image.png",
            "uv.lock",
        ] {
            put(p);
        }
        let project = Project::read(dir.path()).unwrap();
        let paths: Vec<&str> = project.files().map(|(p, _)| p).collect();
        assert_eq!(
            paths,
            vec!["Dockerfile", "app/main.py", "backend/dockerfile", "uv.lock"]
        );
    }

    #[cfg(unix)]
    #[test]
    fn links_and_special_files_are_named_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("real.py"), "x = 1\n").unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.py")).unwrap();
        let project = Project::read(dir.path()).unwrap();
        let paths: Vec<&str> = project.files().map(|(p, _)| p).collect();
        assert_eq!(paths, vec!["real.py"]);
        assert_eq!(
            project.not_read(),
            [NotRead::new(
                "zero.py",
                0,
                "not read: a symbolic link (links are not followed)"
            )]
        );
    }

    #[test]
    fn past_the_total_budget_only_heads_that_matter_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "a = 1\nb = 2\n").unwrap();
        let code = read(&file, false, 8).unwrap_err();
        assert!(code.contains("at most 32 MiB"), "{code}");
        let (head, note) = read(&file, true, 8).unwrap();
        let note = note.unwrap_or_default();
        assert_eq!(head, "a = 1\n");
        assert!(note.contains("the first 8 bytes"), "{note:?}");
    }

    #[test]
    fn utf16_with_a_byte_order_mark_is_decoded() {
        let dir = tempfile::tempdir().unwrap();
        let text = "fastapi\r\nuvicorn==0.30.0\r\n";
        let le: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = [0xfe, 0xff]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        for bytes in [le, be] {
            let file = dir.path().join("requirements.txt");
            std::fs::write(&file, bytes).unwrap();
            assert_eq!(
                read(&file, true, MAX_TOTAL).unwrap(),
                (text.to_owned(), None)
            );
        }
        let file = dir.path().join("a.py");
        std::fs::write(&file, b"\xef\xbb\xbfx = 1\n").unwrap();
        assert_eq!(read(&file, false, MAX_TOTAL).unwrap().0, "x = 1\n");
        // Cut to whole lines within the budget, in characters.
        let (head, note) = read(&dir.path().join("requirements.txt"), true, 24).unwrap();
        assert_eq!(head, "fastapi\r\n");
        assert!(note.is_some());
    }
}

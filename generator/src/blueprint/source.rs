//! Where blueprint files come from: the copy embedded in the binary, or a folder on disk.
//!
//! Both give the same thing, a [`FileTree`]: relative paths (always `/`-separated) mapped to
//! contents and the executable bit, in sorted order. Nothing downstream knows which it was.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir, DirEntry};
use walkdir::WalkDir;

use crate::error::{Error, Result};

/// The repository's blueprints, from where `build.rs` found them (beside the crate in a
/// checkout or the sdist, under `embedded/` in the crate packaged for crates.io).
static EMBEDDED: Dir<'static> = include_dir!("$SPACEGEN_BLUEPRINTS_DIR");

include!(concat!(env!("OUT_DIR"), "/executables.rs"));

/// One file of a blueprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Shared, so a file copied into a project is held in memory once.
    pub contents: std::sync::Arc<[u8]>,
    pub executable: bool,
}

/// The files of one blueprint folder, by relative path.
pub(crate) type FileTree = BTreeMap<String, FileEntry>;

/// Files and folders that editors and tools leave behind; never part of a blueprint.
const JUNK: &[&str] = &[
    "__pycache__",
    ".DS_Store",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
];

/// The file that marks a cache folder (<https://bford.info/cachedir/>): a folder holding it is
/// a tool's cache, whatever its name, and is left out with everything in it.
const CACHEDIR_TAG: &str = "CACHEDIR.TAG";

fn is_junk(rel: &str) -> bool {
    rel.split('/')
        .any(|seg| JUNK.contains(&seg) || seg.ends_with(".pyc"))
}

/// A place holding blueprint folders by name.
#[derive(Debug, Clone)]
pub enum Source {
    /// The blueprints compiled into this binary.
    Embedded,
    /// A folder on disk whose subfolders are blueprints.
    Disk(PathBuf),
    /// An earlier release's folders, kept in spacegen's history.
    Archived(std::sync::Arc<Archived>),
}

/// Blueprint folders held in memory: a release from spacegen's history.
#[derive(Debug)]
pub struct Archived {
    /// What they are, for messages (`sqlite-demo 0.2.0 (from spacegen's history)`).
    pub(crate) label: String,
    pub(crate) folders: BTreeMap<String, FileTree>,
}

impl Source {
    /// Human-readable origin of blueprint `name`, for messages.
    pub fn describe(&self, name: &str) -> String {
        match self {
            Source::Embedded => format!("embedded blueprint '{name}'"),
            Source::Disk(root) => root.join(name).display().to_string(),
            Source::Archived(a) => format!("folder '{name}' of {}", a.label),
        }
    }

    /// Names of the blueprint folders this source holds, sorted.
    pub fn names(&self) -> Result<Vec<String>> {
        let mut names = match self {
            Source::Embedded => EMBEDDED
                .dirs()
                .filter(|d| d.get_file(d.path().join("blueprint.toml")).is_some())
                .filter_map(|d| d.path().file_name()?.to_str().map(str::to_owned))
                .collect::<Vec<_>>(),
            Source::Disk(root) => {
                let entries =
                    std::fs::read_dir(root).map_err(|e| Error::io("read folder", root, e))?;
                entries
                    .filter_map(|e| e.ok())
                    .filter(|e| e.path().join("blueprint.toml").is_file())
                    .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                    .collect()
            }
            Source::Archived(a) => a
                .folders
                .iter()
                .filter(|(_, tree)| tree.contains_key("blueprint.toml"))
                .map(|(name, _)| name.clone())
                .collect(),
        };
        names.sort();
        Ok(names)
    }

    /// The files of blueprint folder `name`, or `None` if this source has no such folder.
    pub fn read(&self, name: &str) -> Result<Option<FileTree>> {
        match self {
            Source::Embedded => Ok(EMBEDDED.get_dir(name).map(|dir| embedded_tree(name, dir))),
            Source::Disk(root) => {
                let dir = root.join(name);
                if dir.join("blueprint.toml").is_file() {
                    read_disk(&dir).map(Some)
                } else {
                    Ok(None)
                }
            }
            Source::Archived(a) => Ok(a.folders.get(name).cloned()),
        }
    }
}

fn embedded_tree(name: &str, dir: &Dir<'static>) -> FileTree {
    fn visit(prefix: &Path, dir: &Dir<'static>, tree: &mut FileTree) {
        for entry in dir.entries() {
            match entry {
                DirEntry::Dir(d) if d.get_file(d.path().join(CACHEDIR_TAG)).is_some() => {}
                DirEntry::Dir(d) => visit(prefix, d, tree),
                DirEntry::File(f) => {
                    let full = f.path().to_string_lossy().replace('\\', "/");
                    let Ok(rel) = f.path().strip_prefix(prefix) else {
                        continue;
                    };
                    let rel = rel.to_string_lossy().replace('\\', "/");
                    if is_junk(&rel) {
                        continue;
                    }
                    let executable = EXECUTABLES.contains(&full.as_str());
                    tree.insert(
                        rel,
                        FileEntry {
                            contents: f.contents().into(),
                            executable,
                        },
                    );
                }
            }
        }
    }
    let mut tree = FileTree::new();
    visit(Path::new(name), dir, &mut tree);
    tree
}

/// Reads a blueprint folder from disk. Symbolic links are refused: a blueprint must not be
/// able to pull in files from outside its folder.
pub(crate) fn read_disk(dir: &Path) -> Result<FileTree> {
    let mut tree = FileTree::new();
    let walk = WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !(e.file_type().is_dir() && e.path().join(CACHEDIR_TAG).is_file()));
    for entry in walk {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(dir).to_path_buf();
            Error::io("read", path, e.into())
        })?;
        let path = entry.path();
        let rel = match path.strip_prefix(dir) {
            Ok(rel) if !rel.as_os_str().is_empty() => rel,
            _ => continue,
        };
        let Some(rel) = relative_name(rel) else {
            return Err(Error::blueprint(
                path.display().to_string(),
                "file name is not valid UTF-8; rename it",
            ));
        };
        if rel.contains('\\') {
            return Err(Error::blueprint(
                path.display().to_string(),
                "the name holds a backslash, which is a folder separator on Windows (and a file \
                 cannot be named so there); rename it, or make it folders",
            ));
        }
        if is_junk(&rel) {
            continue;
        }
        let ft = entry.file_type();
        if ft.is_symlink() {
            return Err(Error::blueprint(
                path.display().to_string(),
                "symbolic links are not allowed in a blueprint; replace it with the file itself",
            ));
        }
        if !ft.is_file() {
            continue;
        }
        let meta = entry
            .metadata()
            .map_err(|e| Error::io("read", path, e.into()))?;
        let limit = size_limit(&rel);
        if meta.len() > limit {
            return Err(too_large(path, meta.len(), limit));
        }
        let contents = read_at_most(path, limit)?;
        tree.insert(
            rel,
            FileEntry {
                contents: contents.into(),
                executable: is_executable(&meta),
            },
        );
    }
    Ok(tree)
}

/// The largest template, partial or manifest read: liquid's parser and spacegen's checks cost
/// time in proportion (a 100 MB template took 52 s to be refused).
pub(crate) const MAX_TEXT_FILE: u64 = 4 << 20;
/// The largest file copied as is.
pub(crate) const MAX_COPIED_FILE: u64 = 64 << 20;

/// How large the blueprint file at `rel` may be: texts spacegen parses less than files it copies.
fn size_limit(rel: &str) -> u64 {
    let parsed =
        rel.ends_with(".liquid") || rel == "blueprint.toml" || rel.starts_with("partials/");
    if parsed {
        MAX_TEXT_FILE
    } else {
        MAX_COPIED_FILE
    }
}

fn too_large(path: &Path, size: u64, limit: u64) -> Error {
    Error::blueprint(
        path.display().to_string(),
        format!(
            "the file is {:.1} MiB; a blueprint's {} may be at most {} MiB: make it smaller, or split it",
            size as f64 / f64::from(1u32 << 20),
            if limit == MAX_TEXT_FILE { "templates, partials and manifest" } else { "files" },
            limit >> 20
        ),
    )
}

/// The bytes of `path`, refused if it holds more than `limit` (it may have grown since it was
/// measured).
fn read_at_most(path: &Path, limit: u64) -> Result<Vec<u8>> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
    let mut contents = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut contents)
        .map_err(|e| Error::io("read", path, e))?;
    if contents.len() as u64 > limit {
        return Err(too_large(path, contents.len() as u64, limit));
    }
    Ok(contents)
}

/// `rel`, its components joined with `/` (a `\` inside a name stays in it); `None` when a
/// component is not UTF-8.
fn relative_name(rel: &Path) -> Option<String> {
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    Some(parts?.join("/"))
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &std::fs::Metadata) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_blueprints_include_the_default() {
        let names = Source::Embedded.names().unwrap();
        assert!(names.contains(&"sqlite-demo".to_string()), "{names:?}");
        assert!(names.contains(&"base".to_string()), "{names:?}");
    }

    #[test]
    fn embedded_tree_is_relative_to_the_blueprint() {
        let tree = Source::Embedded.read("sqlite-demo").unwrap().unwrap();
        assert!(tree.contains_key("blueprint.toml"));
        assert!(tree.keys().all(|k| !k.starts_with("sqlite-demo/")));
    }

    #[test]
    fn junk_is_skipped() {
        assert!(is_junk("template/app/__pycache__/x.cpython-311.pyc"));
        assert!(is_junk("template/.DS_Store"));
        assert!(!is_junk("template/app/main.py"));
    }

    #[test]
    fn tool_caches_are_never_part_of_a_blueprint() {
        let dir = tempfile::tempdir().unwrap();
        let put = |rel: &str| {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        };
        put("blueprint.toml");
        put("template/app/main.py");
        put("template/.ruff_cache/CACHEDIR.TAG");
        put("template/.ruff_cache/0.17/123");
        put("template/.pytest_cache/v/cache/nodeids");
        put("template/.mypy_cache/3.11/app.json");
        put("template/any-tool/CACHEDIR.TAG");
        put("template/any-tool/data");
        let tree = read_disk(dir.path()).unwrap();
        let paths: Vec<&str> = tree.keys().map(String::as_str).collect();
        assert_eq!(paths, vec!["blueprint.toml", "template/app/main.py"]);
    }

    #[test]
    fn disk_symlinks_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("blueprint.toml"), "").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc/hostname", dir.path().join("evil")).unwrap();
            let err = read_disk(dir.path()).unwrap_err();
            assert!(err.to_string().contains("symbolic links"), "{err}");
        }
    }
}

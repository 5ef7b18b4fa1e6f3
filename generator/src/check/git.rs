//! The git repository holding a checked folder (where SARIF paths start), and which files git
//! tracks: the paths in its index (`.git/index`). A `.gitignore` entry does not untrack a file
//! committed before it was written; only the index says what the next commit (and a push to a
//! Space) carries.
//!
//! The index format (versions 2, 3 and 4, SHA-1 and SHA-256 object ids) is read here, for its
//! paths only; a crate that reads it (`gix-index`) brings about eighty packages for a list of
//! names. A split index (the `link` extension) keeps most entries in another file: it is
//! refused, and the caller then knows nothing about what git tracks. Input is untrusted: every
//! length is checked against what is left, so a truncated or hostile index is an error, never
//! a panic or a large allocation.
//!
//! Format: git's Documentation/gitformat-index.txt.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The largest index read (a repository of about 300,000 files).
pub(crate) const MAX_INDEX: u64 = 32 << 20;

/// The index file, and the folder of the checked root relative to the repository's top
/// (`""` when the root is the top, `backend/` below it).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Location {
    pub index: PathBuf,
    pub prefix: String,
    /// Whether object ids are SHA-256 (32 bytes) rather than SHA-1 (20).
    pub sha256: bool,
}

/// The repository holding `root`: the nearest folder at or above it with a `.git` folder, or a
/// `.git` file pointing at one (`gitdir: …`, as in worktrees and submodules). `None` outside a
/// repository. Like git, the search does not go up into a folder `GIT_CEILING_DIRECTORIES`
/// lists.
pub(crate) fn locate(root: &Path) -> Option<Location> {
    let root = root.canonicalize().ok()?;
    let ceilings: Vec<PathBuf> = std::env::var_os("GIT_CEILING_DIRECTORIES")
        .map(|v| {
            std::env::split_paths(&v)
                .filter(|p| p.is_absolute())
                .map(|p| p.canonicalize().unwrap_or(p))
                .collect()
        })
        .unwrap_or_default();
    let mut top = root.as_path();
    loop {
        let dot_git = top.join(".git");
        if let Some(git_dir) = git_dir(&dot_git, top) {
            let prefix = root.strip_prefix(top).ok()?;
            let mut prefix: String = prefix
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            if !prefix.is_empty() {
                prefix.push('/');
            }
            let sha256 = std::fs::read_to_string(common_dir(&git_dir).join("config"))
                .is_ok_and(|config| object_format_is_sha256(&config));
            return Some(Location {
                index: git_dir.join("index"),
                prefix,
                sha256,
            });
        }
        top = top.parent()?;
        if ceilings.iter().any(|c| c == top) {
            return None;
        }
    }
}

/// The git directory `.git` names: itself when a folder, the target of `gitdir:` when a file.
fn git_dir(dot_git: &Path, top: &Path) -> Option<PathBuf> {
    let meta = std::fs::symlink_metadata(dot_git).ok()?;
    if meta.is_dir() {
        return Some(dot_git.to_path_buf());
    }
    let text = std::fs::read_to_string(dot_git).ok()?;
    let target = text.lines().next()?.strip_prefix("gitdir:")?.trim();
    Some(top.join(target))
}

/// The repository's common folder: a worktree's git directory names it in `commondir`.
fn common_dir(git_dir: &Path) -> PathBuf {
    match std::fs::read_to_string(git_dir.join("commondir")) {
        Ok(text) => git_dir.join(text.trim()),
        Err(_) => git_dir.to_path_buf(),
    }
}

/// Whether a git config sets `extensions.objectFormat = sha256`.
fn object_format_is_sha256(config: &str) -> bool {
    config.lines().any(|line| {
        let line: String = line
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        line == "objectformat=sha256"
    })
}

/// The paths the index at `location` tracks below its prefix, relative to the checked root.
pub(crate) fn tracked(location: &Location) -> Result<BTreeSet<String>, String> {
    let size = std::fs::metadata(&location.index)
        .map_err(|e| format!("not read: {e}"))?
        .len();
    if size > MAX_INDEX {
        return Err(format!(
            "not read: larger than {} ({}), so what git tracks is not known",
            super::not_read::human_size(MAX_INDEX),
            super::not_read::human_size(size)
        ));
    }
    let bytes = std::fs::read(&location.index).map_err(|e| format!("not read: {e}"))?;
    let hash = if location.sha256 { 32 } else { 20 };
    let paths = parse(&bytes, hash).map_err(|e| format!("not read: {e}"))?;
    Ok(paths
        .into_iter()
        .filter_map(|p| p.strip_prefix(&location.prefix).map(str::to_owned))
        .collect())
}

/// A reader over the index's bytes that never reads past the end.
struct Bytes<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.data.len());
        let end = end.ok_or_else(|| format!("the index ends early (at byte {})", self.at))?;
        let bytes = &self.data[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Bytes up to a NUL, which is consumed.
    fn until_nul(&mut self) -> Result<&'a [u8], String> {
        let rest = &self.data[self.at..];
        let len = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or("a path has no terminating NUL")?;
        let bytes = self.take(len)?;
        self.at += 1;
        Ok(bytes)
    }

    /// git's offset varint (version 4's prefix length).
    fn varint(&mut self) -> Result<usize, String> {
        let mut byte = self.take(1)?[0];
        let mut value = usize::from(byte & 0x7f);
        while byte & 0x80 != 0 {
            byte = self.take(1)?[0];
            value = value
                .checked_add(1)
                .and_then(|v| v.checked_mul(128))
                .and_then(|v| v.checked_add(usize::from(byte & 0x7f)))
                .ok_or("a path prefix length overflows")?;
        }
        Ok(value)
    }
}

/// The paths of an index whose object ids are `hash` bytes long.
pub(crate) fn parse(data: &[u8], hash: usize) -> Result<Vec<String>, String> {
    let mut bytes = Bytes { data, at: 0 };
    if bytes.take(4)? != b"DIRC" {
        return Err("not a git index (no DIRC signature)".to_owned());
    }
    let version = bytes.u32()?;
    if !(2..=4).contains(&version) {
        return Err(format!("git index version {version} is not known"));
    }
    let count = bytes.u32()? as usize;
    // The smallest entry is 62 bytes with SHA-1: a count the file cannot hold is a lie.
    if count > data.len() / 62 {
        return Err(format!(
            "the index claims {count} entries in {} bytes",
            data.len()
        ));
    }
    let mut paths = Vec::with_capacity(count);
    let mut previous: Vec<u8> = Vec::new();
    for _ in 0..count {
        let start = bytes.at;
        bytes.take(40 + hash)?;
        let flags = bytes.u16()?;
        if version >= 3 && flags & 0x4000 != 0 {
            bytes.u16()?;
        }
        let path = if version == 4 {
            let strip = bytes.varint()?;
            let keep = previous
                .len()
                .checked_sub(strip)
                .ok_or("a path strips more than the previous path holds")?;
            previous.truncate(keep);
            previous.extend_from_slice(bytes.until_nul()?);
            previous.clone()
        } else {
            let path = bytes.until_nul()?.to_vec();
            // NUL padding: the entry's length is a multiple of 8.
            let len = bytes.at - start;
            let padded = len.div_ceil(8) * 8;
            bytes.take(padded - len)?;
            path
        };
        paths.push(String::from_utf8_lossy(&path).into_owned());
    }
    let extensions_end = data.len().saturating_sub(hash);
    while bytes.at + 8 <= extensions_end {
        let signature = bytes.take(4)?;
        let size = bytes.u32()? as usize;
        if signature == b"link" {
            return Err("a split index (core.splitIndex) keeps its entries elsewhere".to_owned());
        }
        bytes.take(size)?;
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A repository with `backend/.env` committed before `.gitignore` listed it.
    fn repository(version: &str, format: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let root = dir.path();
        git(root, &["init", "-q", &format!("--object-format={format}")]);
        std::fs::create_dir_all(root.join("backend/app/deep/er")).expect("mkdir");
        std::fs::write(root.join("backend/.env"), "OPENAI_API_KEY=x\n").expect("write");
        std::fs::write(root.join("backend/app/deep/er/main.py"), "").expect("write");
        std::fs::write(root.join("backend/app/deep/er/main2.py"), "").expect("write");
        std::fs::write(root.join("README.md"), "").expect("write");
        git(root, &["add", "."]);
        std::fs::write(root.join(".gitignore"), ".env\n").expect("write");
        std::fs::write(root.join("backend/untracked.py"), "").expect("write");
        git(root, &["update-index", "--index-version", version]);
        dir
    }

    #[test]
    fn every_version_and_object_format_lists_the_tracked_paths() {
        for format in ["sha1", "sha256"] {
            for version in ["2", "3", "4"] {
                let repo = repository(version, format);
                let location = locate(&repo.path().join("backend")).expect("a repository");
                assert_eq!(location.prefix, "backend/");
                assert_eq!(location.sha256, format == "sha256");
                let tracked = tracked(&location).expect("the index reads");
                let expected: BTreeSet<String> =
                    [".env", "app/deep/er/main.py", "app/deep/er/main2.py"]
                        .into_iter()
                        .map(str::to_owned)
                        .collect();
                assert_eq!(tracked, expected, "version {version}, {format}");
                let top = locate(repo.path()).expect("a repository");
                assert_eq!(top.prefix, "");
                assert!(tracked_has(&top, "README.md"));
            }
        }
    }

    fn tracked_has(location: &Location, path: &str) -> bool {
        tracked(location).is_ok_and(|t| t.contains(path))
    }

    #[test]
    fn a_worktree_reads_its_own_index() {
        let repo = repository("2", "sha1");
        git(
            repo.path(),
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "-qm",
                "x",
            ],
        );
        let tree = repo.path().join("tree");
        git(repo.path(), &["worktree", "add", "-q", "tree"]);
        let location = locate(&tree.join("backend")).expect("a repository");
        assert!(tracked_has(&location, ".env"));
    }

    #[test]
    fn a_folder_outside_any_repository_has_no_index() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let location = locate(dir.path());
        // A temporary folder can sit inside a repository on some machines; then it is not
        // the checked root's own.
        assert!(location.is_none_or(|l| !l.prefix.is_empty()));
    }

    #[test]
    fn truncated_and_hostile_indexes_are_errors() {
        let repo = repository("4", "sha1");
        let data = std::fs::read(repo.path().join(".git/index")).expect("the index");
        for len in 0..data.len() - 20 {
            // Every cut either fails or lists a prefix of the paths; none panics.
            let _ = parse(&data[..len], 20);
        }
        assert!(parse(b"DIRC\0\0\0\x02\xff\xff\xff\xff", 20).is_err_and(|e| e.contains("claims")));
        assert!(parse(b"XXXX\0\0\0\x02\0\0\0\0", 20).is_err());
        assert!(parse(b"DIRC\0\0\0\x09\0\0\0\0", 20).is_err_and(|e| e.contains("version 9")));
        let mut overflow = b"DIRC\0\0\0\x04\0\0\0\x01".to_vec();
        overflow.extend([0u8; 62]);
        overflow.extend([0xffu8; 12]);
        assert!(parse(&overflow, 20).is_err());
    }

    #[test]
    fn a_split_index_is_refused() {
        let repo = repository("2", "sha1");
        git(repo.path(), &["update-index", "--split-index"]);
        let location = locate(repo.path()).expect("a repository");
        assert!(tracked(&location).is_err_and(|e| e.contains("split index")));
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let mut with_header = b"DIRC\0\0\0\x04\0\0\0\x03".to_vec();
            with_header.extend(&data);
            let _ = parse(&with_header, 20);
            let _ = parse(&data, 32);
        }
    }
}

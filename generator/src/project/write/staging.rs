//! Writing a project to a destination that does not exist yet: every file is written into a
//! staging folder beside it, flushed to disk once, and the folder renamed into place, so the
//! destination appears whole or not at all. A staging folder is named after the process that
//! made it (`.spacegen-staging-PID-…`); one whose process has died is removed by the next run
//! into the same parent folder. The folders in which `new --force` builds a whole project
//! beside its destination (`.spacegen-exchange-PID-…`, see [`super::exchange`]) are named,
//! and removed after a killed run, the same way.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::dir::{Dir, SYNC_EACH_FILE};
use super::interrupt::Interrupts;
use super::{running, split};
use crate::error::{Error, Result};
use crate::project::Plan;

const PREFIX: &str = ".spacegen-staging-";
/// The folder beside the destination where an exchange builds the new project, and which holds
/// the old one once the two have traded places.
pub(super) const EXCHANGE_PREFIX: &str = ".spacegen-exchange-";

/// Staging folders of ended runs, removed by [`remove_stale`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stale {
    /// Folders staging a new destination.
    pub staging: usize,
    /// Folders of an exchange: a half-built new project, or an old one replaced.
    pub exchange: usize,
}

/// Writes `plan` to `dest`, which does not exist; parent folders are created as needed and
/// removed again if the run fails.
pub(crate) fn write(plan: &Plan, dest: &Path, interrupts: &Interrupts) -> Result<()> {
    let name = dest.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
        Error::Destination(format!(
            "destination {} does not name a folder; give a path ending in the project's name",
            dest.display()
        ))
    })?;
    let parent_path = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let created = create_parents(&parent_path)?;
    let result = (|| {
        let parent = Dir::open(&parent_path).map_err(|e| Error::io("open", &parent_path, e))?;
        let staged = stage(plan, &parent, interrupts)?;
        let moved = match interrupts.check() {
            Ok(()) => parent.rename(&staged, &parent, name, false),
            Err(e) => {
                let _ = parent.remove_tree(&staged);
                return Err(e);
            }
        };
        moved.map_err(|e| {
            let _ = parent.remove_tree(&staged);
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Error::Destination(format!(
                    "{} appeared while spacegen was writing; nothing was changed",
                    dest.display()
                ))
            } else {
                Error::io("move the project into", dest, e)
            }
        })?;
        parent
            .sync()
            .map_err(|e| Error::io("flush", &parent_path, e))
    })();
    if result.is_err() {
        for folder in created.iter().rev() {
            let _ = std::fs::remove_dir(folder);
        }
    }
    result
}

/// Writes every file into a new staging folder in `parent`; returns its name.
fn stage(plan: &Plan, parent: &Dir, interrupts: &Interrupts) -> Result<String> {
    let name = create_unique(parent, PREFIX)
        .map_err(|e| Error::io("create a staging folder in", parent.path(), e))?;
    let written = (|| {
        let stage = parent.child(&name).map_err(|e| io(parent, &name, e))?;
        let mut folders = BTreeSet::new();
        for (path, file) in plan.files() {
            interrupts.check()?;
            let (dir, file_name) = split(path);
            for (i, _) in dir.match_indices('/').chain([(dir.len(), "")]) {
                let folder = &dir[..i];
                if !folder.is_empty() && folders.insert(folder.to_owned()) {
                    let (up, last) = split(folder);
                    let up = stage.descend(up).map_err(|e| io(&stage, up, e))?;
                    up.create_dir(last, 0o755)
                        .map_err(|e| io(&stage, folder, e))?;
                }
            }
            let target = stage.descend(dir).map_err(|e| io(&stage, dir, e))?;
            target
                .create_file(file_name, &file.contents, file.mode(), SYNC_EACH_FILE)
                .map_err(|e| io(&stage, path, e))?;
        }
        stage.set_mode(0o755).map_err(|e| io(parent, &name, e))?;
        stage.sync_filesystem().map_err(|e| io(parent, &name, e))
    })();
    match written {
        Ok(()) => Ok(name),
        Err(e) => {
            let _ = parent.remove_tree(&name);
            Err(e)
        }
    }
}

/// Creates a new folder (mode 0700) in `parent` named `prefix`, this process's id and a nonce;
/// returns its name.
pub(super) fn create_unique(parent: &Dir, prefix: &str) -> std::io::Result<String> {
    loop {
        let name = format!("{prefix}{}-{:x}", std::process::id(), nonce());
        match parent.create_dir(&name, 0o700) {
            Ok(_) => return Ok(name),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Removes the staging folders in `parent` whose process has ended.
pub(crate) fn remove_stale(parent: &Path) -> Result<Stale> {
    let mut stale = Stale::default();
    let Ok(dir) = Dir::open(parent) else {
        return Ok(stale);
    };
    for name in dir.names().map_err(|e| Error::io("read", parent, e))? {
        let Some(name) = name.to_str() else { continue };
        let Some((prefix, pid)) = staging_pid(name) else {
            continue;
        };
        if !running(pid) {
            dir.remove_tree(name).map_err(|e| io(&dir, name, e))?;
            match prefix {
                PREFIX => stale.staging += 1,
                _ => stale.exchange += 1,
            }
        }
    }
    Ok(stale)
}

/// Whether `parent` holds the folder of an exchange whose process has ended.
pub(crate) fn stale_exchange(parent: &Path) -> bool {
    let Ok(dir) = Dir::open(parent) else {
        return false;
    };
    dir.names().unwrap_or_default().iter().any(|name| {
        name.to_str()
            .and_then(staging_pid)
            .is_some_and(|(prefix, pid)| prefix == EXCHANGE_PREFIX && !running(pid))
    })
}

/// The prefix and the process id in a staging folder's name.
fn staging_pid(name: &str) -> Option<(&'static str, u32)> {
    let prefix = [PREFIX, EXCHANGE_PREFIX]
        .into_iter()
        .find(|p| name.starts_with(p))?;
    let (pid, nonce) = name[prefix.len()..].split_once('-')?;
    if nonce.is_empty() || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some((prefix, pid.parse().ok()?))
}

/// Creates the missing ancestors of `path` (as `mkdir -p` does); returns them, outermost first.
fn create_parents(path: &Path) -> Result<Vec<PathBuf>> {
    let mut missing: Vec<&Path> = path
        .ancestors()
        .take_while(|p| !p.as_os_str().is_empty() && std::fs::symlink_metadata(p).is_err())
        .collect();
    missing.reverse();
    let mut created = Vec::new();
    for folder in missing {
        match std::fs::create_dir(folder) {
            Ok(()) => created.push(folder.to_path_buf()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                for done in created.iter().rev() {
                    let _ = std::fs::remove_dir(done);
                }
                return Err(match e.kind() {
                    std::io::ErrorKind::NotADirectory => Error::Destination(format!(
                        "destination is inside a file ({}), not a folder; choose another path",
                        folder.display()
                    )),
                    _ => Error::io("create folder", folder, e),
                });
            }
        }
    }
    Ok(created)
}

pub(super) fn nonce() -> u128 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    time ^ u128::from(COUNT.fetch_add(1, Ordering::Relaxed))
}

fn io(dir: &Dir, name: &str, e: std::io::Error) -> Error {
    Error::io("write", dir.join(name), e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_spacegen_staging_names_are_recognised() {
        assert_eq!(
            staging_pid(".spacegen-staging-123-ab12"),
            Some((PREFIX, 123))
        );
        assert_eq!(
            staging_pid(".spacegen-exchange-9-f"),
            Some((EXCHANGE_PREFIX, 9))
        );
        for other in [
            ".spacegen-staging-123-",
            ".spacegen-staging-x-ab",
            ".spacegen-staging-123-zz",
            "spacegen-staging-1-a",
            ".spacegen-staging-123",
            ".spacegen-exchange-1-",
            ".spacegen-kept-1-a",
        ] {
            assert_eq!(staging_pid(other), None, "{other}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn staging_folders_of_ended_processes_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = dir.path().join(format!("{PREFIX}{dead}-1f"));
        let live = dir
            .path()
            .join(format!("{PREFIX}{}-1f", std::process::id()));
        for d in [&stale, &live] {
            std::fs::create_dir_all(d.join("app")).unwrap();
            std::fs::write(d.join("app/x"), "x").unwrap();
        }
        assert_eq!(remove_stale(dir.path()).unwrap().staging, 1);
        assert!(!stale.exists());
        assert!(live.exists());
    }
}

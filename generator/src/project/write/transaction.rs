//! Writing into a folder that already exists (an empty one filled in place, or `--force`) as
//! one transaction: after any failure or interruption the folder holds exactly what it held
//! before, or exactly the new project.
//!
//! Everything lives in `DEST/.spacegen-transaction` (so every move is a rename inside one
//! filesystem): `owner` (the process id), `new/N` (the staged files, one per planned path),
//! `journal.toml` (the planned paths, which of them replace a file, the folders to create),
//! `old/N` (each replaced file, moved aside), `committed` (written once all is in place). The
//! journal is flushed to disk before the destination changes, so the state of every entry can
//! be read back from which of `new/N` and `old/N` still exist: a run that died is rolled back
//! (or, when committed, finished) by the next run.

use serde::{Deserialize, Serialize};

use super::dir::{Dir, SYNC_EACH_FILE};
use super::interrupt::Interrupts;
use super::{running, split, survey, Survey};
use crate::error::{Error, Result};
use crate::project::Plan;

/// The folder inside the destination that holds a transaction.
pub(crate) const FOLDER: &str = ".spacegen-transaction";
const OWNER: &str = "owner";
const JOURNAL: &str = "journal.toml";
const COMMITTED: &str = "committed";
const NEW: &str = "new";
const OLD: &str = "old";

/// What the journal records, in the order the changes are made.
#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    /// Folders created, parents first.
    folders: Vec<String>,
    entries: Vec<Entry>,
    /// Files removed (moved to `old/rN`), after the entries are in place.
    #[serde(default)]
    removes: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    path: String,
    /// Whether a file was there and is moved to `old/N`.
    replaces: bool,
}

/// What an earlier, interrupted run had left, and what was done about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Recovered {
    /// It had changed the folder: its changes were undone, `restored` files put back.
    RolledBack { restored: usize },
    /// It had finished writing: only its leftovers were removed.
    Finished,
    /// It had not changed the folder yet: what it staged was removed.
    Discarded,
}

/// Writes `plan` into the existing folder `root` as one transaction.
pub(crate) fn write(
    plan: &Plan,
    removes: &[String],
    root: &Dir,
    interrupts: &Interrupts,
) -> Result<()> {
    let txn = root.create_dir(FOLDER, 0o700).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            busy(root, None)
        } else {
            Error::io("create", root.join(FOLDER), e)
        }
    })?;
    let own = std::process::id().to_string();
    let mut journaled = false;
    let result = (|| {
        at(
            &txn,
            OWNER,
            txn.create_file(OWNER, own.as_bytes(), 0o600, false),
        )?;
        let new = at(&txn, NEW, txn.create_dir(NEW, 0o700))?;
        at(&txn, OLD, txn.create_dir(OLD, 0o700))?;
        for (i, file) in plan.files().values().enumerate() {
            interrupts.check()?;
            let id = i.to_string();
            let staged = new.create_file(&id, &file.contents, file.mode(), SYNC_EACH_FILE);
            at(&new, &id, staged)?;
        }
        let mut journal = Journal::from(survey(plan, root)?);
        journal.removes = removable(removes, root)?;
        let text = toml::to_string(&journal).map_err(|e| Error::Other(e.to_string()))?;
        let tmp = "journal.tmp";
        at(
            &txn,
            tmp,
            txn.create_file(tmp, text.as_bytes(), 0o600, true),
        )?;
        at(&txn, JOURNAL, txn.rename(tmp, &txn, JOURNAL, true))?;
        at(root, FOLDER, root.sync_filesystem())?;
        interrupts.check()?;
        journaled = true;
        apply(&journal, root, &txn, interrupts)?;
        at(root, FOLDER, root.sync_filesystem())?;
        at(
            &txn,
            COMMITTED,
            txn.create_file(COMMITTED, b"", 0o600, true),
        )?;
        at(&txn, COMMITTED, txn.sync())
    })();
    match result {
        Ok(()) => at(root, FOLDER, root.remove_tree(FOLDER)),
        Err(e) => {
            let undone = if journaled {
                undo(root).map(|_| ())
            } else {
                at(root, FOLDER, root.remove_tree(FOLDER))
            };
            match undone {
                Ok(()) => Err(e),
                Err(u) => Err(Error::Other(format!(
                    "{e}\nand undoing the run failed too: {u}\nthe next spacegen run into {} finishes undoing it",
                    root.path().display()
                ))),
            }
        }
    }
}

/// Finishes or undoes what an interrupted run left in `root`, if anything.
pub(crate) fn recover(root: &Dir) -> Result<Option<Recovered>> {
    match at(root, FOLDER, root.kind(FOLDER))? {
        None => return Ok(None),
        Some(super::dir::Kind::Folder) => {}
        Some(_) => {
            return Err(Error::Destination(format!(
                "{} is not a folder spacegen made; move it away and run again",
                root.join(FOLDER).display()
            )))
        }
    }
    let txn = at(root, FOLDER, root.child(FOLDER))?;
    let owner = at(&txn, OWNER, txn.read(OWNER))?
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.trim().parse::<u32>().ok());
    if let Some(pid) = owner.filter(|&pid| pid != std::process::id() && running(pid)) {
        return Err(busy(root, Some(pid)));
    }
    if at(&txn, COMMITTED, txn.kind(COMMITTED))?.is_some() {
        at(root, FOLDER, root.remove_tree(FOLDER))?;
        return Ok(Some(Recovered::Finished));
    }
    if at(&txn, JOURNAL, txn.kind(JOURNAL))?.is_none() {
        at(root, FOLDER, root.remove_tree(FOLDER))?;
        return Ok(Some(Recovered::Discarded));
    }
    let restored = undo(root)?;
    Ok(Some(Recovered::RolledBack { restored }))
}

impl From<Survey> for Journal {
    fn from(survey: Survey) -> Journal {
        Journal {
            folders: survey.folders,
            entries: survey
                .files
                .into_iter()
                .map(|(path, replaces)| Entry { path, replaces })
                .collect(),
            removes: Vec::new(),
        }
    }
}

/// Creates the folders, moves each replaced file aside and each staged file into place.
fn apply(journal: &Journal, root: &Dir, txn: &Dir, interrupts: &Interrupts) -> Result<()> {
    let new = at(txn, NEW, txn.child(NEW))?;
    let old = at(txn, OLD, txn.child(OLD))?;
    for folder in &journal.folders {
        interrupts.check()?;
        let (parent, name) = split(folder);
        let parent = at(root, parent, root.descend(parent))?;
        at(&parent, name, parent.create_dir(name, 0o755))?;
    }
    for (i, entry) in journal.entries.iter().enumerate() {
        interrupts.check()?;
        let id = i.to_string();
        let (parent, name) = split(&entry.path);
        let dir = at(root, parent, root.descend(parent))?;
        if entry.replaces {
            at(&dir, name, dir.rename(name, &old, &id, false))?;
        }
        at(&dir, name, new.rename(&id, &dir, name, false))?;
    }
    for (i, path) in journal.removes.iter().enumerate() {
        interrupts.check()?;
        let (parent, name) = split(path);
        let dir = at(root, parent, root.descend(parent))?;
        at(&dir, name, dir.rename(name, &old, &removed_id(i), false))?;
    }
    Ok(())
}

/// The name in `old/` of the `i`th removed file.
fn removed_id(i: usize) -> String {
    format!("r{i}")
}

/// The paths to remove that are there as regular files (a path already gone is left out;
/// a link or a folder in its place is refused).
pub(super) fn removable(removes: &[String], root: &Dir) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for path in removes {
        let (parent, name) = split(path);
        let Ok(dir) = root.descend(parent) else {
            continue;
        };
        match at(&dir, name, dir.kind(name))? {
            None => {}
            Some(super::dir::Kind::File) => out.push(path.clone()),
            Some(_) => {
                return Err(Error::Destination(format!(
                    "{} is not a regular file any more; spacegen removes only the files it wrote",
                    root.join(path).display()
                )))
            }
        }
    }
    Ok(out)
}

/// Undoes the journaled transaction in `root` from what is left of it; returns how many files
/// were put back.
fn undo(root: &Dir) -> Result<usize> {
    let txn = at(root, FOLDER, root.child(FOLDER))?;
    let text = at(&txn, JOURNAL, txn.read(JOURNAL))?.unwrap_or_default();
    let journal: Journal = std::str::from_utf8(&text)
        .ok()
        .and_then(|t| toml::from_str(t).ok())
        .ok_or_else(|| {
            Error::Other(format!(
                "{} cannot be read; the files it moved aside are in {}",
                txn.join(JOURNAL).display(),
                txn.join(OLD).display()
            ))
        })?;
    let new = at(&txn, NEW, txn.child(NEW))?;
    let old = at(&txn, OLD, txn.child(OLD))?;
    let mut restored = 0;
    for (i, path) in journal.removes.iter().enumerate().rev() {
        let id = removed_id(i);
        if at(&old, &id, old.kind(&id))?.is_some() {
            let (parent, name) = split(path);
            let dir = at(root, parent, root.descend(parent))?;
            at(&dir, name, old.rename(&id, &dir, name, false))?;
            restored += 1;
        }
    }
    for (i, entry) in journal.entries.iter().enumerate().rev() {
        let id = i.to_string();
        let placed = at(&new, &id, new.kind(&id))?.is_none();
        let moved = at(&old, &id, old.kind(&id))?.is_some();
        if !placed && !moved {
            continue;
        }
        let (parent, name) = split(&entry.path);
        let dir = at(root, parent, root.descend(parent))?;
        if placed && at(&dir, name, dir.kind(name))?.is_some() {
            at(&dir, name, dir.remove_file(name))?;
        }
        if moved {
            at(&dir, name, old.rename(&id, &dir, name, false))?;
            restored += 1;
        }
    }
    for folder in journal.folders.iter().rev() {
        let (parent, name) = split(folder);
        if let Ok(parent) = root.descend(parent) {
            // A folder someone put files in meanwhile stays.
            let _ = parent.remove_dir(name);
        }
    }
    at(root, FOLDER, root.sync_filesystem())?;
    at(root, FOLDER, root.remove_tree(FOLDER))?;
    Ok(restored)
}

fn busy(root: &Dir, pid: Option<u32>) -> Error {
    let txn = root.join(FOLDER);
    let who = pid.map_or_else(
        || "another spacegen run".to_owned(),
        |p| format!("another spacegen run (process {p})"),
    );
    Error::Destination(format!(
        "{who} is writing into {}; wait for it to end. If no spacegen is running, delete {} and \
         run again: the interrupted run is then undone",
        root.path().display(),
        txn.join(OWNER).display()
    ))
}

/// Adds the path of `name` in `dir` to an I/O error.
fn at<T>(dir: &Dir, name: &str, r: std::io::Result<T>) -> Result<T> {
    r.map_err(|e| Error::io("write", dir.join(name), e))
}

//! What updating a generated project does to each file, decided in memory from four sides:
//! the record (the sha256 of every generated file), the project as it is on disk, the project
//! as generated then (the base: rendered again from the recorded answers, when this spacegen
//! can), and the project as the blueprint generates it now.
//!
//! - A file the user did not touch (its hash is the recorded one) is replaced.
//! - A file the user edited is merged line by line: three-way against the base (diffy), or,
//!   with no base, two-way: every region where the project and the new version differ is a
//!   conflict, since nothing tells the user's lines from lines the blueprint changed.
//!   Conflicts are written with git's markers (`<<<<<<< ours` is the project, `>>>>>>> theirs`
//!   the new version) and listed with their lines.
//! - A requirements file the user edited is the new version's, with the user's own lines
//!   (packages and options neither the base nor the new version has) kept at its end.
//! - A file the user deleted stays deleted; a file the new version drops is removed only when
//!   untouched; files the user added are never touched (they are not in either version).
//!
//! Nothing here touches the disk.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::blueprint::hash::sha256;
use crate::check::requirements::entries;
use crate::project::plan::PlannedFile;
use crate::project::Plan;

/// What becomes of one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// A file the new version adds.
    Create,
    /// An untouched file, replaced by the new version.
    Replace,
    /// An edited file, merged without conflict.
    Merge,
    /// An edited file, merged with conflicts at these lines (1-based, the `<<<<<<<` lines).
    Conflict(Vec<usize>),
    /// An untouched file the new version no longer generates.
    Remove,
    /// Already what the new version generates (or what the merge gives).
    Same,
    /// Deleted by the user: stays deleted.
    StaysDeleted,
    /// Edited by the user and no longer generated: kept as it is.
    KeptEdited,
}

impl Action {
    /// Whether the file on disk changes.
    pub(crate) fn writes(&self) -> bool {
        matches!(
            self,
            Action::Create | Action::Replace | Action::Merge | Action::Conflict(_)
        )
    }

    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Replace => "replace",
            Action::Merge => "merge",
            Action::Conflict(_) => "conflict",
            Action::Remove => "remove",
            Action::Same => "same",
            Action::StaysDeleted => "stays-deleted",
            Action::KeptEdited => "kept-edited",
        }
    }
}

/// One path's update: what happens, and what is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileUpdate {
    pub path: String,
    pub action: Action,
    /// What the file holds after the update (`None` when it is removed or stays absent).
    pub after: Option<PlannedFile>,
    /// What it holds now (`None` when absent).
    pub before: Option<Arc<[u8]>>,
}

/// How the base was known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The project as generated then was rendered again and matched the record.
    ThreeWay,
    /// The old version is not known here: edited files are merged two-way.
    TwoWay,
}

/// The update of every path the record, the project or the new version has.
pub(crate) fn plan(
    recorded: &BTreeMap<String, String>,
    disk: &BTreeMap<String, Arc<[u8]>>,
    base: Option<&Plan>,
    new: &Plan,
) -> Vec<FileUpdate> {
    let paths: BTreeSet<&str> = recorded
        .keys()
        .map(String::as_str)
        .chain(new.files().keys().map(String::as_str))
        .collect();
    paths
        .into_iter()
        .map(|path| {
            let current = disk.get(path).cloned();
            let generated = recorded.get(path);
            let untouched = match (&current, generated) {
                (Some(bytes), Some(hash)) => &sha256(bytes) == hash,
                _ => false,
            };
            let base_file = base.and_then(|b| b.files().get(path));
            let (action, after) = decide(
                path,
                current.as_deref(),
                generated.is_some(),
                untouched,
                base_file.map(|f| &f.contents[..]),
                new.files().get(path),
                base.is_some(),
            );
            FileUpdate {
                path: path.to_owned(),
                action,
                after,
                before: current,
            }
        })
        .collect()
}

fn decide(
    path: &str,
    current: Option<&[u8]>,
    was_generated: bool,
    untouched: bool,
    base: Option<&[u8]>,
    new: Option<&PlannedFile>,
    base_known: bool,
) -> (Action, Option<PlannedFile>) {
    let Some(new) = new else {
        // The new version no longer generates it.
        return match current {
            None => (Action::StaysDeleted, None),
            Some(_) if untouched => (Action::Remove, None),
            Some(bytes) => (Action::KeptEdited, Some(as_file(bytes, false))),
        };
    };
    let Some(current) = current else {
        return if was_generated {
            (Action::StaysDeleted, None)
        } else {
            (Action::Create, Some(new.clone()))
        };
    };
    if current == &new.contents[..] {
        return (Action::Same, Some(new.clone()));
    }
    if untouched {
        return (Action::Replace, Some(new.clone()));
    }
    // Edited by the user (or made by the user where the new version adds a file).
    let base = if base_known && was_generated {
        base
    } else {
        None
    };
    if base == Some(&new.contents[..]) {
        // The blueprint did not change this file: the user's version stands.
        return (Action::Same, Some(as_file(current, new.executable)));
    }
    let merged = if is_requirements(path) {
        Ok(requirements(current, base, &new.contents))
    } else {
        merge(current, base, &new.contents)
    };
    let (action, text) = match merged {
        Ok(text) => (Action::Merge, text),
        Err(text) => (Action::Conflict(conflict_lines(&text)), text),
    };
    if text.as_bytes() == current {
        return (Action::Same, Some(as_file(current, new.executable)));
    }
    (action, Some(as_file(text.as_bytes(), new.executable)))
}

fn as_file(bytes: &[u8], executable: bool) -> PlannedFile {
    PlannedFile {
        contents: Arc::from(bytes),
        executable,
    }
}

/// Whether a path is a pip requirements file.
pub(crate) fn is_requirements(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.starts_with("requirements") && name.ends_with(".txt")
}

/// The merge of `ours` and `theirs`: three-way when the base is known, else two-way. `Err`
/// holds the text with conflict markers.
fn merge(ours: &[u8], base: Option<&[u8]>, theirs: &[u8]) -> Result<String, String> {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let (ours, theirs) = (text(ours), text(theirs));
    match base {
        Some(base) => diffy::merge(&text(base), &ours, &theirs),
        None => two_way(&ours, &theirs),
    }
}

/// Every region where `ours` and `theirs` differ becomes a conflict.
fn two_way(ours: &str, theirs: &str) -> Result<String, String> {
    let diff = similar::TextDiff::from_lines(ours, theirs);
    let mut out = String::with_capacity(ours.len().max(theirs.len()));
    let mut conflicted = false;
    let mut mine = String::new();
    let mut yours = String::new();
    let flush = |out: &mut String, mine: &mut String, yours: &mut String, conflicted: &mut bool| {
        if mine.is_empty() && yours.is_empty() {
            return;
        }
        *conflicted = true;
        out.push_str("<<<<<<< ours\n");
        push_line_ended(out, mine);
        out.push_str("=======\n");
        push_line_ended(out, yours);
        out.push_str(">>>>>>> theirs\n");
        mine.clear();
        yours.clear();
    };
    for change in diff.iter_all_changes() {
        match change.tag() {
            similar::ChangeTag::Equal => {
                flush(&mut out, &mut mine, &mut yours, &mut conflicted);
                out.push_str(change.value());
            }
            similar::ChangeTag::Delete => mine.push_str(change.value()),
            similar::ChangeTag::Insert => yours.push_str(change.value()),
        }
    }
    flush(&mut out, &mut mine, &mut yours, &mut conflicted);
    if conflicted {
        Err(out)
    } else {
        Ok(out)
    }
}

/// Appends `text`, ending it with a newline when it has none (a last line without one).
fn push_line_ended(out: &mut String, text: &str) {
    out.push_str(text);
    if !text.is_empty() && !text.ends_with('\n') {
        out.push('\n');
    }
}

/// The lines where conflicts start.
fn conflict_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("<<<<<<< "))
        .map(|(i, _)| i + 1)
        .collect()
}

/// The new requirements file, with the project's own lines kept at its end: requirements of
/// packages, and options, that neither the base nor the new version has. Pins move together,
/// so the new version's pins replace the project's.
fn requirements(ours: &[u8], base: Option<&[u8]>, theirs: &[u8]) -> String {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let (ours, theirs) = (text(ours), text(theirs));
    let base = base.map(text).unwrap_or_default();
    let known: BTreeSet<String> = entries(&theirs)
        .into_iter()
        .chain(entries(&base))
        .map(|e| e.requirement.name)
        .collect();
    let known_lines: BTreeSet<String> = logical_lines(&theirs)
        .into_iter()
        .chain(logical_lines(&base))
        .map(|l| l.trim().to_owned())
        .collect();
    let mut kept = Vec::new();
    for line in logical_lines(&ours) {
        let bare = line.split('#').next().unwrap_or("").trim();
        if bare.is_empty() || known_lines.contains(line.trim()) {
            continue;
        }
        let theirs_too = entries(&line)
            .first()
            .is_some_and(|e| known.contains(&e.requirement.name));
        if !theirs_too {
            kept.push(line);
        }
    }
    let mut out = theirs;
    if !kept.is_empty() {
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str("\n# Kept from this project's own requirements (spacegen update):\n");
        for line in kept {
            out.push_str(&line);
            if !line.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    out
}

/// The logical lines of a requirements file: a line and its `\` continuations, as written.
fn logical_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for line in text.split_inclusive('\n') {
        current.push_str(line);
        if !line.trim_end().ends_with('\\') {
            lines.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

#[cfg(test)]
mod tests;

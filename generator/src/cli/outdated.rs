//! `spacegen outdated`: which blueprint version and which pinned packages a generated project
//! is behind, for people or (`--format json`) for bots; exit 1 when behind, for scheduled
//! workflows. An interrupted `new --force` into the project is finished or undone first.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;

use super::args::{Format, OutdatedArgs};
use super::printer::Printer;
use crate::answers::Provided;
use crate::blueprint::{self, Source};
use crate::error::{exit, read_text, About, Error, FileKind, Problem, Result};
use crate::history::{self, store, History};
use crate::project::{record, write};
use crate::update::outdated::{self, Outdated};

/// The version of the JSON shape; it changes only when a field is removed or changes meaning.
const JSON_VERSION: u32 = 1;

pub(super) fn run(args: &OutdatedArgs, printer: &Printer) -> Result<i32> {
    let project = Generated::open(
        &args.dir,
        args.blueprints.as_deref(),
        args.lock.as_deref(),
        printer,
    )?;
    let entry = project.entry()?;
    let mut answers = Provided::default();
    answers.add_text(&project.record_text, &project.origin)?;
    let files = requirements_files(&args.dir, project.recorded.files.keys())?;
    let report = outdated::compare(&project.recorded, &files, &project.bp, entry, &answers)?;
    let text = match args.format {
        Format::Human => human(&report, &args.dir),
        Format::Json => serde_json::to_string_pretty(&as_json(&report))
            .map_err(|e| Error::Other(format!("cannot write JSON: {e}")))?,
    };
    printer.out(text.trim_end())?;
    Ok(if report.is_behind() {
        exit::FAILURE
    } else {
        exit::OK
    })
}

/// A generated project, opened: its record read, the blueprint it names and the lock loaded.
/// An interrupted `new --force` (or `update`) inside it is finished or undone first, and said.
pub(super) struct Generated {
    pub recorded: record::Recorded,
    pub record_text: String,
    /// Where the record was read from, for messages.
    pub origin: String,
    pub bp: blueprint::Blueprint,
    source: Source,
    lock: crate::lock::LoadedLock,
}

impl Generated {
    pub(super) fn open(
        dir: &Path,
        blueprints: Option<&Path>,
        lock: Option<&Path>,
        printer: &Printer,
    ) -> Result<Generated> {
        if write::interrupted(dir) {
            super::new::report_leftovers(&write::clean_up(dir)?, dir, printer)?;
        }
        let path = dir.join(record::path());
        if !path.is_file() {
            return Err(Error::input(Problem::new(
                About::Variable("DIR".into()),
                format!(
                    "{} is not a project spacegen generated: it has no {}",
                    dir.display(),
                    record::path()
                ),
            )));
        }
        let record_text = read_text(
            &path,
            "read the project record",
            FileKind::Answers,
            "restore the record from version control",
        )?;
        let origin = path.display().to_string();
        let recorded = record::parse(&record_text, &origin)?;
        let source = match blueprints {
            Some(folder) => Source::Disk(folder.to_path_buf()),
            None => Source::Embedded,
        };
        let bp = blueprint::load(&source, &recorded.blueprint)?;
        let lock = super::lock_for(lock, &source)?;
        Ok(Generated {
            recorded,
            record_text,
            origin,
            bp,
            source,
            lock,
        })
    }

    /// The release the record names, when it is not the blueprint at hand: from the history
    /// beside the blueprints folder given (a blueprint set that keeps one), else from
    /// spacegen's embedded history. `Err` says why it cannot be had.
    pub(super) fn earlier(
        &self,
    ) -> std::result::Result<
        Option<(blueprint::Blueprint, crate::lock::LockedBlueprint, String)>,
        String,
    > {
        let r = &self.recorded;
        if r.blueprint == self.bp.name
            && r.version == self.bp.version
            && r.content_hash == self.bp.content_hash
        {
            return Ok(None);
        }
        let on_disk = match &self.source {
            Source::Disk(root) => {
                store::Store::beside(&root.with_file_name(crate::lock::file::FILE_NAME))
            }
            _ => None,
        };
        let restored = match on_disk {
            Some(store) => {
                let index = store.index().map_err(|e| e.to_string())?;
                index
                    .releases
                    .iter()
                    .find(|x| x.blueprint == r.blueprint && x.content_hash == r.content_hash)
                    .map(|release| {
                        (
                            history::restore(release, |name| store.object(name)),
                            format!(
                                "{} {} from {}",
                                r.blueprint,
                                release.version,
                                store.dir().display()
                            ),
                        )
                    })
            }
            None => None,
        };
        let restored = match restored {
            Some(found) => Some(found),
            None => {
                let embedded = History::embedded().map_err(|e| e.to_string())?;
                embedded
                    .by_hash(&r.blueprint, &r.content_hash)
                    .map(|release| {
                        (
                            embedded.restore(release),
                            format!(
                                "{} {} from {}",
                                r.blueprint,
                                release.version,
                                history::EMBEDDED_ORIGIN
                            ),
                        )
                    })
            }
        };
        let Some((restored, from)) = restored else {
            return Ok(None);
        };
        let restored = restored.map_err(|e| format!("{from} cannot be read: {e}"))?;
        let bp = blueprint::load(&restored.source, &r.blueprint)
            .map_err(|e| format!("{from} no longer loads: {e}"))?;
        Ok(Some((bp, restored.entry, from)))
    }

    /// The lock's entry for the blueprint.
    pub(super) fn entry(&self) -> Result<&crate::lock::LockedBlueprint> {
        self.lock
            .entry_for(&self.bp)
            .map_err(|e| super::unlocked(e, &self.bp, &self.source, &self.lock))
    }
}

/// The text of the project's requirements files the record lists (or that are there).
fn requirements_files<'a>(
    dir: &Path,
    recorded: impl Iterator<Item = &'a String>,
) -> Result<BTreeMap<String, String>> {
    let mut files = BTreeMap::new();
    for path in recorded.filter(|p| {
        let name = p.rsplit('/').next().unwrap_or(p);
        name.starts_with("requirements") && name.ends_with(".txt")
    }) {
        let full = dir.join(path);
        match std::fs::read(&full) {
            Ok(bytes) => {
                files.insert(path.clone(), String::from_utf8_lossy(&bytes).into_owned());
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("read", &full, e)),
        }
    }
    Ok(files)
}

fn human(report: &Outdated, dir: &Path) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let (name, old, new) = (&report.blueprint, &report.recorded, &report.current);
    let _ = match report.status {
        outdated::BlueprintStatus::Current => {
            writeln!(out, "{}: blueprint {name} {old} (current)", dir.display())
        }
        outdated::BlueprintStatus::Behind => {
            writeln!(out, "{}: blueprint {name} {old} → {new}", dir.display())
        }
        outdated::BlueprintStatus::Ahead => writeln!(
            out,
            "{}: blueprint {name} {old}, newer than the {new} this spacegen has",
            dir.display()
        ),
        outdated::BlueprintStatus::Differs => writeln!(
            out,
            "{}: blueprint {name} {old}, with content other than this spacegen's {new} (a development build or a fork)",
            dir.display()
        ),
    };
    let width = report
        .changes
        .iter()
        .map(|c| shown_name(c).chars().count())
        .max()
        .unwrap_or(0);
    let mut file = "";
    for change in &report.changes {
        if change.file != file {
            file = &change.file;
            let _ = writeln!(out, "{file}");
        }
        let what = match (&change.project, &change.blueprint) {
            (Some(a), Some(b)) => format!("{a} → {b}"),
            (None, Some(b)) => format!("added at {b}"),
            (Some(a), None) => format!("{a}, dropped"),
            (None, None) => String::new(),
        };
        let _ = writeln!(out, "  {:width$}  {what}", shown_name(change));
    }
    for file in &report.edited {
        let _ = writeln!(
            out,
            "note: {file} was edited; the packages only it pins are left as they are"
        );
    }
    if !report.is_behind() {
        let _ = writeln!(out, "up to date");
        return out;
    }
    let n = report.changes.len();
    let pins = match n {
        0 => "no pin changes".to_owned(),
        1 => "1 pin behind".to_owned(),
        n => format!("{n} pins behind"),
    };
    let project = dir.display();
    let _ = writeln!(
        out,
        "{pins}. To move to them, keeping your edits: spacegen update {project} (--dry-run first to see the diff)"
    );
    out
}

/// A change's package as the file writes it, with its marker.
fn shown_name(change: &outdated::Change) -> String {
    if change.marker.is_empty() {
        change.name.clone()
    } else {
        format!("{} ; {}", change.name, change.marker)
    }
}

fn as_json(report: &Outdated) -> serde_json::Value {
    json!({
        "version": JSON_VERSION,
        "outdated": report.is_behind(),
        "blueprint": {
            "name": report.blueprint,
            "recorded": report.recorded.to_string(),
            "current": report.current.to_string(),
            "status": report.status.as_str(),
        },
        "packages": report.changes.iter().map(|c| json!({
            "file": c.file,
            "name": c.name,
            "marker": c.marker,
            "project": c.project,
            "blueprint": c.blueprint,
        })).collect::<Vec<_>>(),
        "edited": report.edited,
    })
}

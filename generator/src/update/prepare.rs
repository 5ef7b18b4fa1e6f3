//! An update, prepared in memory: the project generated again from its recorded answers
//! (with `--var` changes, new variables at their defaults) by today's blueprint, the base when
//! it can be known, and what becomes of every file ([`super::merge`]).
//!
//! The base is known when the record names the blueprint this spacegen has, at the same
//! content: it is rendered from the recorded answers, and used only if every file it renders
//! hashes as the record says (three-way). Otherwise edited files are merged two-way, and the
//! update says so.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::merge::{self, FileUpdate, Mode};
use crate::answers::{Prompter, Provided};
use crate::blueprint::hash::sha256;
use crate::blueprint::Blueprint;
use crate::error::Result;
use crate::lock::LockedBlueprint;
use crate::project::plan::PlannedFile;
use crate::project::record::{self, Recorded};
use crate::project::{generate, Plan};

/// An update, ready to be shown or written.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub blueprint: String,
    pub from: semver::Version,
    pub to: semver::Version,
    pub mode: Mode,
    /// Why the base is not known, in two-way mode.
    pub why_two_way: Option<String>,
    /// Every path's update, in path order; the record is not among them.
    pub files: Vec<FileUpdate>,
    /// The new record, written last.
    pub record: PlannedFile,
    /// Variables the new version has and the record does not, with the value they took.
    pub new_variables: Vec<(String, String)>,
    /// Recorded answers the new version no longer asks for.
    pub dropped_answers: Vec<String>,
}

impl Prepared {
    /// Whether the update changes nothing on disk.
    pub(crate) fn is_no_op(&self) -> bool {
        self.files.iter().all(|f| !f.action.writes() && !removes(f))
    }

    /// What is written: every changed file, and the record.
    pub(crate) fn writes(&self) -> Result<Plan> {
        let mut plan = Plan::default();
        for file in self.files.iter().filter(|f| f.action.writes()) {
            if let Some(after) = &file.after {
                plan.insert(file.path.clone(), after.clone(), "the update")?;
            }
        }
        plan.insert(record::path(), self.record.clone(), "the update")?;
        Ok(plan)
    }

    /// The files removed.
    pub(crate) fn removals(&self) -> Vec<String> {
        self.files
            .iter()
            .filter(|f| removes(f))
            .map(|f| f.path.clone())
            .collect()
    }

    /// The files written with conflict markers, with their lines.
    pub(crate) fn conflicts(&self) -> impl Iterator<Item = (&str, &[usize])> {
        self.files.iter().filter_map(|f| match &f.action {
            merge::Action::Conflict(lines) => Some((f.path.as_str(), lines.as_slice())),
            _ => None,
        })
    }
}

/// Whether the update removes the file.
pub(crate) fn removes(update: &FileUpdate) -> bool {
    update.action == merge::Action::Remove
}

/// Reads a project's file at a path: `None` when there is none.
pub(crate) type ReadFile<'a> = dyn Fn(&str) -> Result<Option<Arc<[u8]>>> + 'a;

/// A generated project as an update reads it: its record, parsed and as written, and a way
/// to read its files.
pub(crate) struct Project<'a> {
    pub recorded: &'a Recorded,
    pub record_text: &'a str,
    /// Where the record was read from, for messages.
    pub record_origin: &'a str,
    pub read: &'a ReadFile<'a>,
}

/// Prepares the update of `project` to `bp` locked as `entry`. `changes` are the `--var`
/// values; every other answer is the recorded one. A variable the record has no answer for
/// (new in this version, or a secret) is asked of `prompter`, or takes its default.
pub(crate) fn prepare(
    project: &Project<'_>,
    bp: &Blueprint,
    entry: &LockedBlueprint,
    changes: &[String],
    prompter: Option<&mut dyn Prompter>,
) -> Result<Prepared> {
    let Project {
        recorded,
        record_text,
        record_origin,
        read,
    } = *project;
    let mut then = Provided::default();
    then.add_text(record_text, record_origin)?;
    let mut now = Provided::default();
    now.add_text(record_text, record_origin)?;
    now.retain(|name| bp.variable(name).is_some());
    now.add_flags(changes);
    let new = generate::generate(bp, entry, &now, prompter)?;
    let (base, why_two_way) = base(recorded, bp, entry, &then);
    let record_path = record::path();
    let mut new_plan = Plan::default();
    let mut new_record = None;
    for (path, file) in new.plan.files() {
        if *path == record_path {
            new_record = Some(file.clone());
        } else {
            new_plan.insert(path.clone(), file.clone(), "the new version")?;
        }
    }
    let mut recorded_files = recorded.files.clone();
    recorded_files.remove(&record_path);
    let mut disk = BTreeMap::new();
    for path in recorded_files.keys().chain(new_plan.files().keys()) {
        if let Some(bytes) = read(path)? {
            disk.insert(path.clone(), bytes);
        }
    }
    let files = merge::plan(&recorded_files, &disk, base.as_ref(), &new_plan);
    let answered: BTreeSet<String> = recorded_answers(record_text);
    let new_variables = bp
        .variables
        .iter()
        .filter(|v| !answered.contains(&v.name) && !v.secret)
        .map(|v| {
            let value = new
                .answers
                .get(&v.name)
                .map_or_else(String::new, ToString::to_string);
            (v.name.clone(), value)
        })
        .collect();
    let known: BTreeSet<&str> = bp.variables.iter().map(|v| v.name.as_str()).collect();
    let dropped_answers = answered
        .iter()
        .filter(|n| !known.contains(n.as_str()))
        .cloned()
        .collect();
    let record = new_record.ok_or_else(|| {
        crate::error::Error::Other("the new version renders no project record".to_owned())
    })?;
    Ok(Prepared {
        blueprint: bp.name.clone(),
        from: recorded.version.clone(),
        to: bp.version.clone(),
        mode: if base.is_some() {
            Mode::ThreeWay
        } else {
            Mode::TwoWay
        },
        why_two_way,
        files,
        record,
        new_variables,
        dropped_answers,
    })
}

/// The project as it was generated, when this spacegen can render it and the result matches
/// the record; else why not.
fn base(
    recorded: &Recorded,
    bp: &Blueprint,
    entry: &LockedBlueprint,
    answers: &Provided,
) -> (Option<Plan>, Option<String>) {
    if recorded.blueprint != bp.name
        || recorded.version != bp.version
        || recorded.content_hash != bp.content_hash
    {
        return (
            None,
            Some(format!(
                "this spacegen has {} {}, not the {} {} the project was generated from",
                bp.name, bp.version, recorded.blueprint, recorded.version
            )),
        );
    }
    let generated = match generate::generate(bp, entry, answers, None) {
        Ok(generated) => generated,
        Err(e) => {
            return (
                None,
                Some(format!("the recorded answers no longer render: {e}")),
            )
        }
    };
    let record_path = record::path();
    let mut plan = Plan::default();
    for (path, file) in generated.plan.files() {
        if *path == record_path {
            continue;
        }
        if recorded.files.get(path) != Some(&sha256(&file.contents)) {
            return (
                None,
                Some(format!(
                    "rendered again, {path} does not match the record (the lock or the answers differ)"
                )),
            );
        }
        if plan
            .insert(path.clone(), file.clone(), "the recorded version")
            .is_err()
        {
            return (None, Some(format!("{path} cannot be rendered again")));
        }
    }
    (Some(plan), None)
}

/// The names the record's `[answers]` table holds.
fn recorded_answers(record_text: &str) -> BTreeSet<String> {
    toml::from_str::<toml::Table>(record_text)
        .ok()
        .and_then(|t| t.get("answers").and_then(|a| a.as_table()).cloned())
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

//! An update, prepared in memory: the project generated again from its recorded answers
//! (with `--var` changes, new variables at their defaults) by today's blueprint, the base when
//! it can be known, and what becomes of every file ([`super::merge`]).
//!
//! The base is the project as it was generated: rendered again from the recorded answers by
//! the blueprint the record names, at the content it records, with the lock entry of then:
//! today's blueprint when the record names it, else the release the caller found in
//! spacegen's history. Each file it renders is used only if it hashes as the record says
//! (three-way); a file that does not (rendered differently by the spacegen of then) and every
//! file when no release is known are merged two-way, and the update says so.
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
    /// Where the base came from, in three-way mode (`sqlite-demo 0.2.0 from spacegen's
    /// history`).
    pub base_from: Option<String>,
    /// Files the base renders otherwise than the record says: merged two-way.
    pub unmatched: Vec<String>,
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

/// The blueprint the project was generated from, when it is not today's: a release from
/// spacegen's history, loaded, with its lock entry and where it came from.
pub(crate) struct Earlier<'a> {
    pub bp: &'a Blueprint,
    pub entry: &'a LockedBlueprint,
    pub from: String,
}

/// Prepares the update of `project` to `bp` locked as `entry`. `changes` are the `--var`
/// values; every other answer is the recorded one. A variable the record has no answer for
/// (new in this version, or a secret) is asked of `prompter`, or takes its default. `earlier`
/// is the release the record names, when it is not `bp` and the caller found it.
pub(crate) fn prepare(
    project: &Project<'_>,
    bp: &Blueprint,
    entry: &LockedBlueprint,
    earlier: Option<&Earlier<'_>>,
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
    let Base {
        plan: base,
        why_two_way,
        from: base_from,
        unmatched,
    } = base(recorded, bp, entry, earlier, &then);
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
        base_from,
        unmatched,
        files,
        record,
        new_variables,
        dropped_answers,
    })
}

/// The project as it was generated, as far as it can be rendered again.
struct Base {
    /// The files that render as the record says; `None` when none can be rendered.
    plan: Option<Plan>,
    why_two_way: Option<String>,
    from: Option<String>,
    unmatched: Vec<String>,
}

impl Base {
    fn unknown(why: String) -> Base {
        Base {
            plan: None,
            why_two_way: Some(why),
            from: None,
            unmatched: Vec::new(),
        }
    }
}

/// The project as it was generated: rendered again by today's blueprint when the record names
/// it, else by `earlier`; each file kept only when it hashes as the record says.
fn base(
    recorded: &Recorded,
    bp: &Blueprint,
    entry: &LockedBlueprint,
    earlier: Option<&Earlier<'_>>,
    answers: &Provided,
) -> Base {
    let names = |b: &Blueprint| {
        recorded.blueprint == b.name
            && recorded.version == b.version
            && recorded.content_hash == b.content_hash
    };
    let (then_bp, then_entry, from) = if names(bp) {
        (bp, entry, format!("{} {}", bp.name, bp.version))
    } else {
        match earlier {
            Some(e) if names(e.bp) => (e.bp, e.entry, e.from.clone()),
            _ => {
                return Base::unknown(format!(
                    "this spacegen has no record of {} {} as the project was generated (content {}): a development build or another blueprint set made it",
                    recorded.blueprint,
                    recorded.version,
                    short(&recorded.content_hash)
                ))
            }
        }
    };
    let generated = match generate::generate(then_bp, then_entry, answers, None) {
        Ok(generated) => generated,
        Err(e) => return Base::unknown(format!("the recorded answers no longer render: {e}")),
    };
    let record_path = record::path();
    let mut plan = Plan::default();
    let mut unmatched = Vec::new();
    for (path, file) in generated.plan.files() {
        if *path == record_path {
            continue;
        }
        match recorded.files.get(path) {
            Some(hash)
                if *hash == sha256(&file.contents)
                    && plan
                        .insert(path.clone(), file.clone(), "the recorded version")
                        .is_ok() => {}
            Some(_) => unmatched.push(path.clone()),
            None => {}
        }
    }
    unmatched.extend(
        recorded
            .files
            .keys()
            .filter(|p| **p != record_path && !generated.plan.files().contains_key(*p))
            .cloned(),
    );
    unmatched.sort();
    if plan.files().is_empty() {
        return Base::unknown(format!(
            "{from}, rendered again, gives none of the files the record lists (the lock or the answers differ)"
        ));
    }
    Base {
        plan: Some(plan),
        why_two_way: None,
        from: Some(from),
        unmatched,
    }
}

/// A content hash's first 12 hex digits.
fn short(hash: &str) -> &str {
    let hex = hash.strip_prefix("sha256:").unwrap_or(hash);
    hex.get(..12).unwrap_or(hex)
}

/// The names the record's `[answers]` table holds.
fn recorded_answers(record_text: &str) -> BTreeSet<String> {
    toml::from_str::<toml::Table>(record_text)
        .ok()
        .and_then(|t| t.get("answers").and_then(|a| a.as_table()).cloned())
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

//! `spacegen lock`: lock anew, then check (`--check`), verify (`--verify`) or write.

use serde_json::json;

use super::args::{Format, LockArgs};
use super::list::{pretty, JSON_VERSION};
use super::printer::Printer;
use super::progress::Steps;
use crate::error::{exit, Error, Result};
use crate::history::store::{self, Recording, Store};
use crate::lock::evidence;
use crate::lock::relock::{self, Note, Relocked, Update};
use crate::progress::Progress;
use crate::verify;

/// Runs `lock` and returns the exit status.
pub(super) fn run(args: LockArgs, printer: &Printer) -> Result<i32> {
    if !args.blueprints.is_dir() {
        return Err(super::no_blueprints_folder(&args.blueprints));
    }
    // Evidence files are read before any work: a bad one is refused at once.
    let evidence_files = args
        .merge_evidence
        .iter()
        .map(|path| evidence::read(path))
        .collect::<Result<Vec<_>>>()?;
    if args.verify_plan {
        return verify_plan(&args, printer).map(|()| exit::OK);
    }
    let update = match &args.update {
        None => Update::Nothing,
        Some(list) if list.is_empty() => Update::All,
        Some(list) => Update::Only(list.clone()),
    };
    let mut progress = Steps::new(printer);
    let mut relocked = relock::relock(
        &args.blueprints,
        &args.lock_path(),
        &update,
        args.check || args.outdated,
        &mut progress,
    )?;
    if args.outdated {
        return outdated(&relocked, args.format, printer).map(|()| exit::OK);
    }
    if args.check && args.format == Format::Json {
        return check_json(&relocked, printer);
    }
    summary(&relocked, printer)?;
    if args.check {
        check(&relocked, printer)?;
        return check_history(&relocked, &args).map(|()| exit::OK);
    }
    if let Some(which) = &args.verify {
        let done = verify_all(
            &mut relocked,
            &args.blueprints,
            which.as_deref(),
            &mut progress,
        )?;
        if let Some(path) = &args.evidence_out {
            write_evidence(&relocked, &done, path)?;
            printer.out(format_args!("wrote the evidence to {}", path.display()))?;
        }
    }
    for (path, file) in args.merge_evidence.iter().zip(evidence_files) {
        let merged = merge_evidence(&mut relocked, path, file)?;
        printer.out(format_args!(
            "{}: recorded {}",
            path.display(),
            if merged.is_empty() {
                "nothing".to_owned()
            } else {
                merged.join(", ")
            }
        ))?;
    }
    for note in &relocked.notes {
        match note {
            Note::EvidenceDropped { blueprint } => printer.err(format_args!(
                "{blueprint}: verification evidence dropped (what it covered changed): run `spacegen lock --verify {blueprint}`"
            ))?,
            Note::Unverified { blueprint } => printer.err(format_args!(
                "{blueprint}: not verified: run `spacegen lock --verify {blueprint}` (`lock --check` fails without it)"
            ))?,
            Note::Mismatch { blueprint, why } => printer.err(format_args!(
                "{blueprint}: not the set its verifications proved ({why}): run `spacegen lock --update` to read the set from the index again, then `spacegen lock --verify {blueprint}`"
            ))?,
            _ => {}
        }
    }
    if relocked.save()? {
        printer.out(format_args!("wrote {}", args.lock_path().display()))?;
    } else {
        printer.out(format_args!("{} is up to date", args.lock_path().display()))?;
    }
    if let Some(store) = Store::beside(&args.lock_path()) {
        let lock = crate::lock::file::read(&args.lock_path())?;
        let folders = history_folders(&relocked, &args.blueprints)?;
        let changes = store.record(&recordings(&relocked, &lock.lock, &folders))?;
        for change in changes {
            printer.out(format_args!("{}: {change}", store.dir().display()))?;
        }
    }
    Ok(exit::OK)
}

/// The folders of every blueprint locked, by name.
fn history_folders(relocked: &Relocked, dir: &std::path::Path) -> Result<Vec<store::Folders>> {
    let source = crate::blueprint::Source::Disk(dir.to_path_buf());
    relocked
        .blueprints
        .iter()
        .map(|bp| store::folders(&source, bp))
        .collect()
}

/// What the history records of the blueprints `lock` locks at their content.
fn recordings<'a>(
    relocked: &'a Relocked,
    lock: &'a crate::lock::file::Lock,
    folders: &'a [store::Folders],
) -> Vec<Recording<'a>> {
    relocked
        .blueprints
        .iter()
        .zip(folders)
        .filter_map(|(bp, folders)| {
            let entry = lock.blueprints.get(&bp.name)?;
            (entry.content_hash == bp.content_hash).then(|| Recording {
                blueprint: &bp.name,
                version: &bp.version,
                folders: folders.clone(),
                entry,
            })
        })
        .collect()
}

/// `--check` of the history beside the lock, when the blueprint set keeps one: it must record
/// every blueprint as the lock locks it.
fn check_history(relocked: &Relocked, args: &LockArgs) -> Result<()> {
    let Some(store) = Store::beside(&args.lock_path()) else {
        return Ok(());
    };
    let folders = history_folders(relocked, &args.blueprints)?;
    let missing = store.missing(&recordings(relocked, &relocked.lock, &folders))?;
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::Stale {
        path: store.dir().to_path_buf(),
        diff: missing.join("\n"),
    })
}

/// Every change of the new lock, a line each: versions (requested packages first, then
/// transitive ones), files and hashes of unchanged versions, blueprint contents.
fn summary(relocked: &Relocked, printer: &Printer) -> Result<()> {
    for c in &relocked.changes {
        let kind = if c.transitive { " (transitive)" } else { "" };
        match (&c.old, &c.new) {
            (Some(old), Some(new)) => printer.out(format_args!(
                "{}: {} {old} → {new}{kind}",
                c.blueprint, c.package
            ))?,
            (None, Some(new)) => printer.out(format_args!(
                "{}: {} {new} (new{})",
                c.blueprint,
                c.package,
                if c.transitive { ", transitive" } else { "" }
            ))?,
            (Some(old), None) => printer.out(format_args!(
                "{}: {} {old} (removed{})",
                c.blueprint,
                c.package,
                if c.transitive { ", transitive" } else { "" }
            ))?,
            (None, None) => {}
        }
    }
    for note in &relocked.notes {
        match note {
            Note::Content { blueprint } => printer.out(format_args!(
                "{blueprint}: the blueprint's files changed since it was locked"
            ))?,
            Note::Hashes {
                blueprint,
                packages,
            } => printer.out(format_args!(
                "{blueprint}: files or hashes changed for {}",
                packages.join(", ")
            ))?,
            Note::EvidenceDropped { .. } | Note::Unverified { .. } | Note::Mismatch { .. } => {}
        }
    }
    Ok(())
}

/// `--outdated`: each requested package with a newer candidate, and the version `--update`
/// would move it to.
fn outdated(relocked: &Relocked, format: Format, printer: &Printer) -> Result<()> {
    if format == Format::Json {
        return printer.out(pretty(&json!({
            "version": JSON_VERSION,
            "lock": relocked.path.display().to_string(),
            "outdated": relocked.outdated,
        })));
    }
    if relocked.outdated.is_empty() {
        return printer.out("every requested package is at the newest version the matrix allows");
    }
    for o in &relocked.outdated {
        printer.out(format_args!(
            "{}: {} {} → {} (spacegen lock --update {})",
            o.blueprint, o.package, o.locked, o.newest, o.package
        ))?;
    }
    Ok(())
}

/// Says, without failing, which requested packages have newer candidates in the matrix.
fn newer_candidates(relocked: &Relocked, printer: &Printer) -> Result<()> {
    let mut packages: Vec<&str> = relocked
        .outdated
        .iter()
        .map(|o| o.package.as_str())
        .collect();
    packages.sort_unstable();
    packages.dedup();
    if packages.is_empty() {
        return Ok(());
    }
    printer.err(format_args!(
        "note: the matrix has newer candidates of {} (`spacegen lock --outdated` lists them; `spacegen lock --update <package>` moves one)",
        packages.join(", ")
    ))
}

/// `--check`: the lock on disk must be what locking anew gives, and every set must carry the
/// evidence of a passing verification.
fn check(relocked: &Relocked, printer: &Printer) -> Result<()> {
    newer_candidates(relocked, printer)?;
    if !relocked.is_current()? {
        for note in &relocked.notes {
            if let Note::EvidenceDropped { blueprint } = note {
                printer.out(format_args!(
                    "{blueprint}: its verification evidence would be dropped"
                ))?;
            }
        }
        return Err(Error::Stale {
            path: relocked.path.clone(),
            diff: relocked.diff()?,
        });
    }
    if let Some(Note::Mismatch { blueprint, why }) = relocked
        .notes
        .iter()
        .find(|n| matches!(n, Note::Mismatch { .. }))
    {
        return Err(Error::EvidenceMismatch {
            origin: relocked.path.display().to_string(),
            blueprint: blueprint.clone(),
            why: why.clone(),
        });
    }
    let unverified: Vec<String> = relocked
        .notes
        .iter()
        .filter_map(|n| match n {
            Note::Unverified { blueprint } => Some(blueprint.clone()),
            _ => None,
        })
        .collect();
    if !unverified.is_empty() {
        return Err(Error::Unverified {
            path: relocked.path.clone(),
            blueprints: unverified,
        });
    }
    printer.out(format_args!(
        "{} is up to date, every set verified",
        relocked.path.display()
    ))
}

/// `--check --format json`: what `--check` judges, as one JSON document on standard output (the
/// shape the README documents); the exit status is `--check`'s.
fn check_json(relocked: &Relocked, printer: &Printer) -> Result<i32> {
    let current = relocked.is_current()?;
    let changes: Vec<serde_json::Value> = relocked
        .changes
        .iter()
        .map(|c| {
            json!({
                "blueprint": c.blueprint,
                "package": c.package,
                "old": c.old,
                "new": c.new,
                "transitive": c.transitive,
            })
        })
        .collect();
    let notes: Vec<serde_json::Value> = relocked
        .notes
        .iter()
        .map(|n| match n {
            Note::Content { blueprint } => json!({ "blueprint": blueprint, "kind": "content" }),
            Note::Hashes {
                blueprint,
                packages,
            } => json!({ "blueprint": blueprint, "kind": "hashes", "packages": packages }),
            Note::EvidenceDropped { blueprint } => {
                json!({ "blueprint": blueprint, "kind": "evidence_dropped" })
            }
            Note::Unverified { blueprint } => {
                json!({ "blueprint": blueprint, "kind": "unverified" })
            }
            Note::Mismatch { blueprint, why } => {
                json!({ "blueprint": blueprint, "kind": "mismatch", "why": why })
            }
        })
        .collect();
    let unverified: Vec<&str> = relocked
        .notes
        .iter()
        .filter_map(|n| match n {
            Note::Unverified { blueprint } | Note::Mismatch { blueprint, .. } => {
                Some(blueprint.as_str())
            }
            _ => None,
        })
        .collect();
    let diff = if current {
        None
    } else {
        Some(relocked.diff()?)
    };
    let ok = current && unverified.is_empty();
    printer.out(pretty(&json!({
        "version": JSON_VERSION,
        "lock": relocked.path.display().to_string(),
        "ok": ok,
        "up_to_date": current,
        "unverified": unverified,
        "changes": changes,
        "notes": notes,
        "outdated": relocked.outdated,
        "diff": diff,
    })))?;
    Ok(if ok { exit::OK } else { exit::BLUEPRINT })
}

/// Verifies `which` blueprint (all when `None`) and records the evidence; the names verified.
fn verify_all(
    relocked: &mut Relocked,
    dir: &std::path::Path,
    which: Option<&str>,
    progress: &mut Steps<'_>,
) -> Result<Vec<String>> {
    if let Some(name) = which {
        if relocked.blueprint(name).is_none() {
            return Err(Error::UnknownBlueprint {
                name: name.to_owned(),
                known: relocked.blueprints.iter().map(|b| b.name.clone()).collect(),
                place: Some(dir.to_path_buf()),
            });
        }
    }
    let names: Vec<String> = relocked
        .blueprints
        .iter()
        .map(|b| b.name.clone())
        .filter(|n| which.is_none_or(|w| w == n))
        .collect();
    let mut done = Vec::new();
    for name in names {
        let Some((bp, entry)) = relocked.blueprint(&name) else {
            continue;
        };
        let evidence = verify::verify(bp, entry, progress)?;
        relocked.record(&name, evidence);
        done.push(name);
    }
    Ok(done)
}

/// `--verify-plan`: one job per blueprint × supported Python × runner, as the `matrix` value of
/// a GitHub Actions job (`{"include": [{"blueprint", "python", "os"}, …]}`).
fn verify_plan(args: &LockArgs, printer: &Printer) -> Result<()> {
    let mut quiet = Quiet;
    let relocked = relock::relock(
        &args.blueprints,
        &args.lock_path(),
        &Update::Nothing,
        true,
        &mut quiet,
    )?;
    let include = evidence::plan(&relocked.lock);
    printer.out(serde_json::json!({ "include": include }).to_string())
}

/// Progress nobody sees.
struct Quiet;

impl Progress for Quiet {}

fn write_evidence(relocked: &Relocked, names: &[String], path: &std::path::Path) -> Result<()> {
    let file = evidence::collect(&relocked.lock, names);
    let text = serde_json::to_string_pretty(&file).map_err(|e| Error::Other(e.to_string()))?;
    std::fs::write(path, text + "\n").map_err(|e| Error::io("write", path, e))
}

/// Records the evidence in `path` for the sets it covers; refuses evidence about another set.
fn merge_evidence(
    relocked: &mut Relocked,
    path: &std::path::Path,
    file: evidence::EvidenceFile,
) -> Result<Vec<String>> {
    let mut merged = Vec::new();
    for (blueprint, verification) in evidence::admissible(&relocked.lock, file, path)? {
        merged.push(format!(
            "{blueprint} on Python {} ({})",
            verification.python, verification.platform
        ));
        relocked.record(&blueprint, verification);
    }
    Ok(merged)
}

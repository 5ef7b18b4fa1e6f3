//! `spacegen lock`: lock anew, then check (`--check`), verify (`--verify`) or write.

use std::time::Duration;

use super::args::LockArgs;
use super::printer::Printer;
use crate::error::{Error, Result};
use crate::lock::relock::{self, Note, Relocked, Update};
use crate::progress::Progress;
use crate::verify;

pub(super) fn run(args: LockArgs, printer: &Printer) -> Result<()> {
    let update = match &args.update {
        None => Update::Nothing,
        Some(list) if list.is_empty() => Update::All,
        Some(list) => Update::Only(list.clone()),
    };
    let mut progress = Steps { printer };
    let mut relocked = relock::relock(
        &args.blueprints,
        &args.lock,
        &update,
        args.check,
        &mut progress,
    )?;
    summary(&relocked, printer)?;
    if args.check {
        return check(&relocked, printer);
    }
    if let Some(which) = &args.verify {
        verify_all(
            &mut relocked,
            &args.blueprints,
            which.as_deref(),
            &mut progress,
        )?;
    }
    for note in &relocked.notes {
        match note {
            Note::EvidenceDropped { blueprint } => printer.err(format_args!(
                "{blueprint}: verification evidence dropped (what it covered changed): run `spacegen lock --verify {blueprint}`"
            ))?,
            Note::Unverified { blueprint } => printer.err(format_args!(
                "{blueprint}: not verified: run `spacegen lock --verify {blueprint}` (`lock --check` fails without it)"
            ))?,
            _ => {}
        }
    }
    if relocked.save()? {
        printer.out(format_args!("wrote {}", args.lock.display()))
    } else {
        printer.out(format_args!("{} is up to date", args.lock.display()))
    }
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
            Note::EvidenceDropped { .. } | Note::Unverified { .. } => {}
        }
    }
    Ok(())
}

/// `--check`: the lock on disk must be what locking anew gives, and every set must carry the
/// evidence of a passing verification.
fn check(relocked: &Relocked, printer: &Printer) -> Result<()> {
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

/// Verifies `which` blueprint (all when `None`) and records the evidence.
fn verify_all(
    relocked: &mut Relocked,
    dir: &std::path::Path,
    which: Option<&str>,
    progress: &mut Steps<'_>,
) -> Result<()> {
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
    for name in names {
        let Some((bp, entry)) = relocked.blueprint(&name) else {
            continue;
        };
        let evidence = verify::verify(bp, entry, progress)?;
        relocked.record(&name, evidence);
    }
    Ok(())
}

/// Progress on standard error, one line per step.
struct Steps<'a> {
    printer: &'a Printer,
}

impl Progress for Steps<'_> {
    fn resolving(&mut self, blueprint: &str) {
        let _ = self.printer.err(format_args!(
            "{blueprint}: resolving the transitive set for every platform and supported Python with uv…"
        ));
    }

    fn verifying(&mut self, blueprint: &str) {
        let _ = self.printer.err(format_args!("verifying {blueprint} …"));
    }

    fn step_started(&mut self, n: usize, total: usize, name: &str) {
        let _ = self.printer.err(format_args!("  [{n}/{total}] {name}…"));
    }

    fn step_finished(&mut self, elapsed: Option<Duration>) {
        let _ = match elapsed {
            Some(d) => self
                .printer
                .err(format_args!("        ok ({:.1} s)", d.as_secs_f64())),
            None => self.printer.err("        FAILED"),
        };
    }
}

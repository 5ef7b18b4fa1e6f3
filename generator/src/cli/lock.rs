//! `spacegen lock`: lock anew, then check (`--check`), verify (`--verify`) or write.

use std::time::Duration;

use super::args::LockArgs;
use super::printer::Printer;
use crate::error::{Error, Result};
use crate::lock::relock::{self, Relocked, Update};
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
    for c in &relocked.changes {
        match &c.old {
            Some(old) => printer.out(format_args!(
                "{}: {} {old} → {}",
                c.blueprint, c.package, c.new
            ))?,
            None => printer.out(format_args!(
                "{}: {} {} (new)",
                c.blueprint, c.package, c.new
            ))?,
        }
    }
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
    if relocked.save()? {
        printer.out(format_args!("wrote {}", args.lock.display()))
    } else {
        printer.out(format_args!("{} is up to date", args.lock.display()))
    }
}

fn check(relocked: &Relocked, printer: &Printer) -> Result<()> {
    if relocked.is_current()? {
        return printer.out(format_args!("{} is up to date", relocked.path.display()));
    }
    Err(Error::Stale {
        path: relocked.path.clone(),
        diff: relocked.diff()?,
    })
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

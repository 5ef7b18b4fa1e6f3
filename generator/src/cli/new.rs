//! `spacegen new`: answers collected (prompting on a terminal), the project rendered in memory,
//! then written atomically, or shown (`--dry-run`).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use super::args::NewArgs;
use super::printer::Printer;
use super::prompt::Terminal;
use crate::answers::{Answers, Prompter, Provided};
use crate::error::{About, Error, Problem, Result};
use crate::project::{self, write, Destination, Plan};

pub(super) fn run(args: NewArgs, printer: &Printer) -> Result<()> {
    let chosen = super::load(&args.blueprint)?;
    let lock = chosen.lock(args.lock.as_deref())?;
    let (bp, source) = (chosen.bp, chosen.source);
    if lock.origin != crate::lock::file::EMBEDDED_ORIGIN {
        printer.err(format_args!("using the lock {}", lock.origin))?;
    }
    let entry = match lock.entry_for(&bp) {
        Ok(entry) => entry,
        Err(e) => return Err(super::unlocked(e, &bp, &source, &lock)),
    };

    let mut provided = Provided::default();
    provided.add_flags(&args.vars);
    if let Some(file) = &args.answers {
        provided.add_file(file)?;
    }
    let interactive = !args.defaults && std::io::stdin().is_terminal();
    let mut terminal = Terminal::new();
    let prompter: Option<&mut dyn Prompter> = if interactive {
        Some(&mut terminal)
    } else {
        None
    };
    let (name, version, requires_python) = (
        bp.name.clone(),
        bp.version.to_string(),
        bp.requires_python.clone(),
    );
    let claims = crate::lock::claims::claims(entry);
    let generated = project::generate_once(bp, entry, &provided, prompter)?;
    let (plan, answers) = (&generated.plan, &generated.answers);
    let dest = match args.dest {
        Some(d) => d,
        None => dest_from_slug(answers)?,
    };
    check_dest_names(&dest)?;
    if args.dry_run {
        return dry_run(plan, &dest, args.force, printer);
    }
    report_leftovers(&write::clean_up(&dest)?, &dest, printer)?;
    let state = write::write(plan, &dest, args.force)?;
    if let Destination::Existing { overwritten } = &state {
        if !overwritten.is_empty() {
            let n = overwritten.len();
            let files = if n == 1 { "file" } else { "files" };
            printer.out(format_args!("Replaced {n} {files}:"))?;
            for p in overwritten {
                printer.out(format_args!("  {p}"))?;
            }
        }
    }
    printer.out(format_args!(
        "Created {} from blueprint {} {} ({} files).",
        dest.display(),
        name,
        version,
        plan.files().len()
    ))?;
    let port = answers
        .get("port")
        .map_or_else(|| "7860".to_owned(), ToString::to_string);
    printer.out(format_args!(
        "\nNext steps (Python {}; the pins are resolved for {}, verified on {}):\n  cd {}\n  python3 -m venv .venv && . .venv/bin/activate\n  pip install -r requirements-dev.txt\n  pytest\n  uvicorn app.main:app --reload --port {port}",
        requires_python,
        claims.resolved_for,
        claims.verified_on,
        dest.display()
    ))?;
    for note in &generated.notes {
        printer.out(format_args!("\nNote: {note}"))?;
    }
    Ok(())
}

/// Says what was cleaned up after earlier, interrupted runs.
pub(super) fn report_leftovers(
    written: &write::Cleaned,
    dest: &Path,
    printer: &Printer,
) -> Result<()> {
    if written.stale_removed > 0 {
        printer.err(format_args!(
            "removed {} staging folder{} left by interrupted runs",
            written.stale_removed,
            if written.stale_removed == 1 { "" } else { "s" }
        ))?;
    }
    let dest = dest.display();
    if written.exchange_removed > 0 {
        printer.err(format_args!(
            "an interrupted run had left its work folder beside {dest} (the new project half-built, \
             or the old one it had replaced): removed; {dest} itself was whole"
        ))?;
    }
    match &written.recovered {
        None => Ok(()),
        Some(write::Recovered::RolledBack { restored }) => printer.err(format_args!(
            "an interrupted run had left {dest} half-written: undone, {restored} replaced files put back"
        )),
        Some(write::Recovered::Finished) => printer.err(format_args!(
            "an interrupted run had finished writing {dest}: its leftovers were removed"
        )),
        Some(write::Recovered::Discarded) => printer.err(format_args!(
            "an interrupted run had not changed {dest} yet: what it staged was removed"
        )),
    }
}

/// Refuses a destination with a name no file system can hold.
fn check_dest_names(dest: &Path) -> Result<()> {
    use crate::project::MAX_NAME_BYTES;
    for part in dest.iter() {
        if part.len() > MAX_NAME_BYTES {
            return Err(Error::Destination(format!(
                "destination {} has a name of {} bytes; file systems allow at most {MAX_NAME_BYTES} bytes per name: pick a shorter one",
                dest.display(),
                part.len()
            )));
        }
    }
    Ok(())
}

fn dest_from_slug(answers: &Answers) -> Result<PathBuf> {
    match answers.get("slug") {
        Some(slug) => Ok(PathBuf::from(slug.to_string())),
        None => Err(Error::input(Problem::new(
            About::Variable("DEST".into()),
            "this blueprint has no 'slug' variable to name the folder after; give DEST",
        ))),
    }
}

fn dry_run(plan: &Plan, dest: &Path, force: bool, printer: &Printer) -> Result<()> {
    if write::interrupted(dest) {
        // Settled first, as every command that reads a project does, so the plan shown is
        // against what the destination holds.
        report_leftovers(&write::clean_up(dest)?, dest, printer)?;
    }
    let state = write::inspect(plan, dest)?;
    if matches!(state, Destination::Existing { .. }) && !force {
        // Refused as the real run refuses it: the same error, the same exit status.
        return Err(Error::NotEmpty(dest.to_path_buf()));
    }
    let overwritten = match &state {
        Destination::Existing { overwritten } => overwritten.as_slice(),
        Destination::Fresh => &[],
    };
    printer.out(format_args!(
        "Would write {} files to {} (dry run: nothing written):",
        plan.files().len(),
        dest.display()
    ))?;
    for (path, file) in plan.files() {
        let mark = if overwritten.contains(path) {
            "overwrite"
        } else {
            "create"
        };
        printer.out(format_args!(
            "  {mark:9} {path} ({} bytes)",
            file.contents.len()
        ))?;
    }
    Ok(())
}

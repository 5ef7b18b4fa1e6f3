//! `spacegen update`: a generated project moved to today's blueprint and lock, its edits kept
//! (merged, or marked as conflicts), written as one transaction like `new --force`; or shown
//! with its diff (`--dry-run`), for people or (`--format json`) for bots.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use serde_json::json;

use super::args::{Format, UpdateArgs};
use super::outdated::Generated;
use super::printer::Printer;
use super::prompt::Terminal;
use crate::answers::Prompter;
use crate::error::{exit, Error, Result};
use crate::project::{record, write};
use crate::update::merge::{Action, Mode};
use crate::update::prepare::{self, Prepared};

/// The version of the JSON shape; it changes only when a field is removed or changes meaning.
const JSON_VERSION: u32 = 1;

pub(super) fn run(args: &UpdateArgs, printer: &Printer) -> Result<i32> {
    let dir = &args.dir;
    let project = Generated::open(
        dir,
        args.blueprints.as_deref(),
        args.lock.as_deref(),
        printer,
    )?;
    let entry = project.entry()?;
    let read = |path: &str| -> Result<Option<Arc<[u8]>>> { read_file(dir, path) };
    let interactive = !args.defaults && !args.dry_run && std::io::stdin().is_terminal();
    let mut terminal = Terminal::new();
    let prompter: Option<&mut dyn Prompter> = if interactive {
        Some(&mut terminal)
    } else {
        None
    };
    let earlier = match project.earlier() {
        Ok(found) => found,
        Err(why) => {
            printer.err(format_args!("warning: {why}"))?;
            None
        }
    };
    let earlier = earlier.as_ref().map(|(bp, entry, from)| prepare::Earlier {
        bp,
        entry,
        from: from.clone(),
    });
    let prepared = prepare::prepare(
        &prepare::Project {
            recorded: &project.recorded,
            record_text: &project.record_text,
            record_origin: &project.origin,
            read: &read,
        },
        &project.bp,
        entry,
        earlier.as_ref(),
        &args.vars,
        prompter,
    )?;
    let record_same =
        read_file(dir, &record::path())?.is_some_and(|b| b[..] == prepared.record.contents[..]);
    let nothing = prepared.is_no_op() && record_same;
    if !args.dry_run && !nothing {
        write::update(&prepared.writes()?, &prepared.removals(), dir)?;
    }
    let text = match args.format {
        Format::Human => human(&prepared, dir, args.dry_run, nothing),
        Format::Json => serde_json::to_string_pretty(&as_json(&prepared, args.dry_run, nothing))
            .map_err(|e| Error::Other(format!("cannot write JSON: {e}")))?,
    };
    printer.out(text.trim_end())?;
    Ok(if prepared.conflicts().next().is_some() {
        exit::CONFLICTS
    } else {
        exit::OK
    })
}

/// The project's file at `path`, or `None` when there is none.
fn read_file(dir: &Path, path: &str) -> Result<Option<Arc<[u8]>>> {
    let full = dir.join(path);
    match std::fs::read(&full) {
        Ok(bytes) => Ok(Some(Arc::from(bytes))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => Ok(None),
        Err(e) => Err(Error::io("read", &full, e)),
    }
}

fn human(p: &Prepared, dir: &Path, dry_run: bool, nothing: bool) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let project = dir.display();
    if nothing {
        let _ = writeln!(
            out,
            "{project} is current with {} {}: nothing to do",
            p.blueprint, p.to
        );
        return out;
    }
    let verb = if dry_run { "Would update" } else { "Updated" };
    let versions = if p.from == p.to {
        format!("{} {}", p.blueprint, p.to)
    } else {
        format!("{} {} → {}", p.blueprint, p.from, p.to)
    };
    let dry = if dry_run {
        " (dry run: nothing written)"
    } else {
        ""
    };
    let _ = writeln!(out, "{verb} {project}: {versions}{dry}");
    if let (Mode::TwoWay, Some(why)) = (p.mode, &p.why_two_way) {
        let _ = writeln!(
            out,
            "two-way: {why}; every difference in a file you edited is marked as a conflict"
        );
    }
    if let (Mode::ThreeWay, Some(from)) = (p.mode, &p.base_from) {
        if p.from != p.to {
            let _ = writeln!(
                out,
                "three-way, against {from} as the project was generated"
            );
        }
    }
    if !p.unmatched.is_empty() {
        let _ = writeln!(
            out,
            "two-way for {} (rendered again, {} not what the record says: an older spacegen wrote {}): {}",
            if p.unmatched.len() == 1 { "one file" } else { "these files" },
            if p.unmatched.len() == 1 { "it is" } else { "they are" },
            if p.unmatched.len() == 1 { "it" } else { "them" },
            p.unmatched.join(", ")
        );
    }
    for (name, value) in &p.new_variables {
        let _ = writeln!(
            out,
            "new variable {name} = {value:?} (its default; change it with --var {name}=…)"
        );
    }
    for name in &p.dropped_answers {
        let _ = writeln!(
            out,
            "answer {name} dropped: the new version no longer asks for it"
        );
    }
    for file in &p.files {
        let note = match &file.action {
            Action::Same => continue,
            Action::StaysDeleted => "(you deleted it; it stays deleted)",
            Action::KeptEdited => "(the new version drops it; kept, since you edited it)",
            _ => "",
        };
        let _ = writeln!(
            out,
            "  {:13} {}{}",
            file.action.as_str(),
            file.path,
            if note.is_empty() {
                String::new()
            } else {
                format!(" {note}")
            }
        );
    }
    if dry_run {
        for file in p
            .files
            .iter()
            .filter(|f| f.action.writes() || prepare::removes(f))
        {
            let before = file
                .before
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            let after = file
                .after
                .as_ref()
                .map(|f| String::from_utf8_lossy(&f.contents))
                .unwrap_or_default();
            let diff = similar::TextDiff::from_lines(before.as_ref(), after.as_ref());
            let _ = write!(
                out,
                "{}",
                diff.unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{}", file.path), &format!("b/{}", file.path))
            );
        }
    }
    let revisions = crate::update::revisions::added(&p.files);
    if !revisions.is_empty() {
        let _ = writeln!(
            out,
            "schema: the next start applies revision{} {} to the database (MIGRATE_ON_START; by hand: alembic upgrade heads)",
            if revisions.len() == 1 { "" } else { "s" },
            revisions.join(", ")
        );
    }
    let conflicts: Vec<(&str, &[usize])> = p.conflicts().collect();
    if !conflicts.is_empty() {
        let _ = writeln!(
            out,
            "{} file{} with conflicts to settle (<<<<<<< ours is yours, >>>>>>> theirs the new version's):",
            conflicts.len(),
            if conflicts.len() == 1 { "" } else { "s" }
        );
        for (path, lines) in conflicts {
            for line in lines {
                let _ = writeln!(out, "  {path}:{line}");
            }
        }
    }
    out
}

fn as_json(p: &Prepared, dry_run: bool, nothing: bool) -> serde_json::Value {
    json!({
        "version": JSON_VERSION,
        "dry_run": dry_run,
        "changed": !nothing,
        "blueprint": p.blueprint,
        "from": p.from.to_string(),
        "to": p.to.to_string(),
        "mode": match p.mode { Mode::ThreeWay => "three-way", Mode::TwoWay => "two-way" },
        "two_way_because": p.why_two_way,
        "base": p.base_from,
        "two_way_files": p.unmatched,
        "revisions": crate::update::revisions::added(&p.files),
        "new_variables": p.new_variables.iter().map(|(n, v)| json!({"name": n, "value": v})).collect::<Vec<_>>(),
        "dropped_answers": p.dropped_answers,
        "files": p.files.iter().filter(|f| f.action != Action::Same).map(|f| {
            let conflicts = match &f.action { Action::Conflict(lines) => lines.clone(), _ => Vec::new() };
            json!({"path": f.path, "action": f.action.as_str(), "conflicts": conflicts})
        }).collect::<Vec<_>>(),
    })
}

//! `spacegen history`: the earlier blueprint releases this spacegen keeps (the list), and
//! `history record`, which records a blueprint set's releases in a history folder.

use std::path::Path;

use serde_json::json;

use super::args::{Format, HistoryArgs, HistoryCommand};
use super::list::{pretty, JSON_VERSION};
use super::printer::Printer;
use crate::blueprint::{self, Kind, Source};
use crate::error::{Error, Result};
use crate::history::store::{self, Recording, Store};
use crate::history::History;
use crate::lock::file::Lock;

pub(super) fn run(args: HistoryArgs, printer: &Printer) -> Result<()> {
    match args.command {
        None => list(args.format, printer),
        Some(HistoryCommand::Record {
            blueprints,
            lock,
            into,
        }) => {
            let lock =
                lock.unwrap_or_else(|| blueprints.with_file_name(crate::lock::file::FILE_NAME));
            record(&blueprints, &lock, &into, printer)
        }
    }
}

/// One line per release, oldest first, with the embedded blueprint's version marked current.
fn list(format: Format, printer: &Printer) -> Result<()> {
    let history = History::embedded()?;
    let source = Source::Embedded;
    let mut rows = Vec::new();
    for release in &history.releases {
        let current = blueprint::load(&source, &release.blueprint)
            .is_ok_and(|bp| bp.content_hash == release.content_hash);
        rows.push((release, current));
    }
    if format == Format::Json {
        let releases: Vec<_> = rows
            .iter()
            .map(|(r, current)| {
                json!({
                    "blueprint": r.blueprint,
                    "version": r.version.to_string(),
                    "content_hash": r.content_hash,
                    "current": current,
                })
            })
            .collect();
        return printer.out(pretty(&json!({
            "version": JSON_VERSION,
            "releases": releases,
        })));
    }
    let width = rows
        .iter()
        .map(|(r, _)| r.blueprint.len() + 1 + r.version.to_string().len())
        .max()
        .unwrap_or(0);
    for (release, current) in rows {
        let name = format!("{}@{}", release.blueprint, release.version);
        let note = if current {
            "  (the embedded blueprint)"
        } else {
            ""
        };
        let hex = release
            .content_hash
            .strip_prefix("sha256:")
            .unwrap_or(&release.content_hash);
        printer.out(format_args!(
            "{name:width$}  content {}{note}",
            hex.get(..12).unwrap_or(hex)
        ))?;
    }
    Ok(())
}

/// Records every blueprint of the set at `blueprints` that `lock` locks at its content.
fn record(blueprints: &Path, lock: &Path, into: &Path, printer: &Printer) -> Result<()> {
    if !blueprints.is_dir() {
        return Err(super::no_blueprints_folder(blueprints));
    }
    let text = std::fs::read_to_string(lock).map_err(|e| Error::io("read", lock, e))?;
    let (lock, _) = Lock::parse_to_relock(&text, &lock.display().to_string())?;
    let source = Source::Disk(blueprints.to_path_buf());
    let mut loaded = Vec::new();
    for name in source.names()? {
        let bp = blueprint::load(&source, &name)?;
        if bp.kind == Kind::Layer {
            continue;
        }
        match lock.blueprints.get(&bp.name) {
            Some(entry) if entry.content_hash == bp.content_hash => {
                let folders = store::folders(&source, &bp)?;
                loaded.push((bp, folders));
            }
            Some(_) => printer.err(format_args!(
                "{} {}: skipped, the lock is not for its files (lock it first)",
                bp.name, bp.version
            ))?,
            None => printer.err(format_args!(
                "{} {}: skipped, the lock has no entry for it",
                bp.name, bp.version
            ))?,
        }
    }
    let recordings: Vec<Recording<'_>> = loaded
        .iter()
        .filter_map(|(bp, folders)| {
            Some(Recording {
                blueprint: &bp.name,
                version: &bp.version,
                folders: folders.clone(),
                entry: lock.blueprints.get(&bp.name)?,
            })
        })
        .collect();
    std::fs::create_dir_all(into).map_err(|e| Error::io("create folder", into, e))?;
    let changes = Store::new(into).record(&recordings)?;
    if changes.is_empty() {
        printer.out(format_args!("{} already records them", into.display()))?;
    }
    for change in changes {
        printer.out(format_args!("{}: {change}", into.display()))?;
    }
    Ok(())
}

//! The command line: [`args`] as clap reads them, one file per command, the [`printer`] every
//! command writes through and the [`report`] that words errors. The core returns data; only
//! this folder prints, names flags or decides exit codes.

mod args;
mod check;
mod docs;
mod history;
mod list;
mod lock;
mod matrix;
mod new;
mod outdated;
mod printer;
mod progress;
mod prompt;
mod report;
mod show;
mod update;

use clap::Parser as _;

use crate::blueprint::{self, Blueprint, Kind, Source};
use crate::error::{exit, Error, Result};
use args::{Cli, Command};
use printer::Printer;

/// Runs the command line and returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
        }
    };
    let printer = Printer::new();
    let result = match cli.command {
        Command::Check(args) => check::run(&args, &printer),
        Command::New(args) => new::run(args, &printer).map(|()| exit::OK),
        Command::Outdated(args) => outdated::run(&args, &printer),
        Command::Update(args) => update::run(&args, &printer),
        Command::List { format } => list::run(format, &printer).map(|()| exit::OK),
        Command::History(args) => history::run(args, &printer).map(|()| exit::OK),
        Command::Show { blueprint, format } => {
            show::run(&blueprint, format, &printer).map(|()| exit::OK)
        }
        Command::Lock(args) => lock::run(args, &printer),
        Command::Matrix(args::MatrixCommand::Refresh {
            packages,
            blueprints,
        }) => matrix::refresh(&packages, &blueprints, &printer).map(|()| exit::OK),
        Command::Completions { shell } => docs::completions(shell, &printer).map(|()| exit::OK),
        Command::Man { command } => docs::man(&command, &printer).map(|()| exit::OK),
    };
    match result {
        Ok(code) => code,
        Err(e) if printer::is_broken_pipe(&e) => exit::OK,
        Err(e) => {
            let _ = printer.err(report::render(&e));
            e.exit_code()
        }
    }
}

/// The error for a `--blueprints DIR` that is not a folder.
fn no_blueprints_folder(dir: &std::path::Path) -> Error {
    let what = if dir.exists() {
        "is not a folder"
    } else {
        "does not exist"
    };
    Error::Usage(format!(
        "the blueprints folder {} {what}\nhelp: run in the repository (its blueprints/ folder is the default), or give --blueprints DIR, the folder holding the blueprint folders and matrix.toml",
        dir.display()
    ))
}

/// A blueprint chosen to generate from, where it came from, and, for a release from
/// spacegen's history, the lock it was released with.
struct Chosen {
    bp: Blueprint,
    source: Source,
    release_lock: Option<crate::lock::LoadedLock>,
}

impl Chosen {
    /// The lock to generate with: `explicit`, else the release's own, else [`lock_for`]'s.
    fn lock(&self, explicit: Option<&std::path::Path>) -> Result<crate::lock::LoadedLock> {
        match (&self.release_lock, explicit) {
            (Some(lock), None) => Ok(lock.clone()),
            _ => lock_for(explicit, &self.source),
        }
    }
}

/// Loads a blueprint that can be generated (not a layer), named (`NAME`, or `NAME@VERSION`
/// for an earlier release spacegen keeps in its history) or given as a folder.
fn load(spec: &str) -> Result<Chosen> {
    let (source, name, release_lock) = match release(spec)? {
        Some((source, name, lock)) => (source, name, Some(lock)),
        None => {
            let (source, name) = blueprint::locate(spec)?;
            (source, name, None)
        }
    };
    let bp = blueprint::load(&source, &name)?;
    if bp.kind == Kind::Layer {
        return Err(Error::Layer(bp.name));
    }
    Ok(Chosen {
        bp,
        source,
        release_lock,
    })
}

/// `NAME@VERSION`: the release of the embedded blueprint NAME at VERSION, from spacegen's
/// history (today's version is the embedded blueprint itself), with its lock.
fn release(spec: &str) -> Result<Option<(Source, String, crate::lock::LoadedLock)>> {
    use crate::history::History;
    let Some((name, version)) = spec.split_once('@') else {
        return Ok(None);
    };
    if name.contains(['/', '\\']) || name.starts_with('.') {
        return Ok(None);
    }
    let usage = |what: String| Error::Usage(what);
    let version = semver::Version::parse(version).map_err(|_| {
        usage(format!(
            "'{version}' in '{spec}' is not a version\nhelp: write NAME@VERSION with a version `spacegen history` lists, e.g. {name}@0.2.0"
        ))
    })?;
    let history = History::embedded()?;
    if let Some(release) = history.by_version(name, &version) {
        let current = blueprint::load(&Source::Embedded, name).ok();
        if current.is_some_and(|bp| bp.content_hash == release.content_hash) {
            return Ok(Some((
                Source::Embedded,
                name.to_owned(),
                crate::lock::file::embedded()?,
            )));
        }
        let restored = history.restore(release)?;
        let origin = format!(
            "the lock of {name} {version} in {}",
            crate::history::EMBEDDED_ORIGIN
        );
        let lock = crate::lock::file::Lock {
            format: crate::lock::file::Lock::empty().format,
            blueprints: [(name.to_owned(), restored.entry)].into_iter().collect(),
        };
        let text = lock.to_text()?;
        let loaded = crate::lock::LoadedLock {
            lock,
            origin,
            text: text.into(),
        };
        return Ok(Some((restored.source, name.to_owned(), loaded)));
    }
    let known: Vec<String> = history
        .versions(name)
        .iter()
        .map(ToString::to_string)
        .collect();
    Err(usage(if known.is_empty() {
        format!("spacegen keeps no release of a blueprint named '{name}'\nhelp: `spacegen list` names the blueprints, `spacegen history` their releases")
    } else {
        format!(
            "spacegen keeps no release {name} {version}: it has {}\nhelp: `spacegen history` lists every release",
            known.join(", ")
        )
    }))
}

/// `e`, or for a blueprint folder the lock has no entry for, the error that says how to lock it.
fn unlocked(e: Error, bp: &Blueprint, source: &Source, lock: &crate::lock::LoadedLock) -> Error {
    let (Source::Disk(set), false) = (source, lock.lock.blueprints.contains_key(&bp.name)) else {
        return e;
    };
    let holder = set
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| ".".to_owned(), |p| p.display().to_string());
    crate::error::Diagnostic::new(
        crate::error::FileKind::Lock,
        lock.origin.clone(),
        format!("no entry for blueprint '{}': it has not been locked", bp.name),
    )
    .help(format!(
        "lock it: `spacegen lock --blueprints {}` in {holder} (writes {holder}/spaces.lock, which `new` then uses)",
        set.display()
    ))
    .into()
}

/// The lock for a blueprint from `source`: `explicit`, else the nearest spaces.lock above a
/// blueprint folder on disk, else the embedded one.
fn lock_for(
    explicit: Option<&std::path::Path>,
    source: &Source,
) -> Result<crate::lock::LoadedLock> {
    use crate::lock::{file, matrix::Matrix};
    let (lock, root) = match (explicit, source) {
        (Some(path), Source::Disk(root)) => (file::read(path)?, Some(root)),
        (Some(path), Source::Embedded | Source::Archived(_)) => (file::read(path)?, None),
        (None, Source::Disk(root)) => match file::find_near(root) {
            Some(path) => (file::read(&path)?, Some(root)),
            None => (file::embedded()?, None),
        },
        (None, Source::Embedded | Source::Archived(_)) => (file::embedded()?, None),
    };
    // The rule ids it records must be the matrix's (read only when there are any).
    if lock.lock.blueprints.values().any(|e| !e.rules.is_empty()) {
        let matrix = match root {
            Some(root) => Matrix::read(root)?,
            None => Matrix::embedded()?,
        };
        lock.check_rules(&matrix)?;
    }
    Ok(lock)
}

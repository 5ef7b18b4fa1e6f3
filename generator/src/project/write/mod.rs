//! Writing a plan to disk, atomically; nothing here renders anything.
//!
//! A destination that does not exist is staged beside it and renamed into place
//! ([`staging`]). An empty folder is filled in place, so it keeps its inode, mode and group, by
//! one transaction with a journal and backups ([`transaction`]). A folder with content (`new
//! --force`, `update`) is, on Linux, replaced whole: the new tree, with everything of the
//! folder that the project does not own carried over, is built beside it and the two folders
//! trade places in one system call ([`exchange`]), so anyone reading the destination sees the
//! old project or the new one at every instant. Where that cannot be done ([`InPlace`] says when:
//! not Linux, a link, a mount point, a process working in the folder, …) it is written in place
//! by the transaction, and a reader may see some files old and some new until the run ends or
//! the next run settles it. Either way, after any failure, Ctrl-C or SIGTERM ([`interrupt`])
//! the destination holds exactly what it held before, and what a killed run left is finished
//! or undone by the next one. Every name below the destination is reached through open folder
//! handles that never follow a link ([`dir`]), so nothing changed in the tree while spacegen
//! runs can send a write elsewhere. Files the plan does not produce are never changed.

mod dir;
#[cfg(target_os = "linux")]
mod exchange;
mod interrupt;
mod staging;
mod transaction;

use std::collections::BTreeSet;
use std::path::Path;

use dir::{Dir, Kind};
pub(crate) use transaction::Recovered;

use super::plan::Plan;
use crate::error::{Error, Result};

/// What a destination holds before writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Destination {
    /// Missing or an empty folder.
    Fresh,
    /// A folder with content; the plan's files that already exist there are listed.
    Existing { overwritten: Vec<String> },
}

/// What earlier, interrupted runs had left, and what was done about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Cleaned {
    /// What an interrupted run into the destination had left, and what became of it.
    pub recovered: Option<Recovered>,
    /// Staging folders of ended runs removed from the destination's parent.
    pub stale_removed: usize,
    /// Folders of ended exchanges (a half-built new project, or the old one replaced) removed
    /// from the destination's parent.
    pub exchange_removed: usize,
}

/// How a folder with content was written.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) enum Method {
    /// Replaced whole by a folder built beside it ([`exchange`]).
    Exchanged,
    /// In place, by the transaction, for this reason.
    InPlace(InPlace),
}

/// Why a folder with content is written in place (the transaction) rather than exchanged whole.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) enum InPlace {
    /// Not Linux: no way to swap two folders in one call here.
    #[cfg_attr(target_os = "linux", allow(dead_code))]
    NotLinux,
    /// The destination's path does not name the folder itself (a symbolic link to it, a path
    /// ending in `..`): exchanging that name would move the link, or fail.
    NotItsName,
    /// The destination is a mount point; a rename cannot move it.
    MountPoint,
    /// The process `pid` has its working folder in the destination: after an exchange it
    /// would sit in the removed old tree.
    InUse { pid: u32 },
    /// No `/proc` to tell whether a process works in the destination.
    CannotTell,
    /// `path` cannot be carried over exactly into a new folder.
    CannotCarry { path: String, why: &'static str },
    /// The filesystem or the permissions refused `action` with `errno` (see `exchange::declines`).
    Refused { action: &'static str, errno: i32 },
}

/// The planned files found in an existing folder, and the folders still to be made.
#[derive(Debug, Default)]
pub(super) struct Survey {
    /// Every planned path, in plan order, and whether a file is there already.
    pub files: Vec<(String, bool)>,
    /// Folders to create, parents first.
    pub folders: Vec<String>,
}

/// Inspects `dest` without changing anything, and refuses what cannot be written safely:
/// a destination that is a file, and any symbolic link or type clash on a planned path.
pub(crate) fn inspect(plan: &Plan, dest: &Path) -> Result<Destination> {
    let Some(root) = open_existing(dest)? else {
        return Ok(Destination::Fresh);
    };
    let names = root.names().map_err(|e| Error::io("read", dest, e))?;
    if names.is_empty() {
        return Ok(Destination::Fresh);
    }
    let overwritten = survey(plan, &root)?
        .files
        .into_iter()
        .filter_map(|(path, exists)| exists.then_some(path))
        .collect();
    Ok(Destination::Existing { overwritten })
}

/// Finishes or undoes what interrupted runs left in `dest` and beside it. Run it before
/// [`write`]; without it, a leftover transaction makes `write` refuse.
pub(crate) fn clean_up(dest: &Path) -> Result<Cleaned> {
    let stale = staging::remove_stale(parent_of(dest))?;
    let recovered = match open_existing(dest)? {
        Some(root) => {
            lock(&root)?;
            transaction::recover(&root)?
        }
        None => None,
    };
    Ok(Cleaned {
        recovered,
        stale_removed: stale.staging,
        exchange_removed: stale.exchange,
    })
}

/// Whether an interrupted run left a transaction in `dest`, or the folder of an exchange beside
/// it, for [`clean_up`] to settle.
pub(crate) fn interrupted(dest: &Path) -> bool {
    let transaction = open_existing(dest)
        .ok()
        .flatten()
        .is_some_and(|root| matches!(root.kind(transaction::FOLDER), Ok(Some(_))));
    transaction || staging::stale_exchange(parent_of(dest))
}

/// The folder holding `dest` (`.` for a bare name).
fn parent_of(dest: &Path) -> &Path {
    match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes `plan` to `dest`. An existing non-empty folder is refused unless `force`, and then
/// replaced whole where it can be ([`replace`]).
pub(crate) fn write(plan: &Plan, dest: &Path, force: bool) -> Result<Destination> {
    write_method(plan, dest, force).map(|(state, _)| state)
}

/// [`write`], saying how a folder with content was written.
fn write_method(plan: &Plan, dest: &Path, force: bool) -> Result<(Destination, Option<Method>)> {
    let interrupts = interrupt::Interrupts::catch();
    let root = open_existing(dest)?;
    if let Some(root) = &root {
        lock(root)?;
    }
    let state = inspect(plan, dest)?;
    let method = match (&state, root) {
        (Destination::Fresh, None) => {
            staging::write(plan, dest, &interrupts)?;
            None
        }
        (Destination::Existing { .. }, _) if !force => {
            return Err(Error::NotEmpty(dest.to_path_buf()))
        }
        (Destination::Fresh, Some(root)) => {
            transaction::write(plan, &[], &root, &interrupts)?;
            None
        }
        (Destination::Existing { .. }, Some(root)) => {
            Some(replace(plan, &[], dest, &root, &interrupts)?)
        }
        (Destination::Existing { .. }, None) => {
            return Err(Error::Destination(format!(
                "{} changed while spacegen was reading it; run again",
                dest.display()
            )))
        }
    };
    Ok((state, method))
}

/// Writes `plan` into the folder with content `dest`, opened and locked as `root`, removing
/// the files of `removes`: exchanged whole where it can be, else in place by the transaction.
fn replace(
    plan: &Plan,
    removes: &[String],
    dest: &Path,
    root: &Dir,
    interrupts: &interrupt::Interrupts,
) -> Result<Method> {
    #[cfg(target_os = "linux")]
    let method = exchange::write(plan, removes, dest, root, interrupts)?;
    #[cfg(not(target_os = "linux"))]
    let method = {
        let _ = dest;
        Method::InPlace(InPlace::NotLinux)
    };
    if let Method::InPlace(_) = &method {
        transaction::write(plan, removes, root, interrupts)?;
    }
    Ok(method)
}

/// Writes an update into the existing project `dest` as one change, exchanged whole or in place
/// as `new --force` is ([`replace`]): `plan`'s files written, the files of `removes` removed;
/// after any failure or interruption the project holds exactly what it held before, or exactly
/// the update.
pub(crate) fn update(plan: &Plan, removes: &[String], dest: &Path) -> Result<()> {
    let interrupts = interrupt::Interrupts::catch();
    let Some(root) = open_existing(dest)? else {
        return Err(Error::Destination(format!(
            "{} is gone; nothing was written",
            dest.display()
        )));
    };
    lock(&root)?;
    replace(plan, removes, dest, &root, &interrupts).map(|_| ())
}

/// Locks `root` for this run, held while its handle is open: two runs never write into one
/// folder at once (the second would find the first's transaction half made, and take it for
/// one an interrupted run left). The lock is on the folder's inode; an exchange locks the new
/// folder before it takes the destination's name, and a run that opened the old folder just
/// before an exchange finds, once it holds the lock, that the name leads elsewhere now.
fn lock(root: &Dir) -> Result<()> {
    if root
        .try_lock()
        .map_err(|e| Error::io("lock", root.path(), e))?
    {
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::fs::MetadataExt as _;
            let held = root.meta().map_err(|e| Error::io("lock", root.path(), e))?;
            let named = std::fs::metadata(root.path()).ok();
            if named.is_none_or(|m| (m.dev(), m.ino()) != (held.dev, held.ino)) {
                return Err(Error::Destination(format!(
                    "{} was replaced while spacegen was opening it (another run wrote it); run \
                     again",
                    root.path().display()
                )));
            }
        }
        return Ok(());
    }
    Err(Error::Destination(format!(
        "another spacegen run is writing into {}; wait for it to end, then run again",
        root.path().display()
    )))
}

/// The folder `dest`, opened, or `None` when nothing is there; anything else is refused.
fn open_existing(dest: &Path) -> Result<Option<Dir>> {
    match Dir::open(dest) {
        Ok(dir) => Ok(Some(dir)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if std::fs::symlink_metadata(dest).is_ok() {
                // A link to nowhere.
                return Err(Error::Destination(format!(
                    "destination {} is a symbolic link to nothing; choose another path",
                    dest.display()
                )));
            }
            Ok(None)
        }
        // A path through a file (`a-file/sub`) can never be a folder: bad input, not a failure.
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            if std::fs::symlink_metadata(dest).is_ok() {
                Err(Error::Destination(format!(
                    "destination {} exists and is not a folder; choose another path",
                    dest.display()
                )))
            } else {
                Err(Error::Destination(format!(
                    "destination {} is inside a file, not a folder; choose another path",
                    dest.display()
                )))
            }
        }
        Err(e) => Err(Error::io("open", dest, e)),
    }
}

/// What each planned path finds in `root`, through handles; every problem is reported at once.
pub(super) fn survey(plan: &Plan, root: &Dir) -> Result<Survey> {
    let mut problems = Vec::new();
    let mut survey = Survey::default();
    let mut folders = BTreeSet::new();
    for path in plan.files().keys() {
        let segments: Vec<&str> = path.split('/').collect();
        let mut exists = false;
        let mut dir = None::<Dir>;
        for (i, segment) in segments.iter().enumerate() {
            let last = i + 1 == segments.len();
            let here = dir.as_ref().unwrap_or(root);
            let shown = || root.join(&segments[..=i].join("/"));
            let kind = here
                .kind(segment)
                .map_err(|e| Error::io("inspect", shown(), e))?;
            match kind {
                None => {
                    for j in i..segments.len() - 1 {
                        folders.insert(segments[..=j].join("/"));
                    }
                    break;
                }
                Some(Kind::Link) => {
                    problems.push(format!(
                        "{} is a symbolic link; spacegen does not write through links",
                        shown().display()
                    ));
                    break;
                }
                Some(Kind::Folder) if last => problems.push(format!(
                    "{} is a folder, but the blueprint writes a file there",
                    shown().display()
                )),
                Some(Kind::Folder) => {
                    let next = here
                        .child(segment)
                        .map_err(|e| Error::io("open", shown(), e))?;
                    dir = Some(next);
                }
                Some(Kind::File) if last => exists = true,
                Some(_) if last => problems.push(format!(
                    "{} is not a regular file; spacegen replaces only files",
                    shown().display()
                )),
                Some(_) => {
                    problems.push(format!(
                        "{} is a file, but {path} needs it to be a folder",
                        shown().display()
                    ));
                    break;
                }
            }
        }
        survey.files.push((path.clone(), exists));
    }
    // Several planned files below one link or file give the same problem: report it once.
    let mut seen = BTreeSet::new();
    problems.retain(|p| seen.insert(p.clone()));
    if !problems.is_empty() {
        return Err(Error::Destination(format!(
            "cannot write into {}:\n  - {}",
            root.path().display(),
            problems.join("\n  - ")
        )));
    }
    survey.folders = folders.into_iter().collect();
    Ok(survey)
}

/// `a/b/c` as (`a/b`, `c`); a top-level name has the parent `""`.
pub(super) fn split(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

/// Whether the process `pid` is still running (here, on this machine).
pub(super) fn running(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Some(pid) = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        else {
            return false;
        };
        !matches!(
            rustix::process::test_kill_process(pid),
            Err(rustix::io::Errno::SRCH)
        )
    }
    #[cfg(not(unix))]
    {
        // Without a way to ask, every run is taken to be alive: nothing is removed.
        let _ = pid;
        true
    }
}

/// [`write`] with the interruptions given, so tests can interrupt it at every step.
#[cfg(test)]
fn write_with(plan: &Plan, dest: &Path, interrupts: &interrupt::Interrupts) -> Result<()> {
    match open_existing(dest)? {
        Some(root) => transaction::write(plan, &[], &root, interrupts),
        None => staging::write(plan, dest, interrupts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::plan::PlannedFile;
    use std::collections::BTreeMap;
    use std::fs;
    use std::path::PathBuf;

    /// Every file and folder below `root`, with file contents.
    fn tree(root: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
        walkdir::WalkDir::new(root)
            .min_depth(1)
            .into_iter()
            .map(|e| {
                let e = e.unwrap();
                let contents = e.file_type().is_file().then(|| fs::read(e.path()).unwrap());
                (e.path().strip_prefix(root).unwrap().to_path_buf(), contents)
            })
            .collect()
    }

    #[test]
    fn an_interruption_at_any_step_leaves_the_folder_as_it_was() {
        let p = plan(&[
            ("a.txt", "new"),
            ("d/e/b.txt", "b"),
            ("d/c.txt", "c"),
            ("z", "z"),
        ]);
        for fresh in [false, true] {
            let mut step = 0;
            loop {
                let dir = tempfile::tempdir().unwrap();
                let dest = dir.path().join(if fresh { "x/y/p" } else { "p" });
                if !fresh {
                    fs::create_dir_all(dest.join("d")).unwrap();
                    fs::write(dest.join("a.txt"), "old").unwrap();
                    fs::write(dest.join("d/c.txt"), "old c").unwrap();
                    fs::write(dest.join("mine"), "mine").unwrap();
                }
                let before = tree(dir.path());
                let interrupts = interrupt::Interrupts::after(step);
                match write_with(&p, &dest, &interrupts) {
                    Err(Error::Interrupted) => {
                        assert_eq!(tree(dir.path()), before, "step {step}, fresh {fresh}");
                        step += 1;
                    }
                    Err(e) => panic!("{e}"),
                    Ok(()) => {
                        assert_eq!(fs::read_to_string(dest.join("a.txt")).unwrap(), "new");
                        assert_eq!(fs::read_to_string(dest.join("d/e/b.txt")).unwrap(), "b");
                        assert!(!dest.join(transaction::FOLDER).exists());
                        assert!(step > 4, "only {step} steps were interrupted");
                        break;
                    }
                }
            }
        }
    }

    /// An update removes files too: interrupted at any step it leaves the project as it was
    /// (the removed files back); left by a killed run, the next run settles it the same way.
    #[test]
    fn an_update_with_removals_is_all_old_or_all_new() {
        let p = plan(&[("a.txt", "new"), ("d/c.txt", "c")]);
        let removes = vec![
            "gone.txt".to_owned(),
            "d/gone.txt".to_owned(),
            "never-there".to_owned(),
        ];
        let setup = |dest: &Path| {
            fs::create_dir_all(dest.join("d")).unwrap();
            fs::write(dest.join("a.txt"), "old").unwrap();
            fs::write(dest.join("gone.txt"), "gone").unwrap();
            fs::write(dest.join("d/gone.txt"), "gone too").unwrap();
            fs::write(dest.join("mine"), "mine").unwrap();
        };
        let mut step = 0;
        loop {
            let dir = tempfile::tempdir().unwrap();
            let dest = dir.path().join("p");
            setup(&dest);
            let before = tree(dir.path());
            let interrupts = interrupt::Interrupts::after(step);
            let root = open_existing(&dest).unwrap().unwrap();
            match transaction::write(&p, &removes, &root, &interrupts) {
                Err(Error::Interrupted) => {
                    assert_eq!(tree(dir.path()), before, "step {step}");
                    step += 1;
                }
                Err(e) => panic!("{e}"),
                Ok(()) => {
                    assert_eq!(fs::read_to_string(dest.join("a.txt")).unwrap(), "new");
                    assert!(!dest.join("gone.txt").exists() && !dest.join("d/gone.txt").exists());
                    assert_eq!(fs::read_to_string(dest.join("mine")).unwrap(), "mine");
                    assert!(!dest.join(transaction::FOLDER).exists());
                    assert!(step > 4, "only {step} steps were interrupted");
                    break;
                }
            }
        }
        // A run killed after moving a removed file aside: the next run puts it back.
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("p");
        setup(&dest);
        let before = tree(dir.path());
        let txn = dest.join(transaction::FOLDER);
        fs::create_dir_all(txn.join("old")).unwrap();
        fs::create_dir_all(txn.join("new")).unwrap();
        fs::write(txn.join("owner"), "4194303").unwrap();
        fs::write(
            txn.join("journal.toml"),
            "folders = []\nentries = []\nremoves = [\"gone.txt\"]\n",
        )
        .unwrap();
        fs::rename(dest.join("gone.txt"), txn.join("old/r0")).unwrap();
        let cleaned = clean_up(&dest).unwrap();
        assert_eq!(
            cleaned.recovered,
            Some(Recovered::RolledBack { restored: 1 })
        );
        assert_eq!(tree(dir.path()), before);
    }

    #[test]
    fn an_empty_folder_is_filled_in_place() {
        let dir = tempfile::tempdir().unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o750)).unwrap();
        }
        let before = fs::metadata(dir.path()).unwrap();
        let state = write(&plan(&[("a/b", "1")]), dir.path(), false).unwrap();
        assert_eq!(state, Destination::Fresh);
        let after = fs::metadata(dir.path()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            assert_eq!(before.ino(), after.ino());
            assert_eq!(before.mode(), after.mode());
        }
        let _ = (before, after);
        assert_eq!(fs::read_to_string(dir.path().join("a/b")).unwrap(), "1");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    fn plan(files: &[(&str, &str)]) -> Plan {
        let mut p = Plan::default();
        for (path, text) in files {
            p.insert(
                path.to_string(),
                PlannedFile {
                    contents: text.as_bytes().into(),
                    executable: path.ends_with(".sh"),
                },
                "t",
            )
            .unwrap();
        }
        p
    }

    #[test]
    fn fresh_write_creates_everything_with_fixed_modes() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a/b/project");
        write(&plan(&[("x/y.txt", "1"), ("run.sh", "2")]), &dest, false).unwrap();
        assert_eq!(fs::read_to_string(dest.join("x/y.txt")).unwrap(), "1");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dest.join("run.sh")), 0o755);
            assert_eq!(mode(&dest.join("x/y.txt")), 0o644);
            assert_eq!(mode(&dest.join("x")), 0o755);
        }
        let leftovers: Vec<_> = fs::read_dir(dest.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "staging folder left behind");
    }

    #[test]
    fn non_empty_destination_needs_force_and_keeps_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("p");
        fs::create_dir_all(&dest).unwrap();
        fs::write(dest.join("mine.txt"), "keep").unwrap();
        fs::write(dest.join("a.txt"), "old").unwrap();
        let p = plan(&[("a.txt", "new"), ("d/b.txt", "b")]);
        let err = write(&p, &dest, false).unwrap_err();
        assert!(matches!(err, Error::NotEmpty(_)), "{err}");
        assert_eq!(fs::read_to_string(dest.join("a.txt")).unwrap(), "old");
        let state = write(&p, &dest, true).unwrap();
        assert_eq!(
            state,
            Destination::Existing {
                overwritten: vec!["a.txt".into()]
            }
        );
        assert_eq!(fs::read_to_string(dest.join("a.txt")).unwrap(), "new");
        assert_eq!(fs::read_to_string(dest.join("mine.txt")).unwrap(), "keep");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "staging folder left behind"
        );
    }

    #[test]
    fn empty_destination_folder_is_fresh() {
        let dir = tempfile::tempdir().unwrap();
        write(&plan(&[("a", "1")]), dir.path(), false).unwrap();
        assert_eq!(fs::read_to_string(dir.path().join("a")).unwrap(), "1");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_inside_the_destination_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let dest = dir.path().join("p");
        fs::create_dir_all(&dest).unwrap();
        std::os::unix::fs::symlink(outside.path(), dest.join("app")).unwrap();
        let err = write(&plan(&[("app/main.py", "x")]), &dest, true).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_file_as_destination_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("f");
        fs::write(&dest, "x").unwrap();
        assert!(write(&plan(&[("a", "1")]), &dest, true).is_err());
    }
}

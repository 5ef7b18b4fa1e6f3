//! Replacing an existing folder whole (Linux only): the visible state of the destination is the
//! old tree up to one system call and the new tree after it, never a mix.
//!
//! 1. The new tree is built in a folder beside the destination (`.spacegen-exchange-PID-…`: the
//!    same parent, so the same filesystem): the plan's files written afresh, and everything else
//!    the destination holds carried over as it is, exactly what the in-place transaction leaves
//!    untouched: files as a second hard link (the same inode: contents, mode, owner and
//!    modification time stay theirs; only the inode's change time moves), symbolic links as links to the same target, folders made again with their
//!    mode, owner and group. With `update`, the files it removes are left out.
//! 2. The folder gets the destination's own mode, owner and group, is flushed to disk, and the
//!    two folders trade places in one `renameat2(RENAME_EXCHANGE)`.
//! 3. The old tree, now in the folder beside, is removed entry by entry: only what step 1 saw
//!    there. Anything that appeared in the destination, or was replaced in it, while the new
//!    tree was being built is moved into the new tree where nothing is in its way; what cannot be
//!    is kept in `.spacegen-kept-PID-…` beside the destination and named in the error.
//!
//! A run killed in step 1 leaves a half-built new tree beside the destination, one killed in
//! step 3 the rest of the old tree: either way a `.spacegen-exchange-PID-…` folder whose process
//! has ended, which the next command into the destination (`new`, `new --dry-run`, `update`,
//! `outdated`, `check`) removes and reports before anything else. The destination itself is
//! whole at every moment.
//!
//! The run's lock ([`super::lock`]) is a `flock` on the destination folder's inode; the new
//! folder is locked too before the exchange, so a second run finds a lock whichever of the two
//! the destination's name leads it to.
//!
//! What differs from writing in place: the destination folder and every folder in it are new
//! inodes (with the old modes, owners and groups; folders' modification times are today's), and
//! a process whose working folder is in the destination would be left in the removed old tree.
//! So the exchange is not taken, and the destination is written in place by the transaction
//! ([`super::transaction`]), whenever [`InPlace`] gives a reason: not Linux; the destination's
//! path does not name the folder itself (a symbolic link to it, `.`, a path ending in `..`: so
//! `new . --force`, and `update` run inside the project, always write in place); a mount point;
//! a process this user can see has its working folder in the destination (a shell `cd`'d there,
//! a dev server started there; processes of other users are not visible, and a process
//! that enters the destination while spacegen runs is not seen); there is no `/proc` to tell;
//! something in it cannot be carried over exactly (a socket, pipe or device, a nested mount
//! point, a name that is not UTF-8, a folder with extended attributes or ACLs other than
//! `security.*` labels); or the filesystem or permissions refuse a step (the parent not
//! writable, no hard links or too many, an owner or group this user cannot give, no
//! `RENAME_EXCHANGE`), see [`declines`].

use std::collections::{BTreeSet, HashMap};
use std::path::{Component, Path};

use super::dir::{Dir, Kind, Meta, SYNC_EACH_FILE};
use super::interrupt::Interrupts;
use super::staging::{create_unique, nonce, EXCHANGE_PREFIX};
use super::transaction::removable;
use super::{split, survey, InPlace, Method};
use crate::error::{Error, Result};
use crate::project::Plan;

/// The folder beside the destination that keeps what could not be put back after an exchange.
const KEPT_PREFIX: &str = ".spacegen-kept-";

/// Why an attempt stopped: write in place instead, or a failure to report.
enum Stop {
    InPlace(InPlace),
    Fail(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Stop {
        Stop::Fail(e)
    }
}

impl From<InPlace> for Stop {
    fn from(why: InPlace) -> Stop {
        Stop::InPlace(why)
    }
}

type Step<T> = std::result::Result<T, Stop>;

/// The identity (device, inode) of every entry the old tree held while the new one was built,
/// by path.
type Seen = HashMap<String, (u64, u64)>;

/// Writes `plan` (and removes `removes`) by exchanging `dest`, opened and locked as `root`, for a
/// new folder; or says why it must be written in place, having changed nothing.
pub(crate) fn write(
    plan: &Plan,
    removes: &[String],
    dest: &Path,
    root: &Dir,
    interrupts: &Interrupts,
) -> Result<Method> {
    write_observed(plan, removes, dest, root, interrupts, &|| {})
}

/// [`write`], calling `before_exchange` once the new tree is complete (tests change the
/// destination there).
pub(super) fn write_observed(
    plan: &Plan,
    removes: &[String],
    dest: &Path,
    root: &Dir,
    interrupts: &Interrupts,
    before_exchange: &dyn Fn(),
) -> Result<Method> {
    match attempt(plan, removes, dest, root, interrupts, before_exchange) {
        Ok(()) => Ok(Method::Exchanged),
        Err(Stop::InPlace(why)) => Ok(Method::InPlace(why)),
        Err(Stop::Fail(e)) => Err(e),
    }
}

fn attempt(
    plan: &Plan,
    removes: &[String],
    dest: &Path,
    root: &Dir,
    interrupts: &Interrupts,
    before_exchange: &dyn Fn(),
) -> Step<()> {
    let (parent, name) = site(dest, root)?;
    if let Some(pid) = working_inside(dest)? {
        return Err(InPlace::InUse { pid }.into());
    }
    check_xattrs(root)?;
    let own = root.meta().map_err(|e| stop("inspect", root.path(), e))?;
    let mut skip: BTreeSet<String> = survey(plan, root)?
        .files
        .into_iter()
        .map(|(path, _)| path)
        .collect();
    skip.extend(removable(removes, root)?);
    let stage_name = create_unique(&parent, EXCHANGE_PREFIX)
        .map_err(|e| stop("create a folder in", parent.path(), e))?;
    let built = (|| {
        let stage = parent
            .child(&stage_name)
            .map_err(|e| stop("open", parent.join(&stage_name), e))?;
        // Held until this run ends: after the exchange, the destination's name leads here.
        if !stage
            .try_lock()
            .map_err(|e| stop("lock", stage.path(), e))?
        {
            return Err(Stop::Fail(Error::Other(format!(
                "{} is locked by another process",
                stage.path().display()
            ))));
        }
        let seen = build(plan, &skip, root, &stage, own.dev, interrupts)?;
        dress(&stage, &own)?;
        stage
            .sync_filesystem()
            .map_err(|e| stop("flush", stage.path(), e))?;
        interrupts.check()?;
        before_exchange();
        parent
            .exchange(&stage_name, &name)
            .map_err(|e| stop("exchange the new project with", dest, e))?;
        Ok((stage, seen))
    })();
    let (new, seen) = match built {
        Ok(done) => done,
        Err(stopped) => {
            let _ = parent.remove_tree(&stage_name);
            return Err(stopped);
        }
    };
    // The destination is the new project now: nothing below is undone, and a failure is
    // reported as one, never as a reason to write in place.
    finish(&parent, &stage_name, root, &new, &skip, &seen, dest).map_err(Stop::Fail)
}

/// Flushes the exchange and removes the old tree (`old`, now `stage_name` in `parent`).
fn finish(
    parent: &Dir,
    stage_name: &str,
    old: &Dir,
    new: &Dir,
    skip: &BTreeSet<String>,
    seen: &Seen,
    dest: &Path,
) -> Result<()> {
    parent
        .sync()
        .map_err(|e| Error::io("flush", parent.path(), e))?;
    // The old folder is going: make sure its entries can be removed (it may have been
    // read-only).
    let _ = old.set_mode(0o700);
    let kept = settle_old(old, new, "", skip, seen)?;
    if kept == 0 {
        return parent
            .remove_dir(stage_name)
            .map_err(|e| Error::io("remove", parent.join(stage_name), e));
    }
    let kept_name = format!("{KEPT_PREFIX}{}-{:x}", std::process::id(), nonce());
    parent
        .rename(stage_name, parent, &kept_name, false)
        .map_err(|e| Error::io("rename", parent.join(stage_name), e))?;
    // Not `Destination`: that one says nothing was written, and the project was.
    Err(Error::Other(format!(
        "the new project is in {}, but {kept} entr{} that changed there while spacegen was \
         writing could not be put back: they are in {}; move what you need into the project \
         and delete that folder",
        dest.display(),
        if kept == 1 { "y" } else { "ies" },
        parent.join(&kept_name).display()
    )))
}

/// The destination's parent folder and its name there, once it is sure the name is the folder
/// `root` itself, on its parent's filesystem.
fn site(dest: &Path, root: &Dir) -> Step<(Dir, String)> {
    let Some(Component::Normal(name)) = dest.components().next_back() else {
        return Err(InPlace::NotItsName.into());
    };
    let name = name.to_str().ok_or(InPlace::NotItsName)?.to_owned();
    let parent_path = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let parent = Dir::open(parent_path).map_err(|e| stop("open", parent_path, e))?;
    let own = root.meta().map_err(|e| stop("inspect", dest, e))?;
    let entry = parent
        .meta_of(&name)
        .map_err(|e| stop("inspect", dest, e))?;
    let up = parent.meta().map_err(|e| stop("inspect", parent_path, e))?;
    decide_site(&own, &entry, &up)?;
    Ok((parent, name))
}

/// Whether the folder `own` can be exchanged as the entry `entry` of its parent `up`: the entry
/// must be that folder itself (not a link to it, nor something else since), on the parent's
/// filesystem (not a mount point: a rename cannot move one).
pub(super) fn decide_site(own: &Meta, entry: &Meta, up: &Meta) -> std::result::Result<(), InPlace> {
    if entry.kind != Kind::Folder || (entry.dev, entry.ino) != (own.dev, own.ino) {
        return Err(InPlace::NotItsName);
    }
    if own.dev != up.dev {
        return Err(InPlace::MountPoint);
    }
    Ok(())
}

/// A process whose working folder is `dest` or below it, among those this user may see in
/// `/proc`; without `/proc` there is no telling.
fn working_inside(dest: &Path) -> std::result::Result<Option<u32>, InPlace> {
    let canonical = std::fs::canonicalize(dest).map_err(|_| InPlace::CannotTell)?;
    std::fs::read_link("/proc/self/cwd").map_err(|_| InPlace::CannotTell)?;
    let processes = std::fs::read_dir("/proc").map_err(|_| InPlace::CannotTell)?;
    for entry in processes.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        if let Ok(cwd) = std::fs::read_link(entry.path().join("cwd")) {
            if cwd.starts_with(&canonical) {
                return Ok(Some(pid));
            }
        }
    }
    Ok(None)
}

/// Whether an error of a step means this filesystem or these permissions refuse the exchange
/// (write in place instead), rather than a failure: not allowed (`EPERM`, `EACCES`: a parent not
/// writable, hard links refused, an owner not ours to give), read-only (`EROFS`), too many links
/// (`EMLINK`), another filesystem (`EXDEV`), no `RENAME_EXCHANGE` or hard links here (`EINVAL`,
/// `ENOSYS`, `EOPNOTSUPP`), a mount point (`EBUSY`).
pub(super) fn declines(errno: i32) -> bool {
    use rustix::io::Errno;
    [
        Errno::PERM,
        Errno::ACCESS,
        Errno::ROFS,
        Errno::MLINK,
        Errno::XDEV,
        Errno::INVAL,
        Errno::NOSYS,
        Errno::NOTSUP,
        Errno::OPNOTSUPP,
        Errno::BUSY,
    ]
    .iter()
    .any(|e| e.raw_os_error() == errno)
}

/// An I/O error of `action` on `path`, as a reason to write in place or as a failure.
fn stop(action: &'static str, path: impl AsRef<Path>, e: std::io::Error) -> Stop {
    match e.raw_os_error() {
        Some(errno) if declines(errno) => Stop::InPlace(InPlace::Refused { action, errno }),
        _ => Stop::Fail(Error::io(action, path.as_ref(), e)),
    }
}

/// Refuses to carry a folder with extended attributes (ACLs included) that a new folder would
/// lack; SELinux and other `security.*` labels are given to new folders by the system.
fn check_xattrs(dir: &Dir) -> Step<()> {
    let names = dir
        .xattr_names()
        .map_err(|e| stop("read the attributes of", dir.path(), e))?;
    if names.iter().any(|n| !n.starts_with("security.")) {
        return Err(InPlace::CannotCarry {
            path: dir.path().display().to_string(),
            why: "it has extended attributes or ACLs, which a new folder would not have",
        }
        .into());
    }
    Ok(())
}

/// Gives `dir` the owner, group and mode of `like`.
fn dress(dir: &Dir, like: &Meta) -> Step<()> {
    let now = dir.meta().map_err(|e| stop("inspect", dir.path(), e))?;
    if (now.uid, now.gid) != (like.uid, like.gid) {
        dir.set_owner(like.uid, like.gid)
            .map_err(|e| stop("give the owner to", dir.path(), e))?;
    }
    dir.set_mode(like.mode)
        .map_err(|e| stop("set the mode of", dir.path(), e))
}

/// Builds the new tree in `stage`: what `root` holds outside `skip`, carried over, then the
/// plan's files.
fn build(
    plan: &Plan,
    skip: &BTreeSet<String>,
    root: &Dir,
    stage: &Dir,
    dev: u64,
    interrupts: &Interrupts,
) -> Step<Seen> {
    let mut seen = Seen::new();
    carry(root, stage, "", skip, dev, &mut seen, interrupts)?;
    for (path, file) in plan.files() {
        interrupts.check()?;
        let (folder, name) = split(path);
        let mut dir = stage
            .descend("")
            .map_err(|e| stop("open", stage.path(), e))?;
        for segment in folder.split('/').filter(|s| !s.is_empty()) {
            dir = match dir.kind(segment) {
                Ok(None) => dir.create_dir(segment, 0o755),
                _ => dir.child(segment),
            }
            .map_err(|e| stop("create", stage.join(folder), e))?;
        }
        dir.create_file(name, &file.contents, file.mode(), SYNC_EACH_FILE)
            .map_err(|e| stop("write", stage.join(path), e))?;
    }
    Ok(seen)
}

/// Carries every entry of `from` (at `rel` in the old tree) but those in `skip` into `to`,
/// recording each one's identity in `seen`.
fn carry(
    from: &Dir,
    to: &Dir,
    rel: &str,
    skip: &BTreeSet<String>,
    dev: u64,
    seen: &mut Seen,
    interrupts: &Interrupts,
) -> Step<()> {
    for name in from.names().map_err(|e| stop("read", from.path(), e))? {
        interrupts.check()?;
        let Some(name) = name.to_str() else {
            return Err(cannot(
                from.join(&name.to_string_lossy()).as_path(),
                "its name is not UTF-8",
            ));
        };
        let path = join(rel, name);
        let meta = from
            .meta_of(name)
            .map_err(|e| stop("inspect", from.join(name), e))?;
        seen.insert(path.clone(), (meta.dev, meta.ino));
        if skip.contains(&path) {
            continue;
        }
        match meta.kind {
            Kind::File => from
                .hard_link(name, to, name)
                .map_err(|e| stop("link", from.join(name), e))?,
            Kind::Link => from
                .copy_link(name, to, name)
                .map_err(|e| stop("copy the link", from.join(name), e))?,
            Kind::Folder if meta.dev != dev => {
                return Err(cannot(&from.join(name), "it is a mount point"))
            }
            Kind::Folder => {
                let inner = from
                    .child(name)
                    .map_err(|e| stop("open", from.join(name), e))?;
                check_xattrs(&inner)?;
                let made = to
                    .create_dir(name, 0o700)
                    .map_err(|e| stop("create", to.join(name), e))?;
                carry(&inner, &made, &path, skip, dev, seen, interrupts)?;
                dress(&made, &meta)?;
            }
            Kind::Other => {
                return Err(cannot(
                    &from.join(name),
                    "it is not a file, folder or link (a socket, pipe or device)",
                ))
            }
        }
    }
    Ok(())
}

fn cannot(path: &Path, why: &'static str) -> Stop {
    Stop::InPlace(InPlace::CannotCarry {
        path: path.display().to_string(),
        why,
    })
}

fn join(rel: &str, name: &str) -> String {
    if rel.is_empty() {
        name.to_owned()
    } else {
        format!("{rel}/{name}")
    }
}

/// Removes the old tree `old` (at `rel`) entry by entry: the old versions of the plan's files
/// and of removed files, and what was carried over and is still the same entry. Anything else
/// changed meanwhile: it is moved into `new` when nothing is in its way there (or only the stale
/// copy of what it replaced). Returns how many entries stay.
fn settle_old(
    old: &Dir,
    new: &Dir,
    rel: &str,
    skip: &BTreeSet<String>,
    seen: &Seen,
) -> Result<usize> {
    let mut kept = 0;
    let names = old.names().map_err(|e| Error::io("read", old.path(), e))?;
    for name in names {
        let Some(name) = name.to_str() else {
            kept += 1;
            continue;
        };
        let path = join(rel, name);
        let meta = old
            .meta_of(name)
            .map_err(|e| Error::io("inspect", old.join(name), e))?;
        let same = seen.get(&path) == Some(&(meta.dev, meta.ino));
        let failed = match meta.kind {
            Kind::Folder if same => {
                let inner = old
                    .child(name)
                    .map_err(|e| Error::io("open", old.join(name), e))?;
                // It is going: make sure its entries can be removed.
                let _ = inner.set_mode(0o700);
                // Without its copy in the new tree (changed meanwhile), it stays whole.
                let Ok(inner_new) = new.child(name) else {
                    kept += 1;
                    continue;
                };
                let left = settle_old(&inner, &inner_new, &path, skip, seen)?;
                kept += left;
                left == 0 && old.remove_dir(name).is_err()
            }
            Kind::Folder => !put_back(old, name, new, &meta, seen.get(&path)),
            _ if same || skip.contains(&path) => old.remove_file(name).is_err(),
            _ => !put_back(old, name, new, &meta, seen.get(&path)),
        };
        kept += usize::from(failed);
    }
    Ok(kept)
}

/// Moves `name` from `old` into `new`, where nothing is, or only the carried copy `was` it
/// replaced; whether it moved.
fn put_back(old: &Dir, name: &str, new: &Dir, meta: &Meta, was: Option<&(u64, u64)>) -> bool {
    match new.meta_of(name) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            old.rename(name, new, name, false).is_ok()
        }
        Ok(there)
            if there.kind != Kind::Folder
                && meta.kind != Kind::Folder
                && was == Some(&(there.dev, there.ino)) =>
        {
            old.rename(name, new, name, true).is_ok()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{clean_up, interrupted, lock, open_existing, update, write_method};
    use super::*;
    use crate::project::plan::PlannedFile;
    use std::fs;
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    use std::path::PathBuf;

    fn plan(files: &[(&str, &str)]) -> Plan {
        let mut p = Plan::default();
        for (path, text) in files {
            let file = PlannedFile {
                contents: text.as_bytes().into(),
                executable: false,
            };
            p.insert(path.to_string(), file, "t").unwrap();
        }
        p
    }

    fn meta(kind: Kind, dev: u64, ino: u64) -> Meta {
        Meta {
            kind,
            dev,
            ino,
            mode: 0o755,
            uid: 0,
            gid: 0,
        }
    }

    /// A project in `dir/p`: `a.txt` and `d/c.txt` (the plan's), `mine` and `data/` (the user's).
    fn old_project(dir: &Path) -> PathBuf {
        let dest = dir.join("p");
        fs::create_dir_all(dest.join("d")).unwrap();
        fs::create_dir_all(dest.join("data/deep")).unwrap();
        fs::write(dest.join("a.txt"), "old").unwrap();
        fs::write(dest.join("d/c.txt"), "old c").unwrap();
        fs::write(dest.join("mine"), "mine").unwrap();
        fs::write(dest.join("data/deep/x"), "x").unwrap();
        fs::set_permissions(dest.join("data/deep/x"), fs::Permissions::from_mode(0o600)).unwrap();
        fs::set_permissions(dest.join("data"), fs::Permissions::from_mode(0o710)).unwrap();
        std::os::unix::fs::symlink("../elsewhere", dest.join("link")).unwrap();
        fs::set_permissions(&dest, fs::Permissions::from_mode(0o751)).unwrap();
        dest
    }

    fn new_plan() -> Plan {
        plan(&[("a.txt", "new"), ("d/c.txt", "c"), ("d/e/b.txt", "b")])
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut out: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        out.sort();
        out
    }

    #[test]
    fn the_site_must_be_the_folder_itself_on_its_parents_filesystem() {
        let own = meta(Kind::Folder, 1, 10);
        let up = meta(Kind::Folder, 1, 2);
        assert_eq!(decide_site(&own, &own, &up), Ok(()));
        let link = meta(Kind::Link, 1, 11);
        assert_eq!(decide_site(&own, &link, &up), Err(InPlace::NotItsName));
        let other = meta(Kind::Folder, 1, 12);
        assert_eq!(decide_site(&own, &other, &up), Err(InPlace::NotItsName));
        let mounted = meta(Kind::Folder, 7, 10);
        assert_eq!(
            decide_site(&mounted, &mounted, &up),
            Err(InPlace::MountPoint)
        );
    }

    #[test]
    fn refusals_of_the_filesystem_fall_back_and_failures_do_not() {
        use rustix::io::Errno;
        for e in [
            Errno::PERM,
            Errno::ACCESS,
            Errno::ROFS,
            Errno::MLINK,
            Errno::XDEV,
            Errno::INVAL,
            Errno::NOSYS,
            Errno::OPNOTSUPP,
            Errno::BUSY,
        ] {
            assert!(declines(e.raw_os_error()), "{e:?}");
        }
        for e in [
            Errno::NOSPC,
            Errno::IO,
            Errno::NOENT,
            Errno::DQUOT,
            Errno::NAMETOOLONG,
        ] {
            assert!(!declines(e.raw_os_error()), "{e:?}");
        }
    }

    #[test]
    fn a_folder_with_content_is_exchanged_whole_keeping_what_is_not_the_projects() {
        let dir = tempfile::tempdir().unwrap();
        let dest = old_project(dir.path());
        let before = fs::metadata(&dest).unwrap();
        let x_before = fs::metadata(dest.join("data/deep/x")).unwrap();
        let (_, method) = write_method(&new_plan(), &dest, true).unwrap();
        assert_eq!(method, Some(Method::Exchanged));
        let after = fs::metadata(&dest).unwrap();
        assert_ne!(before.ino(), after.ino(), "not exchanged");
        assert_eq!(
            (before.mode(), before.uid(), before.gid()),
            (after.mode(), after.uid(), after.gid())
        );
        assert_eq!(fs::read_to_string(dest.join("a.txt")).unwrap(), "new");
        assert_eq!(fs::read_to_string(dest.join("d/e/b.txt")).unwrap(), "b");
        assert_eq!(fs::read_to_string(dest.join("mine")).unwrap(), "mine");
        let x = fs::metadata(dest.join("data/deep/x")).unwrap();
        assert_eq!(
            (x.ino(), x.mode(), x.nlink()),
            (x_before.ino(), x_before.mode(), 1)
        );
        assert_eq!(
            fs::metadata(dest.join("data")).unwrap().mode() & 0o7777,
            0o710
        );
        assert_eq!(
            fs::read_link(dest.join("link")).unwrap(),
            Path::new("../elsewhere")
        );
        assert_eq!(
            names(dir.path()),
            ["p"],
            "something left beside the project"
        );
        assert_eq!(
            names(&dest),
            ["a.txt", "d", "data", "link", "mine"],
            "something left in the project"
        );
    }

    #[test]
    fn an_interruption_at_any_step_of_an_exchange_leaves_everything_as_it_was() {
        let mut step = 0;
        loop {
            let dir = tempfile::tempdir().unwrap();
            let dest = old_project(dir.path());
            let before = (
                names(dir.path()),
                names(&dest),
                fs::metadata(&dest).unwrap().ino(),
            );
            let root = open_existing(&dest).unwrap().unwrap();
            let interrupts = Interrupts::after(step);
            match write(&new_plan(), &[], &dest, &root, &interrupts) {
                Err(Error::Interrupted) => {
                    let now = (
                        names(dir.path()),
                        names(&dest),
                        fs::metadata(&dest).unwrap().ino(),
                    );
                    assert_eq!(now, before, "step {step}");
                    assert_eq!(fs::read_to_string(dest.join("a.txt")).unwrap(), "old");
                    step += 1;
                }
                Err(e) => panic!("{e}"),
                Ok(method) => {
                    assert_eq!(method, Method::Exchanged);
                    assert_eq!(fs::read_to_string(dest.join("a.txt")).unwrap(), "new");
                    assert!(step > 4, "only {step} steps were interrupted");
                    break;
                }
            }
        }
    }

    #[test]
    fn what_changes_while_the_new_tree_is_built_is_moved_into_it() {
        let dir = tempfile::tempdir().unwrap();
        let dest = old_project(dir.path());
        let root = open_existing(&dest).unwrap().unwrap();
        let changed = || {
            fs::write(dest.join("late.txt"), "late").unwrap();
            fs::create_dir(dest.join("late-folder")).unwrap();
            fs::write(dest.join("late-folder/f"), "f").unwrap();
            // An editor's save: a new file renamed over the old one.
            fs::write(dest.join("mine.tmp"), "edited").unwrap();
            fs::rename(dest.join("mine.tmp"), dest.join("mine")).unwrap();
        };
        let method = write_observed(
            &new_plan(),
            &[],
            &dest,
            &root,
            &Interrupts::after(usize::MAX),
            &changed,
        )
        .unwrap();
        assert_eq!(method, Method::Exchanged);
        assert_eq!(fs::read_to_string(dest.join("late.txt")).unwrap(), "late");
        assert_eq!(fs::read_to_string(dest.join("late-folder/f")).unwrap(), "f");
        assert_eq!(fs::read_to_string(dest.join("mine")).unwrap(), "edited");
        assert_eq!(fs::read_to_string(dest.join("a.txt")).unwrap(), "new");
        assert_eq!(names(dir.path()), ["p"]);
    }

    #[test]
    fn what_cannot_be_put_back_is_kept_beside_the_project_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let dest = old_project(dir.path());
        let root = open_existing(&dest).unwrap().unwrap();
        // A folder where the project puts a file: it cannot go back.
        let changed = || {
            fs::remove_file(dest.join("a.txt")).unwrap();
            fs::create_dir(dest.join("a.txt")).unwrap();
            fs::write(dest.join("a.txt/work"), "work").unwrap();
        };
        let err = write_observed(
            &new_plan(),
            &[],
            &dest,
            &root,
            &Interrupts::after(usize::MAX),
            &changed,
        )
        .unwrap_err();
        let kept: Vec<String> = names(dir.path())
            .into_iter()
            .filter(|n| n.starts_with(KEPT_PREFIX))
            .collect();
        assert_eq!(kept.len(), 1, "{err}");
        assert!(err.to_string().contains(&kept[0]), "{err}");
        let work = dir.path().join(&kept[0]).join("a.txt/work");
        assert_eq!(fs::read_to_string(work).unwrap(), "work");
        assert_eq!(fs::read_to_string(dest.join("a.txt")).unwrap(), "new");
        assert_eq!(fs::read_to_string(dest.join("mine")).unwrap(), "mine");
    }

    /// A link to the folder, a path through `..`, a process working inside, a socket, a parent
    /// this user cannot write: each is written in place (the folder keeps its inode), and why.
    #[test]
    fn where_the_exchange_cannot_be_made_the_folder_is_written_in_place() {
        /// How the case names the destination (given the scratch folder and the project).
        type Named = fn(&Path, &Path) -> PathBuf;
        let cases: [(&str, Named); 3] = [
            ("link", |dir, dest| {
                std::os::unix::fs::symlink(dest, dir.join("link")).unwrap();
                dir.join("link")
            }),
            ("dotdot", |_, dest| dest.join("d/..")),
            ("socket", |_, dest| {
                let socket = std::os::unix::net::UnixListener::bind(dest.join("sock")).unwrap();
                std::mem::forget(socket);
                dest.to_path_buf()
            }),
        ];
        for (case, named) in cases {
            let dir = tempfile::tempdir().unwrap();
            let dest = old_project(dir.path());
            let ino = fs::metadata(&dest).unwrap().ino();
            let path = named(dir.path(), &dest);
            let (_, method) = write_method(&new_plan(), &path, true).unwrap();
            let want = match case {
                "socket" => matches!(method, Some(Method::InPlace(InPlace::CannotCarry { .. }))),
                _ => method == Some(Method::InPlace(InPlace::NotItsName)),
            };
            assert!(want, "{case}: {method:?}");
            assert_eq!(fs::metadata(&dest).unwrap().ino(), ino, "{case}");
            assert_eq!(fs::read_to_string(dest.join("a.txt")).unwrap(), "new");
            assert_eq!(fs::read_to_string(dest.join("mine")).unwrap(), "mine");
        }
    }

    #[test]
    fn a_process_working_in_the_folder_keeps_it_written_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let dest = old_project(dir.path());
        let ino = fs::metadata(&dest).unwrap().ino();
        let mut shell = std::process::Command::new("sleep")
            .arg("30")
            .current_dir(dest.join("data/deep"))
            .spawn()
            .unwrap();
        let result = write_method(&new_plan(), &dest, true);
        shell.kill().unwrap();
        shell.wait().unwrap();
        let (_, method) = result.unwrap();
        assert_eq!(
            method,
            Some(Method::InPlace(InPlace::InUse { pid: shell.id() }))
        );
        assert_eq!(fs::metadata(&dest).unwrap().ino(), ino);
        assert_eq!(fs::read_to_string(dest.join("a.txt")).unwrap(), "new");
    }

    /// A parent this user cannot write: by its mode, or (for root, whom modes do not stop) made
    /// immutable with `chattr +i`.
    #[test]
    fn a_parent_this_user_cannot_write_keeps_the_folder_written_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let dest = old_project(dir.path());
        let ino = fs::metadata(&dest).unwrap().ino();
        let chattr = |flag: &str| {
            std::process::Command::new("chattr")
                .arg(flag)
                .arg(dir.path())
                .status()
                .is_ok_and(|s| s.success())
        };
        let root = rustix::process::geteuid().is_root();
        let expected = if root {
            if !chattr("+i") {
                eprintln!("skipped: running as root without chattr +i here");
                return;
            }
            rustix::io::Errno::PERM
        } else {
            fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o555)).unwrap();
            rustix::io::Errno::ACCESS
        };
        let result = write_method(&new_plan(), &dest, true);
        if root {
            assert!(chattr("-i"), "chattr -i {}", dir.path().display());
        } else {
            fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        }
        let (_, method) = result.unwrap();
        assert!(
            matches!(method, Some(Method::InPlace(InPlace::Refused { errno, .. }))
                if errno == expected.raw_os_error()),
            "{method:?}"
        );
        assert_eq!(fs::metadata(&dest).unwrap().ino(), ino);
        assert_eq!(fs::read_to_string(dest.join("a.txt")).unwrap(), "new");
        assert_eq!(names(dir.path()), ["p"]);
    }

    #[test]
    fn an_update_is_exchanged_whole_with_its_removals() {
        let dir = tempfile::tempdir().unwrap();
        let dest = old_project(dir.path());
        fs::write(dest.join("d/gone.txt"), "gone").unwrap();
        let ino = fs::metadata(&dest).unwrap().ino();
        update(&new_plan(), &["d/gone.txt".to_owned()], &dest).unwrap();
        assert_ne!(fs::metadata(&dest).unwrap().ino(), ino);
        assert!(!dest.join("d/gone.txt").exists());
        assert_eq!(fs::read_to_string(dest.join("mine")).unwrap(), "mine");
        assert_eq!(fs::read_to_string(dest.join("a.txt")).unwrap(), "new");
        assert_eq!(names(dir.path()), ["p"]);
    }

    /// Killed between the exchange and the removal of the old tree: the old tree is left beside
    /// the project, and the next command removes it and says so.
    #[test]
    fn the_old_tree_a_killed_exchange_left_is_removed_by_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        let dest = old_project(dir.path());
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let left = dir.path().join(format!("{EXCHANGE_PREFIX}{dead}-1f"));
        fs::create_dir_all(left.join("d")).unwrap();
        fs::write(left.join("d/c.txt"), "old c").unwrap();
        assert!(interrupted(&dest));
        let cleaned = clean_up(&dest).unwrap();
        assert_eq!(cleaned.exchange_removed, 1);
        assert!(!left.exists());
        assert!(!interrupted(&dest));
        assert_eq!(fs::read_to_string(dest.join("a.txt")).unwrap(), "old");
    }

    /// A run that opened the destination just before another run exchanged it finds, once it
    /// holds the lock, that the name leads to another folder now.
    #[test]
    fn a_lock_on_a_folder_exchanged_meanwhile_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let dest = old_project(dir.path());
        let opened = open_existing(&dest).unwrap().unwrap();
        write_method(&new_plan(), &dest, true).unwrap();
        let err = lock(&opened).unwrap_err();
        assert!(err.to_string().contains("was replaced"), "{err}");
        let now = open_existing(&dest).unwrap().unwrap();
        lock(&now).unwrap();
    }
}

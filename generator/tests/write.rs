//! What `spacegen new` promises about the destination, tried the hard way: killed or
//! interrupted at random moments, raced by a tree that changes under it, and pointed at
//! folders that already exist. After any of it the destination holds exactly the old project
//! or exactly the new one, nothing is written outside it, and nothing is left behind.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Kills per scenario: bounded so the suite stays quick, enough to land in every phase.
const ROUNDS: u64 = 24;

/// Every entry below `root`: folders as `None`, files as their bytes and mode.
fn tree(root: &Path) -> BTreeMap<String, Option<(Vec<u8>, u32)>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            let meta = fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                out.insert(rel, None);
                stack.push(path);
            } else {
                out.insert(rel, Some((fs::read(&path).unwrap(), meta.mode() & 0o7777)));
            }
        }
    }
    out
}

fn spacegen(cwd: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_spacegen"));
    cmd.args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn run(cwd: &Path, args: &[&str]) -> (i32, String) {
    let out = spacegen(cwd, args).output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// Names in `dir` that spacegen uses only while writing.
fn leftovers(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".spacegen-"))
        .collect()
}

/// A small deterministic sequence, so a failing round can be replayed.
struct Delays {
    state: u64,
    span: Duration,
}

impl Delays {
    fn new(seed: u64, span: Duration) -> Delays {
        Delays { state: seed, span }
    }

    fn next(&mut self) -> Duration {
        self.state = self
            .state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let fraction = (self.state >> 33) as f64 / (1u64 << 31) as f64;
        self.span.mul_f64(fraction)
    }
}

/// How long one run takes here, to spread the kills over it.
fn duration_of(cwd: &Path, args: &[&str]) -> Duration {
    let start = Instant::now();
    let (status, text) = run(cwd, args);
    assert_eq!(status, 0, "{text}");
    start.elapsed()
}

/// The project with `title`, as files, generated into a scratch folder.
fn project(title: &str) -> BTreeMap<String, Option<(Vec<u8>, u32)>> {
    let dir = tempfile::tempdir().unwrap();
    let var = format!("title={title}");
    let (status, text) = run(dir.path(), &["new", "p", "--defaults", "--var", &var]);
    assert_eq!(status, 0, "{text}");
    tree(&dir.path().join("p"))
}

fn plant(root: &Path, files: &BTreeMap<String, Option<(Vec<u8>, u32)>>) {
    use std::os::unix::fs::PermissionsExt as _;
    fs::create_dir_all(root).unwrap();
    for (rel, entry) in files {
        let path = root.join(rel);
        match entry {
            None => fs::create_dir_all(&path).unwrap(),
            Some((bytes, mode)) => {
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                fs::write(&path, bytes).unwrap();
                fs::set_permissions(&path, fs::Permissions::from_mode(*mode)).unwrap();
            }
        }
    }
}

/// Waits until `started` holds (the writer has begun), or the child has ended.
fn wait_for_writing(child: &mut Child, started: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !started() && Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_micros(50));
    }
}

/// Waits for the round's moment: odd rounds anywhere in the run, even rounds once writing has
/// begun (so the kill lands while the destination is changing).
fn wait_for_round(round: u64, child: &mut Child, delays: &mut Delays, started: impl Fn() -> bool) {
    if round.is_multiple_of(2) {
        wait_for_writing(child, started);
        std::thread::sleep(delays.next() / 150);
    } else {
        std::thread::sleep(delays.next());
    }
}

type Tree = BTreeMap<String, Option<(Vec<u8>, u32)>>;

/// Whether `after` is exactly `new` (`true`) or exactly `old` (`false`); otherwise the paths
/// that are neither.
fn settled(after: &Tree, old: &Tree, new: &Tree) -> Result<bool, Vec<String>> {
    if after == new {
        return Ok(true);
    }
    if after == old {
        return Ok(false);
    }
    Err(after
        .keys()
        .chain(old.keys())
        .filter(|k| {
            let now = after.get(*k);
            now != old.get(*k) && now != new.get(*k)
        })
        .cloned()
        .collect())
}

fn signal(child: &Child, sig: rustix::process::Signal) {
    let pid = rustix::process::Pid::from_child(child);
    let _ = rustix::process::kill_process(pid, sig);
}

#[test]
fn a_killed_force_run_is_undone_or_finished_by_the_next_run() {
    let mut old = project("Old");
    old.insert("mine.txt".into(), Some((b"keep".to_vec(), 0o644)));
    let mut new = project("New");
    new.insert("mine.txt".into(), Some((b"keep".to_vec(), 0o644)));
    let args = ["new", "p", "--defaults", "--var", "title=New", "--force"];
    let scratch = tempfile::tempdir().unwrap();
    plant(&scratch.path().join("p"), &old);
    let mut delays = Delays::new(11, duration_of(scratch.path(), &args).mul_f64(1.3));
    let (mut olds, mut news, mut recovered) = (0, 0, 0);
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("p");
        plant(&dest, &old);
        let mut child = spacegen(dir.path(), &args).spawn().unwrap();
        wait_for_round(round, &mut child, &mut delays, || writing_begun(&dest));
        child.kill().unwrap();
        child.wait().unwrap();
        // Even a dry run first undoes (or finishes) what the killed one left, and says so;
        // then the real run refuses to overwrite without --force, as the dry run did.
        let pending = writing_begun(&dest);
        let (dry_status, dry) = run(dir.path(), &["new", "p", "--defaults", "--dry-run"]);
        assert_eq!(dry_status, 2, "round {round}: {dry}");
        assert_eq!(dry.contains("an interrupted run had"), pending, "{dry}");
        assert!(
            !dest.join(".spacegen-transaction").exists(),
            "round {round}"
        );
        let (status, text) = run(dir.path(), &["new", "p", "--defaults"]);
        assert_eq!(status, 2, "round {round}: {text}");
        recovered += usize::from(dry.contains("an interrupted run had"));
        match settled(&tree(&dest), &old, &new) {
            Ok(true) => news += 1,
            Ok(false) => olds += 1,
            Err(mixed) => {
                panic!("round {round}: a mix of old and new after recovery: {mixed:?}\n{text}")
            }
        }
        assert!(leftovers(dir.path()).is_empty(), "round {round}");
    }
    assert!(
        recovered > 0,
        "no kill landed while the destination was changing"
    );
    eprintln!(
        "{ROUNDS} kills: {olds} left the old project, {news} the new one; \
         {recovered} were completed or undone by the next run"
    );
}

/// Whether a `new --force` or `update` of `dest` has begun changing things: its transaction inside
/// `dest`, or its staging folder beside it.
fn writing_begun(dest: &Path) -> bool {
    dest.join(".spacegen-transaction").exists()
        || dest.parent().is_some_and(|p| !leftovers(p).is_empty())
}

/// The inode of each file of `files` in `dest`, to see the moment any of them changes.
#[cfg(target_os = "linux")]
fn inodes(dest: &Path, files: &Tree) -> Vec<(PathBuf, u64)> {
    files
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(k, _)| (dest.join(k), fs::metadata(dest.join(k)).unwrap().ino()))
        .collect()
}

/// Whether any of the files is no longer the one it was.
#[cfg(target_os = "linux")]
fn changed(inodes: &[(PathBuf, u64)]) -> bool {
    inodes
        .iter()
        .any(|(path, ino)| fs::metadata(path).map(|m| m.ino()).ok() != Some(*ino))
}

/// What anyone reading the destination sees at the moment a `new --force` dies: killed at the
/// moment the first file that differs between old and new changes, or a little after, or
/// anywhere in the run,
/// the folder as it stands, before any other spacegen command has run, is exactly the old
/// project or exactly the new one. Only the transaction folder `.spacegen-transaction`, which
/// the in-place path (no folder exchange) leaves inside the destination, is ignored; the
/// leftover of an exchange lies beside the destination. Linux only: elsewhere `--force` writes
/// in place, and a mix is visible until the run ends or the next run settles it.
#[cfg(target_os = "linux")]
#[test]
fn a_force_run_killed_at_any_moment_leaves_the_destination_whole_at_that_moment() {
    const KILLS: u64 = 20;
    let mut old = project("Old");
    old.insert("mine.txt".into(), Some((b"keep".to_vec(), 0o640)));
    old.insert("data".into(), None);
    old.insert("data/notes.md".into(), Some((b"mine too".to_vec(), 0o600)));
    let mut new = project("New");
    for k in ["mine.txt", "data", "data/notes.md"] {
        new.insert(k.into(), old[k].clone());
    }
    // The files that differ: the first of them to change is the moment a mix may begin.
    let differing: Tree = old
        .iter()
        .filter(|(k, v)| new.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let args = ["new", "p", "--defaults", "--var", "title=New", "--force"];
    let scratch = tempfile::tempdir().unwrap();
    plant(&scratch.path().join("p"), &old);
    let mut delays = Delays::new(23, duration_of(scratch.path(), &args));
    let started = Instant::now();
    let (mut olds, mut news, mut mixed, mut pending) = (0, 0, Vec::new(), 0);
    for round in 0..KILLS {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("p");
        plant(&dest, &old);
        let files = inodes(&dest, &differing);
        let mut child = spacegen(dir.path(), &args).spawn().unwrap();
        match round % 4 {
            0 => std::thread::sleep(delays.next()),
            1 | 2 => wait_for_writing(&mut child, || changed(&files)),
            _ => {
                wait_for_writing(&mut child, || changed(&files));
                std::thread::sleep(delays.next() / 300);
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        pending += usize::from(writing_begun(&dest));
        let mut now = tree(&dest);
        now.retain(|k, _| !k.starts_with(".spacegen-transaction"));
        match settled(&now, &old, &new) {
            Ok(true) => news += 1,
            Ok(false) => olds += 1,
            Err(_) => {
                let (fresh, stale) = now.iter().fold((0, 0), |(f, s), (k, v)| {
                    let differ = old.get(k) != new.get(k);
                    let is_new = differ && new.get(k) == Some(v);
                    (f + usize::from(is_new), s + usize::from(differ && !is_new))
                });
                mixed.push((round, stale, fresh));
            }
        }
    }
    eprintln!(
        "{KILLS} kills in {:?}: the destination was old {olds} times, new {news} times, mixed \
         {} times (round, entries old, entries new) {mixed:?}; {pending} left something for \
         the next run",
        started.elapsed(),
        mixed.len()
    );
    assert!(
        mixed.is_empty(),
        "a mix of old and new was visible: {mixed:?}"
    );
    assert!(news > 0 && olds > 0, "the kills did not span the run");
}

#[test]
fn a_killed_fresh_run_leaves_nothing_or_the_whole_project() {
    let new = project("New");
    let args = ["new", "a/b/p", "--defaults", "--var", "title=New"];
    let scratch = tempfile::tempdir().unwrap();
    let mut delays = Delays::new(7, duration_of(scratch.path(), &args).mul_f64(1.3));
    let (mut whole, mut staged) = (0, 0);
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a/b/p");
        let mut child = spacegen(dir.path(), &args).spawn().unwrap();
        let parent = dir.path().join("a/b");
        wait_for_round(round, &mut child, &mut delays, || {
            parent.exists() && !leftovers(&parent).is_empty()
        });
        child.kill().unwrap();
        child.wait().unwrap();
        if dest.exists() {
            assert_eq!(tree(&dest), new, "round {round}: a partial project");
            whole += 1;
        }
        // The next run finishes the job and removes what the killed one staged.
        let (status, text) = run(dir.path(), &args);
        assert!(status == 0 || status == 2, "round {round}: {text}");
        staged += usize::from(text.contains("staging folder"));
        assert_eq!(tree(&dest), new, "round {round}");
        assert!(
            leftovers(&dir.path().join("a/b")).is_empty(),
            "round {round}: {text}"
        );
    }
    eprintln!(
        "{ROUNDS} kills: {whole} after the project was complete; {staged} left a staging \
         folder the next run removed"
    );
    assert!(
        staged > 0,
        "no kill landed while the project was being staged"
    );
}

#[test]
fn ctrl_c_or_sigterm_puts_the_destination_back_at_once() {
    let old = project("Old");
    let new = project("New");
    let mut undone = 0;
    for (sig, seed) in [
        (rustix::process::Signal::TERM, 3),
        (rustix::process::Signal::INT, 5),
    ] {
        for force in [true, false] {
            let args: Vec<&str> = if force {
                vec!["new", "x/p", "--defaults", "--var", "title=New", "--force"]
            } else {
                vec!["new", "x/y/p", "--defaults", "--var", "title=New"]
            };
            let scratch = tempfile::tempdir().unwrap();
            if force {
                plant(&scratch.path().join("x/p"), &old);
            }
            let span = duration_of(scratch.path(), &args).mul_f64(1.3);
            let mut delays = Delays::new(seed, span);
            for round in 0..ROUNDS / 2 {
                let dir = tempfile::tempdir().unwrap();
                if force {
                    plant(&dir.path().join("x/p"), &old);
                }
                let mut child = spacegen(dir.path(), &args).spawn().unwrap();
                let (dest, parent) = if force {
                    (dir.path().join("x/p"), dir.path().join("x/p"))
                } else {
                    (dir.path().join("x/y/p"), dir.path().join("x/y"))
                };
                wait_for_round(round, &mut child, &mut delays, || {
                    if force {
                        writing_begun(&dest)
                    } else {
                        parent.exists() && !leftovers(&parent).is_empty()
                    }
                });
                signal(&child, sig);
                let out = child.wait_with_output().unwrap();
                let stderr = String::from_utf8_lossy(&out.stderr);
                let at = format!("{sig:?} round {round}, force {force}: {stderr}");
                match out.status.code() {
                    Some(130) => {
                        undone += 1;
                        assert!(stderr.contains("interrupted"), "{at}");
                        if force {
                            assert_eq!(tree(&dest), old, "{at}");
                        } else {
                            assert!(!dir.path().join("x").exists(), "{at}: parents left");
                        }
                    }
                    Some(0) => assert_eq!(tree(&dest), new, "{at}"),
                    // Killed by the signal before writing began, or after it ended.
                    None => {
                        if dest.exists() {
                            let now = tree(&dest);
                            assert!(now == old || now == new, "{at}: a mix");
                        }
                    }
                    Some(other) => panic!("exit {other}: {at}"),
                }
                assert!(
                    !dest.join(".spacegen-transaction").exists(),
                    "{at}: transaction left"
                );
                if let Some(parent) = dest.parent().filter(|p| p.exists()) {
                    assert!(leftovers(parent).is_empty(), "{at}");
                }
            }
        }
    }
    eprintln!("{undone} runs were interrupted while writing and undone");
    assert!(undone > 0, "no signal arrived while writing");
}

#[test]
fn a_folder_swapped_for_a_link_during_a_run_never_redirects_a_write() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let dest = dir.path().join("p");
    let (status, text) = run(dir.path(), &["new", "p", "--defaults"]);
    assert_eq!(status, 0, "{text}");
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (stop, app, aside, target) = (
            Arc::clone(&stop),
            dest.join("app"),
            dest.join("app.real"),
            outside.path().to_path_buf(),
        );
        std::thread::spawn(move || {
            let mut swaps = 0u32;
            while !stop.load(Ordering::SeqCst) {
                if fs::rename(&app, &aside).is_ok() {
                    let _ = std::os::unix::fs::symlink(&target, &app);
                    std::thread::sleep(Duration::from_micros(300));
                    let _ = fs::remove_file(&app);
                    let _ = fs::rename(&aside, &app);
                    swaps += 1;
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            swaps
        })
    };
    for _ in 0..30 {
        run(dir.path(), &["new", "p", "--defaults", "--force"]);
    }
    stop.store(true, Ordering::SeqCst);
    let swaps = swapper.join().unwrap();
    assert!(swaps > 10, "the tree was hardly changed ({swaps} swaps)");
    let escaped: Vec<PathBuf> = fs::read_dir(outside.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(escaped.is_empty(), "written through the link: {escaped:?}");
    // Once the tree holds still, the next run completes.
    let (status, text) = run(dir.path(), &["new", "p", "--defaults", "--force"]);
    assert_eq!(status, 0, "{text}");
    assert!(dest.join("app/main.py").is_file());
}

#[test]
fn an_existing_empty_folder_is_filled_in_place_however_it_is_named() {
    use std::os::unix::fs::PermissionsExt as _;
    let expected = project("In place");
    for how in ["dot", "absolute", "link"] {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("proj");
        fs::create_dir(&folder).unwrap();
        fs::set_permissions(&folder, fs::Permissions::from_mode(0o2750)).unwrap();
        let before = fs::metadata(&folder).unwrap();
        let (cwd, dest) = match how {
            "dot" => (folder.clone(), ".".to_owned()),
            "absolute" => (folder.clone(), folder.display().to_string()),
            _ => {
                std::os::unix::fs::symlink(&folder, dir.path().join("link")).unwrap();
                (dir.path().to_path_buf(), "link".to_owned())
            }
        };
        let (status, text) = run(
            &cwd,
            &["new", &dest, "--defaults", "--var", "title=In place"],
        );
        assert_eq!(status, 0, "{how}: {text}");
        let after = fs::metadata(&folder).unwrap();
        assert_eq!(
            (after.ino(), after.mode(), after.gid()),
            (before.ino(), before.mode(), before.gid()),
            "{how}: the folder itself was replaced"
        );
        assert_eq!(tree(&folder), expected, "{how}");
        assert_eq!(leftovers(dir.path()), Vec::<String>::new(), "{how}");
        if how == "link" {
            assert!(fs::symlink_metadata(dir.path().join("link"))
                .unwrap()
                .file_type()
                .is_symlink());
        }
    }
}

#[test]
fn a_replacing_run_lists_every_file_it_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let (status, text) = run(dir.path(), &["new", "p", "--defaults"]);
    assert_eq!(status, 0, "{text}");
    let (status, text) = run(dir.path(), &["new", "p", "--defaults", "--force"]);
    assert_eq!(status, 0, "{text}");
    let planned = tree(&dir.path().join("p"))
        .into_iter()
        .filter(|(_, v)| v.is_some())
        .count();
    assert!(
        text.contains(&format!("Replaced {planned} files:")),
        "{text}"
    );
    assert!(text.contains("\n  Dockerfile\n"), "{text}");
}

/// `update` writes through the same transaction: killed at any moment, the next command that
/// reads the project (`outdated` here) finishes or undoes it, and the project is exactly the
/// old one or exactly the updated one.
#[test]
fn a_killed_update_is_undone_or_finished_by_the_next_command() {
    let old = project("Old");
    let updated = {
        let dir = tempfile::tempdir().unwrap();
        plant(&dir.path().join("p"), &old);
        let (status, text) = run(dir.path(), &["update", "p", "--var", "title=New"]);
        assert_eq!(status, 0, "{text}");
        tree(&dir.path().join("p"))
    };
    assert_ne!(old, updated);
    let args = ["update", "p", "--var", "title=New"];
    let scratch = tempfile::tempdir().unwrap();
    plant(&scratch.path().join("p"), &old);
    let mut delays = Delays::new(17, duration_of(scratch.path(), &args).mul_f64(1.3));
    let (mut olds, mut news, mut recovered) = (0, 0, 0);
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("p");
        plant(&dest, &old);
        let mut child = spacegen(dir.path(), &args).spawn().unwrap();
        wait_for_round(round, &mut child, &mut delays, || writing_begun(&dest));
        child.kill().unwrap();
        child.wait().unwrap();
        let (_, text) = run(dir.path(), &["outdated", "p"]);
        recovered += usize::from(text.contains("an interrupted run had"));
        match settled(&tree(&dest), &old, &updated) {
            Ok(true) => news += 1,
            Ok(false) => olds += 1,
            Err(mixed) => {
                panic!("round {round}: a mix of old and updated after recovery: {mixed:?}\n{text}")
            }
        }
        assert!(leftovers(dir.path()).is_empty(), "round {round}");
    }
    assert!(
        recovered > 0,
        "no kill landed while the project was changing"
    );
    eprintln!("{ROUNDS} kills of update: {olds} left the old project, {news} the updated one; {recovered} settled by the next command");
}

/// A run killed between the exchange and the removal of the old tree leaves that tree in a
/// `.spacegen-exchange-PID-…` folder beside the project: every command that reads the project
/// removes it first and says so, and the project itself is untouched.
#[test]
fn every_command_removes_the_old_tree_a_killed_exchange_left_and_says_so() {
    let old = project("Old");
    let mut gone = Command::new("true").spawn().unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    for args in [
        &["new", "p", "--defaults", "--dry-run", "--force"][..],
        &["outdated", "p"],
        &["check", "p"],
        &["update", "p", "--dry-run"],
        &["new", "p", "--defaults", "--var", "title=Old", "--force"],
    ] {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("p");
        plant(&dest, &old);
        let left = dir.path().join(format!(".spacegen-exchange-{dead}-1f"));
        plant(&left, &old);
        let (_, text) = run(dir.path(), args);
        assert!(
            text.contains("an interrupted run had left its work folder beside"),
            "{args:?}: {text}"
        );
        assert!(!left.exists(), "{args:?}: {text}");
        assert!(tree(&dest) == old, "{args:?}: the project changed");
    }
}

/// Two `new --force` runs into one project at once: the first is stopped (SIGSTOP) while it
/// builds the new tree, or just after the exchange, and the second runs meanwhile. The lock
/// keeps them apart across the exchange (the second finds the first's lock on whichever folder
/// the name leads to), and the project ends exactly new, nothing left beside it.
#[test]
fn two_force_runs_at_once_never_write_together() {
    let old = project("Old");
    let new = project("New");
    let args = ["new", "p", "--defaults", "--var", "title=New", "--force"];
    let (mut refused, mut both) = (0, 0);
    for round in 0..8 {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("p");
        plant(&dest, &old);
        let ino = fs::metadata(&dest).unwrap().ino();
        let mut first = spacegen(dir.path(), &args).spawn().unwrap();
        if round % 2 == 0 {
            wait_for_writing(&mut first, || writing_begun(&dest));
        } else {
            wait_for_writing(&mut first, || {
                fs::metadata(&dest).is_ok_and(|m| m.ino() != ino)
            });
        }
        signal(&first, rustix::process::Signal::STOP);
        let second = spacegen(dir.path(), &args).output().unwrap();
        signal(&first, rustix::process::Signal::CONT);
        let first = first.wait_with_output().unwrap();
        tally(&[first, second], round, &mut refused, &mut both);
        assert!(
            tree(&dest) == new,
            "round {round}: not exactly the new project"
        );
        assert!(leftovers(dir.path()).is_empty(), "round {round}");
    }
    eprintln!("8 pairs: {refused} runs refused while the other wrote, {both} pairs both ran");
    assert!(refused > 0, "the runs never overlapped");
}

/// Counts the runs of a pair refused for the other one; anything else than success or that
/// refusal fails the test.
fn tally(outs: &[std::process::Output], round: u64, refused: &mut usize, both: &mut usize) {
    let mut ok = 0;
    for out in outs {
        let text = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            ok += 1;
        } else {
            let apart = text.contains("another spacegen run")
                || text.contains("was replaced while spacegen was opening it");
            assert!(apart, "round {round}: {text}");
            *refused += 1;
        }
    }
    assert!(ok > 0, "round {round}: neither run wrote");
    *both += usize::from(ok == 2);
}

//! The weekly update a generated project can have (`github_update`): its script,
//! `.github/scripts/spacegen-update.sh`, run for real as the workflow runs it, from a fresh
//! clone of a repository whose `origin` is a bare repository in a temporary folder, with the
//! real `spacegen` binary first on the PATH.
//!
//! GitHub is not reachable here, so `gh` is a stand-in on the PATH that records each call's
//! arguments and answers `gh pr list` with the number of the pull request a recorded
//! `gh pr create` opened; everything else (git, spacegen, jq, the push) is real. A project
//! behind today's blueprint is generated from an older blueprint tree of this repository
//! (`git archive` of commit [`OLD`], sqlite-demo 0.2.0 with its lock, one pin held back by
//! hand since that version pins what today's does); the older blueprint had no update workflow, so its project gets the script from today's blueprint, byte for byte
//! what `github_update = true` writes.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::common::{repo_root, run_ok, Test};

/// A commit whose `blueprints/` holds sqlite-demo 0.2.0, with the `spaces.lock` that pins it.
const OLD: &str = "508ca50";

const SCRIPT: &str = ".github/scripts/spacegen-update.sh";

const BRANCH: &str = "spacegen/update";

/// The stand-in for GitHub's CLI: each call's arguments, each ended by a NUL, in
/// `$GH_CALLS/N`; `pr create` prints the new pull request's URL, `pr list` the number of one
/// opened before.
const GH: &str = r#"#!/bin/sh
set -eu
n=$(ls "$GH_CALLS" | wc -l)
for arg in "$@"; do printf '%s\0' "$arg"; done > "$GH_CALLS/$((n + 1))"
case "$1 $2" in
  "pr create") echo "https://github.com/owner/space/pull/7" ;;
  "pr list") if grep -lzx create "$GH_CALLS"/* >/dev/null 2>&1; then echo 7; fi ;;
esac
"#;

/// A temporary world: `origin.git` (bare), `bin/` (spacegen and the `gh` stand-in), `calls/`.
struct World {
    dir: tempfile::TempDir,
}

/// One run of the script: its output and the `gh` calls it made, in order.
struct ScriptRun {
    out: Output,
    calls: Vec<Vec<String>>,
}

impl ScriptRun {
    fn log(&self) -> String {
        format!(
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.out.status.code(),
            String::from_utf8_lossy(&self.out.stdout),
            String::from_utf8_lossy(&self.out.stderr)
        )
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = run_ok(
        Command::new("git")
            .args(args)
            .current_dir(dir)
            .envs(quiet_git()),
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// No user or system git configuration, a fixed identity for the test's own commits (the
/// script's commits must work without one: it sets its own when none is configured).
fn quiet_git() -> Vec<(&'static str, String)> {
    vec![
        ("GIT_CONFIG_NOSYSTEM", "1".into()),
        ("GIT_CONFIG_GLOBAL", "/dev/null".into()),
    ]
}

fn test_identity(dir: &Path) {
    git(dir, &["config", "user.name", "Test"]);
    git(dir, &["config", "user.email", "test@example.com"]);
}

impl World {
    fn new() -> World {
        let jq = Command::new("jq").arg("--version").output();
        assert!(
            jq.is_ok_and(|o| o.status.success()),
            "the update script needs jq, as GitHub's runners have it: apt-get install jq"
        );
        let world = World {
            dir: tempfile::tempdir().unwrap(),
        };
        let bin = world.path("bin");
        fs::create_dir_all(&bin).unwrap();
        fs::create_dir_all(world.path("calls")).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_spacegen"), bin.join("spacegen")).unwrap();
        fs::write(bin.join("gh"), GH).unwrap();
        make_executable(&bin.join("gh"));
        git(
            world.dir.path(),
            &["init", "-q", "--bare", "-b", "main", "origin.git"],
        );
        world
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Commits the project in `p` as the first commit of `main` and pushes it to `origin`.
    fn publish(&self) {
        let p = self.path("p");
        git(&p, &["init", "-q", "-b", "main"]);
        test_identity(&p);
        git(&p, &["add", "-A"]);
        git(&p, &["commit", "-q", "-m", "First version"]);
        let origin = self.path("origin.git");
        git(&p, &["remote", "add", "origin", origin.to_str().unwrap()]);
        git(&p, &["push", "-q", "origin", "main"]);
    }

    /// Clones `origin` afresh, as `actions/checkout` does, and runs the script there with
    /// `GH_TOKEN` set and no git identity configured.
    fn run_script(&self, clone: &str) -> ScriptRun {
        let origin = self.path("origin.git");
        git(
            self.dir.path(),
            &["clone", "-q", origin.to_str().unwrap(), clone],
        );
        let before = self.calls().len();
        let path = format!(
            "{}:{}",
            self.path("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = Command::new(self.path(clone).join(SCRIPT))
            .current_dir(self.path(clone))
            .envs(quiet_git())
            .env("PATH", path)
            .env("GH_CALLS", self.path("calls"))
            .env("GH_TOKEN", "not-a-token")
            .env("GITHUB_ACTIONS", "true")
            .output()
            .unwrap();
        let calls = self.calls().split_off(before);
        ScriptRun { out, calls }
    }

    /// Every `gh` call so far, in order.
    fn calls(&self) -> Vec<Vec<String>> {
        let dir = self.path("calls");
        let mut numbered: Vec<(u32, Vec<String>)> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| {
                let path = e.unwrap().path();
                let n = path.file_name().unwrap().to_str().unwrap().parse().unwrap();
                let args = fs::read_to_string(&path).unwrap();
                (n, args.split_terminator('\0').map(str::to_owned).collect())
            })
            .collect();
        numbered.sort();
        numbered.into_iter().map(|(_, args)| args).collect()
    }

    /// A file of the branch `origin` holds, or `None` without that branch.
    fn pushed(&self, branch: &str, file: &str) -> Option<String> {
        let out = Command::new("git")
            .args(["show", &format!("{branch}:{file}")])
            .current_dir(self.path("origin.git"))
            .envs(quiet_git())
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn branches(&self) -> String {
        git(&self.path("origin.git"), &["branch", "--list"])
    }
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut perms = fs::metadata(path).unwrap().permissions();
    perms.set_mode(0o755);
    fs::set_permissions(path, perms).unwrap();
}

/// A project of sqlite-demo 0.2.0 in `world/p` (from commit [`OLD`]'s blueprints and lock),
/// with today's update script beside it.
fn old_project(world: &World) {
    let old = world.path("old");
    fs::create_dir_all(&old).unwrap();
    let archive = run_ok(
        Command::new("git")
            .args(["archive", "--format=tar", OLD, "blueprints", "spaces.lock"])
            .current_dir(repo_root()),
    );
    let tar = world.path("old.tar");
    fs::write(&tar, archive.stdout).unwrap();
    run_ok(Command::new("tar").arg("-xf").arg(&tar).current_dir(&old));
    Test::new()
        .cwd(world.dir.path())
        .args(["new", "p", "--defaults", "--blueprint"])
        .args([old.join("blueprints/sqlite-demo").to_str().unwrap()])
        .args(["--lock", old.join("spaces.lock").to_str().unwrap()])
        .run();
    let record = fs::read_to_string(world.path("p/.spacegen/answers.toml")).unwrap();
    assert!(record.contains("version = \"0.2.0\""), "{record}");
    hold_back_fastapi(&world.path("p"));
    let script = world.path("p").join(SCRIPT);
    fs::create_dir_all(script.parent().unwrap()).unwrap();
    fs::copy(
        repo_root().join("blueprints/base/template").join(SCRIPT),
        &script,
    )
    .unwrap();
    make_executable(&script);
}

/// sqlite-demo 0.2.0 pins what today's version pins: the project holds one pin back, as a
/// project whose blueprint moved its pins since would (and as `tests/outdated.rs` ages one).
fn hold_back_fastapi(project: &Path) {
    let path = project.join("requirements.txt");
    let text = fs::read_to_string(&path).unwrap();
    let pin = text
        .lines()
        .find(|l| l.starts_with("fastapi=="))
        .and_then(|l| l.split_whitespace().next())
        .expect("fastapi is pinned")
        .to_owned();
    assert_ne!(pin, "fastapi==0.164.0");
    fs::write(path, text.replacen(&pin, "fastapi==0.164.0", 1)).unwrap();
}

/// `spacegen outdated --format json` of the project in `world/p`, as it is now.
fn outdated(world: &World) -> Value {
    let (run, _dir) = Test::new()
        .cwd(world.path("p"))
        .args(["outdated", "--format", "json"])
        .status(1)
        .run();
    serde_json::from_str(&run.stdout).unwrap()
}

/// The version of sqlite-demo this spacegen embeds.
fn current_version() -> String {
    let (run, _dir) = Test::new().args(["list", "--format", "json"]).run();
    let list: Value = serde_json::from_str(&run.stdout).unwrap();
    list["blueprints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "sqlite-demo")
        .and_then(|b| b["version"].as_str())
        .unwrap()
        .to_owned()
}

/// The value following `flag` in a `gh` call.
fn flag<'a>(call: &'a [String], flag: &str) -> &'a str {
    let at = call
        .iter()
        .position(|a| a == flag)
        .unwrap_or_else(|| panic!("no {flag} in {call:?}"));
    &call[at + 1]
}

fn starts(call: &[String], words: &[&str]) -> bool {
    call.len() >= words.len() && call.iter().zip(words).all(|(a, w)| a == w)
}

/// A project behind today's blueprint: the first run pushes the updated project to the
/// branch and opens one pull request naming the versions and every pin that moved; a second
/// run pushes again and edits that pull request instead of opening another.
#[test]
fn a_project_behind_gets_one_pull_request_that_later_runs_update() {
    let world = World::new();
    old_project(&world);
    let behind = outdated(&world);
    world.publish();
    let to = current_version();

    let first = world.run_script("run1");
    assert_eq!(first.out.status.code(), Some(0), "{}", first.log());
    let record = world
        .pushed(BRANCH, ".spacegen/answers.toml")
        .unwrap_or_else(|| panic!("{BRANCH} was not pushed: {}", first.log()));
    assert!(record.contains(&format!("version = \"{to}\"")), "{record}");
    assert!(
        world
            .pushed("main", ".spacegen/answers.toml")
            .unwrap()
            .contains("version = \"0.2.0\""),
        "main was changed"
    );
    let creates: Vec<&Vec<String>> = first
        .calls
        .iter()
        .filter(|c| starts(c, &["pr", "create"]))
        .collect();
    assert_eq!(creates.len(), 1, "{:?}", first.calls);
    let create = creates[0];
    assert_eq!(flag(create, "--head"), BRANCH);
    assert_eq!(flag(create, "--base"), "main");
    assert!(flag(create, "--title").contains(&to), "{create:?}");
    let body = flag(create, "--body");
    assert!(
        body.contains("sqlite-demo 0.2.0") && body.contains(&format!("sqlite-demo {to}")),
        "{body}"
    );
    let moved: Vec<&Value> = behind["packages"].as_array().unwrap().iter().collect();
    assert!(!moved.is_empty(), "{behind}");
    for package in moved {
        let name = package["name"].as_str().unwrap();
        assert!(
            body.contains(&format!("`{name}`")),
            "{name} missing from:\n{body}"
        );
        for side in ["project", "blueprint"] {
            if let Some(version) = package[side].as_str() {
                assert!(
                    body.contains(version),
                    "{name} {version} missing from:\n{body}"
                );
            }
        }
    }
    assert!(!body.contains("<<<<<<<"), "{body}");

    let second = world.run_script("run2");
    assert_eq!(second.out.status.code(), Some(0), "{}", second.log());
    assert!(
        !second.calls.iter().any(|c| starts(c, &["pr", "create"])),
        "a second pull request was opened: {:?}",
        second.calls
    );
    let edit = second
        .calls
        .iter()
        .find(|c| starts(c, &["pr", "edit"]))
        .unwrap_or_else(|| panic!("the pull request was not updated: {:?}", second.calls));
    assert_eq!(edit[2], "7", "{edit:?}");
    assert!(
        flag(edit, "--body").contains(&format!("sqlite-demo {to}")),
        "{edit:?}"
    );
    assert!(world.branches().contains(BRANCH));
}

/// An edit that the new version cannot merge: the branch holds git's markers and the pull
/// request's body lists each conflict as `file:line` and says to resolve them before merging.
#[test]
fn conflicts_are_listed_in_the_pull_request() {
    let world = World::new();
    old_project(&world);
    let main = world.path("p/app/main.py");
    let text = fs::read_to_string(&main).unwrap();
    fs::write(&main, format!("# Our own note on top.\n{text}")).unwrap();
    world.publish();

    let run = world.run_script("run");
    assert_eq!(run.out.status.code(), Some(0), "{}", run.log());
    let pushed = world
        .pushed(BRANCH, "app/main.py")
        .unwrap_or_else(|| panic!("{BRANCH} was not pushed: {}", run.log()));
    let marker = pushed
        .lines()
        .position(|l| l.starts_with("<<<<<<< "))
        .unwrap_or_else(|| panic!("no conflict in app/main.py:\n{pushed}"))
        + 1;
    let create = run
        .calls
        .iter()
        .find(|c| starts(c, &["pr", "create"]))
        .unwrap_or_else(|| panic!("no pull request: {:?}", run.calls));
    let body = flag(create, "--body");
    assert!(body.contains(&format!("app/main.py:{marker}")), "{body}");
    assert!(body.contains("before merging"), "{body}");
    assert!(flag(create, "--title").contains("conflict"), "{create:?}");

    // Someone resolves the conflicts on the branch: the next run leaves it alone.
    let mine = world.path("run");
    test_identity(&mine);
    git(&mine, &["fetch", "-q", "origin", BRANCH]);
    git(&mine, &["checkout", "-q", "-B", "resolve", "FETCH_HEAD"]);
    let resolved: String = pushed
        .lines()
        .filter(|l| {
            !l.starts_with("<<<<<<< ") && !l.starts_with("=======") && !l.starts_with(">>>>>>> ")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(mine.join("app/main.py"), &resolved).unwrap();
    git(&mine, &["commit", "-q", "-am", "Resolve the conflicts"]);
    git(
        &mine,
        &["push", "-q", "origin", &format!("HEAD:refs/heads/{BRANCH}")],
    );
    let again = world.run_script("again");
    assert_eq!(again.out.status.code(), Some(0), "{}", again.log());
    assert!(again.calls.is_empty(), "{:?}", again.calls);
    assert_eq!(
        world.pushed(BRANCH, "app/main.py").as_deref(),
        Some(resolved.as_str())
    );
    assert!(
        String::from_utf8_lossy(&again.out.stdout).contains("left alone"),
        "{}",
        again.log()
    );
}

/// A project generated today with `github_update = true` (which writes the script) is
/// current: the run says so and pushes nothing, and `gh` is never called. A folder that is not
/// a generated project fails the run, pushing nothing.
#[test]
fn a_current_project_is_left_alone_and_a_failure_fails() {
    let world = World::new();
    Test::new()
        .cwd(world.dir.path())
        .args(["new", "p", "--defaults", "--var", "github_update=true"])
        .run();
    assert!(world.path("p").join(SCRIPT).is_file());
    assert_eq!(
        fs::read(world.path("p").join(SCRIPT)).unwrap(),
        fs::read(repo_root().join("blueprints/base/template").join(SCRIPT)).unwrap(),
        "the script is copied as it is"
    );
    world.publish();
    let run = world.run_script("run");
    assert_eq!(run.out.status.code(), Some(0), "{}", run.log());
    assert!(run.calls.is_empty(), "{:?}", run.calls);
    assert!(!world.branches().contains(BRANCH), "{}", world.branches());
    assert!(
        String::from_utf8_lossy(&run.out.stdout).contains("up to date"),
        "{}",
        run.log()
    );

    let p = world.path("p");
    git(&p, &["rm", "-q", ".spacegen/answers.toml"]);
    git(&p, &["commit", "-q", "-m", "No record"]);
    git(&p, &["push", "-q", "origin", "main"]);
    let broken = world.run_script("broken");
    assert_eq!(broken.out.status.code(), Some(2), "{}", broken.log());
    assert!(broken.calls.is_empty(), "{:?}", broken.calls);
    assert!(!world.branches().contains(BRANCH));
}

//! The crate as crates.io would receive it (`.ci/crate package`): it carries copies of the
//! blueprints and the lock under `embedded/`, builds from itself alone, offline and `--locked`,
//! away from the repository, and the binary it builds lists and generates as the repository's
//! does. Plain `cargo package`, without the copies, gives a crate that refuses to build and says
//! how to package it.
//!
//! The builds use a profile of their own (`packaged`, as `dev`) in the workspace's target
//! folder, so they never replace the binary the other tests run. The README's `cargo install
//! --locked --path generator` is run too.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{repo_root, run_ok};

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo_root().join("target"), PathBuf::from)
}

/// Unpacks `crate_file` into `into` with fresh modification times (so cargo never takes a
/// build of an earlier unpacking for this one) and returns the crate's folder.
fn unpack(crate_file: &Path, into: &Path) -> PathBuf {
    run_ok(
        Command::new("tar")
            .arg("-xzmf")
            .arg(crate_file)
            .arg("-C")
            .arg(into),
    );
    into.join(format!("spacegen-{}", env!("CARGO_PKG_VERSION")))
}

/// `cargo install` of the crate at `dir` into `root`, offline and locked, in the `packaged`
/// profile: what `cargo install --locked spacegen` does once the crate is downloaded.
fn install(dir: &Path, root: &Path) -> Command {
    let mut cmd = install_with(dir, root);
    cmd.args([
        "--config",
        "profile.packaged.inherits=\"dev\"",
        "--profile",
        "packaged",
    ]);
    cmd
}

/// `cargo install` of the crate at `dir` into `root`, offline and locked; the profile is left
/// to further arguments.
fn install_with(dir: &Path, root: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.env("CARGO_TARGET_DIR", target_dir())
        .args(["install", "--offline", "--locked", "--path"])
        .arg(dir)
        .arg("--root")
        .arg(root);
    cmd
}

fn binary_in(root: &Path) -> PathBuf {
    common::spacegen_in(&root.join("bin"))
}

#[test]
fn the_packaged_crate_builds_alone_and_generates() {
    a_crate_packaged_without_the_copies_says_how_to_package_it();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("package");
    run_ok(
        Command::new("bash")
            .arg(repo_root().join(".ci/crate"))
            .args(["package", "--quiet", "--offline", "--target-dir"])
            .arg(&out),
    );
    assert!(
        !repo_root().join("generator/embedded").exists(),
        ".ci/crate left generator/embedded behind"
    );
    let crate_file = out
        .join("package")
        .join(format!("spacegen-{}.crate", env!("CARGO_PKG_VERSION")));
    let listing = run_ok(Command::new("tar").arg("-tzf").arg(&crate_file));
    let listing = String::from_utf8_lossy(&listing.stdout);
    let root = format!("spacegen-{}/", env!("CARGO_PKG_VERSION"));
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "README.md",
        "build.rs",
        "src/main.rs",
        "embedded/LICENSE",
        "embedded/spaces.lock",
        "embedded/blueprints/matrix.toml",
        "embedded/blueprints/matrix.index.toml",
        "embedded/blueprints/base/blueprint.toml",
        "embedded/blueprints/sqlite-demo/blueprint.toml",
        "embedded/blueprints/neon-qdrant-openai/blueprint.toml",
    ] {
        assert!(
            listing.lines().any(|l| l == format!("{root}{file}")),
            "the crate lacks {file}:\n{listing}"
        );
    }
    assert!(
        !listing
            .lines()
            .any(|l| l.contains("__pycache__") || l.ends_with(".pyc")),
        "the crate carries Python caches:\n{listing}"
    );
    // Everything embedded is the repository's own.
    for (packaged, shipped) in [
        ("embedded/spaces.lock", "spaces.lock"),
        ("embedded/blueprints/matrix.toml", "blueprints/matrix.toml"),
    ] {
        let unpacked = run_ok(
            Command::new("tar")
                .arg("-xzOf")
                .arg(&crate_file)
                .arg(format!("{root}{packaged}")),
        );
        assert_eq!(
            unpacked.stdout,
            std::fs::read(repo_root().join(shipped)).unwrap(),
            "{packaged} differs from {shipped}"
        );
    }

    let dir = unpack(&crate_file, tmp.path());
    let root = tmp.path().join("root");
    run_ok(&mut install(&dir, &root));
    let binary = binary_in(&root);
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let list = run_ok(Command::new(&binary).arg("list").current_dir(&elsewhere));
    let ours = run_ok(
        Command::new(env!("CARGO_BIN_EXE_spacegen"))
            .arg("list")
            .current_dir(&elsewhere),
    );
    assert_eq!(
        String::from_utf8_lossy(&list.stdout),
        String::from_utf8_lossy(&ours.stdout)
    );
    run_ok(
        Command::new(&binary)
            .args(["new", "--defaults", "from-crate"])
            .current_dir(&elsewhere),
    );
    run_ok(
        Command::new(env!("CARGO_BIN_EXE_spacegen"))
            .args(["new", "--defaults", "from-repository"])
            .current_dir(&elsewhere),
    );
    let (a, b) = (
        common::read_tree(&elsewhere.join("from-crate")),
        common::read_tree(&elsewhere.join("from-repository")),
    );
    let differing: Vec<&String> = a
        .keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .collect();
    assert!(differing.is_empty(), "the projects differ in {differing:?}");
}

/// Plain `cargo package` (run first: `.ci/crate` puts `generator/embedded` in the repository
/// for its time, which plain packaging would take).
fn a_crate_packaged_without_the_copies_says_how_to_package_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("package");
    run_ok(
        Command::new(env!("CARGO"))
            .current_dir(repo_root())
            .args([
                "package",
                "--quiet",
                "--locked",
                "--offline",
                "--allow-dirty",
                "--no-verify",
                "-p",
                "spacegen",
                "--target-dir",
            ])
            .arg(&out),
    );
    let crate_file = out
        .join("package")
        .join(format!("spacegen-{}.crate", env!("CARGO_PKG_VERSION")));
    let dir = unpack(&crate_file, tmp.path());
    let failed = install(&dir, &tmp.path().join("root")).output().unwrap();
    assert!(
        !failed.status.success(),
        "a crate without its blueprints built"
    );
    let said = String::from_utf8_lossy(&failed.stderr);
    assert!(said.contains("`.ci/crate package`"), "{said}");
}

/// The README's route from a checkout: `cargo install --locked --path generator` (here with
/// `--debug`, which takes the build the tests already made instead of a release build).
#[test]
fn cargo_install_from_the_checkout_works() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    run_ok(install_with(&repo_root().join("generator"), &root).arg("--debug"));
    let list = run_ok(
        Command::new(binary_in(&root))
            .arg("list")
            .current_dir(tmp.path()),
    );
    assert!(String::from_utf8_lossy(&list.stdout).contains("sqlite-demo"));
}

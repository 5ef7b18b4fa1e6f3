//! The JSON Schemas as an editor meets them: Taplo (the TOML toolkit behind Even Better TOML)
//! checks the shipped blueprint manifests and matrix through the `#:schema` line at their top,
//! and the machine-written `matrix.index.toml` through `.taplo.toml`. A copy of a file with a
//! wrong value, beside the same relative path to the schemas, must be rejected: that proves the
//! line is followed, not ignored.
//!
//! Needs `taplo` (`$SPACEGEN_TAPLO`, else `taplo` on the PATH; `pip install taplo`). Without it
//! the tests say they were skipped; with `SPACEGEN_REQUIRE_TAPLO` set (`.ci/run` sets it after
//! installing taplo) they fail instead.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The taplo to run, or `None` (said aloud) when there is none and none is required.
fn taplo() -> Option<PathBuf> {
    let taplo =
        std::env::var_os("SPACEGEN_TAPLO").map_or_else(|| PathBuf::from("taplo"), PathBuf::from);
    let found = Command::new(&taplo)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some(taplo);
    }
    assert!(
        std::env::var_os("SPACEGEN_REQUIRE_TAPLO").is_none(),
        "SPACEGEN_REQUIRE_TAPLO is set but {} does not run",
        taplo.display()
    );
    eprintln!(
        "SKIPPED: the editor schema tests need taplo (pip install taplo, or set SPACEGEN_TAPLO)"
    );
    None
}

/// `taplo check FILES…` run in `dir`, offline.
fn check(taplo: &Path, dir: &Path, files: &[&str]) -> Output {
    Command::new(taplo)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .args(["check", "--no-auto-config", "--colors", "never"])
        .args(if dir.join(".taplo.toml").is_file() {
            vec!["--config", ".taplo.toml"]
        } else {
            vec![]
        })
        .args(files)
        .output()
        .expect("taplo runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every hand-written and machine-written TOML file under `blueprints/`, relative to the
/// repository.
fn shipped() -> Vec<String> {
    let mut files: Vec<String> = fs::read_dir(repo().join("blueprints"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("blueprint.toml").is_file())
        .map(|p| {
            format!(
                "blueprints/{}/blueprint.toml",
                p.file_name().unwrap().to_string_lossy()
            )
        })
        .collect();
    files.sort();
    files.push("blueprints/matrix.toml".into());
    files.push("blueprints/matrix.index.toml".into());
    files
}

#[test]
fn taplo_accepts_every_shipped_file() {
    let Some(taplo) = taplo() else { return };
    let files = shipped();
    assert!(files.len() >= 7, "{files:?}");
    let names: Vec<&str> = files.iter().map(String::as_str).collect();
    let out = check(&taplo, &repo(), &names);
    assert!(out.status.success(), "{}", text(&out));
}

/// A folder laid out as the repository (`blueprints/`, `schemas/`, `.taplo.toml`), holding
/// `rel` with `edit` applied to the shipped text.
fn copy_with(rel: &str, edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join(rel);
    fs::create_dir_all(target.parent().unwrap()).unwrap();
    let shipped = fs::read_to_string(repo().join(rel)).unwrap();
    let edited = edit(&shipped);
    assert_ne!(edited, shipped, "the edit of {rel} changed nothing");
    fs::write(&target, edited).unwrap();
    fs::create_dir_all(dir.path().join("schemas")).unwrap();
    for e in fs::read_dir(repo().join("schemas")).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), dir.path().join("schemas").join(e.file_name())).unwrap();
    }
    fs::copy(repo().join(".taplo.toml"), dir.path().join(".taplo.toml")).unwrap();
    dir
}

/// Taplo refuses `rel` in `dir`, saying `said`.
fn assert_refused(taplo: &Path, dir: &Path, rel: &str, said: &str) {
    let out = check(taplo, dir, &[rel]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(said), "{}", text(&out));
}

#[test]
fn taplo_follows_the_schema_line_of_a_blueprint() {
    let Some(taplo) = taplo() else { return };
    let rel = "blueprints/sqlite-demo/blueprint.toml";
    let bad = copy_with(rel, |t| {
        t.replacen("version = \"", "version = 2\nold-version = \"", 1)
    });
    assert_refused(&taplo, bad.path(), rel, "is not of type \"string\"");
    // Without the schema line the same file passes: the line is what taplo followed.
    let unnamed = copy_with(rel, |t| {
        t.replacen("version = \"", "version = 2\nold-version = \"", 1)
            .lines()
            .skip(1)
            .collect::<Vec<_>>()
            .join("\n")
    });
    let out = check(&taplo, unnamed.path(), &[rel]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn taplo_follows_the_schema_line_of_the_matrix() {
    let Some(taplo) = taplo() else { return };
    let rel = "blueprints/matrix.toml";
    let bad = copy_with(rel, |t| format!("{t}\n[no-such-table]\nkey = 1\n"));
    assert_refused(&taplo, bad.path(), rel, "no-such-table");
}

#[test]
fn taplo_checks_the_index_through_its_configuration() {
    let Some(taplo) = taplo() else { return };
    let rel = "blueprints/matrix.index.toml";
    let bad = copy_with(rel, |t| {
        t.replacen("requires-python = \"", "requires-python = 3\nx = \"", 1)
    });
    assert_refused(&taplo, bad.path(), rel, "is not of type \"string\"");
}

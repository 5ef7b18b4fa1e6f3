//! Templates never crash, abort or hang the binary: every input under
//! `tests/fixtures/templates/crashers/` (a self-including partial, 10,000 nested tags, a huge
//! integer, a zero-column table, an unbounded loop, …) ends `spacegen new` with exit 3 and an
//! error naming the file and line, within a deadline and without a panic.
//!
//! A fixture is a folder laid over a minimal blueprint `custom` (with an integer variable `n`):
//! its `template/` and `partials/`, `rules.toml` appended to `blueprint.toml`, `answers.toml`
//! given with `--answers`, and `expect`, the `FILE:LINE` (relative to the blueprint folder) the
//! error must point at.

use crate::common;

use common::Test;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

const MANIFEST: &str = "[blueprint]\nname = \"custom\"\nversion = \"1.0.0\"\ndescription = \"t\"\n\n[[variables]]\nname = \"n\"\ntype = \"integer\"\nprompt = \"n\"\ndefault = 1\n";

fn crashers() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/templates/crashers")
}

/// Runs `spacegen new` over one fixture; `None` when it ended as it must, else what went wrong.
fn check(fixture: &Path) -> Option<String> {
    let name = fixture.file_name()?.to_string_lossy().into_owned();
    let expect = fs::read_to_string(fixture.join("expect")).expect("expect");
    let rules = fs::read_to_string(fixture.join("rules.toml")).unwrap_or_default();
    let t = Test::new().write("bps/custom/blueprint.toml", &format!("{MANIFEST}{rules}"));
    let bp = t.path().join("bps/custom");
    for part in ["template", "partials"] {
        if fixture.join(part).is_dir() {
            common::copy_dir(&fixture.join(part), &bp.join(part));
        }
    }
    common::write_custom_lock(t.path());
    let mut args = vec!["new", "--blueprint", "bps/custom", "out", "--defaults"];
    let answers = fixture.join("answers.toml");
    let answers = answers.display().to_string();
    if fixture.join("answers.toml").is_file() {
        args.extend(["--answers", &answers]);
    }
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(args)
        .run_within(Duration::from_secs(60));
    let pointed = format!("custom/{}:", expect.trim());
    let panicked = [
        "panicked",
        "overflow",
        "RUST_BACKTRACE",
        "memory allocation",
    ]
    .iter()
    .any(|p| run.stderr.contains(p));
    let points = run
        .stderr
        .lines()
        .any(|l| l.trim_start().starts_with("--> ") && l.contains(&pointed));
    if run.status == 3 && !panicked && points {
        None
    } else {
        Some(format!(
            "{name}: exit {} (want 3, an error at --> …{pointed}N, no panic)\n{}",
            run.status,
            tail(&run.stderr)
        ))
    }
}

fn tail(text: &str) -> String {
    let start = text.len().saturating_sub(1500);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    text[start..].to_owned()
}

#[test]
fn every_crasher_is_a_blueprint_error_at_its_file_and_line() {
    let mut fixtures: Vec<PathBuf> = fs::read_dir(crashers())
        .expect("crashers")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    fixtures.sort();
    assert!(fixtures.len() >= 10, "the crashers are there");
    let failures: Vec<String> = fixtures.iter().filter_map(|f| check(f)).collect();
    assert!(
        failures.is_empty(),
        "{} of {} crashers:\n\n{}",
        failures.len(),
        fixtures.len(),
        failures.join("\n\n")
    );
}

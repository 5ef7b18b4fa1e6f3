//! The Python rules of `spacegen check`, through the real binary: each rule's `bad` fixture
//! yields it at the expected place, its `good` fixture does not, and the projects spacegen
//! generates yield none of these rules.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Each Python rule, with the file and line its `bad` fixture shows it at.
const EXPECTED: &[(&str, &str, u64)] = &[
    ("SG201", "app/main.py", 7),
    ("SG202", "app/main.py", 7),
    ("SG203", "app/main.py", 7),
    ("SG204", "app/main.py", 7),
    ("SG205", "app/main.py", 5),
    ("SG206", "app/main.py", 6),
    ("SG207", "app/main.py", 3),
    ("SG208", ".env", 2),
    ("SG209", "app/debug.py", 5),
    ("SG210", "app/db.py", 4),
    ("SG211", "app/db.py", 3),
    ("SG212", "app/db.py", 3),
    ("SG213", "app/model.py", 1),
    ("SG214", "app/vectors.py", 9),
    ("SG215", "app/main.py", 3),
    ("SG216", "app/main.py", 3),
    ("SG217", "app/main.py", 4),
    ("SG218", "app/main.py", 5),
];

fn fixture(rule: &str, kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/check")
        .join(rule)
        .join(kind)
}

/// The findings of `spacegen check DIR --format json`.
fn findings(dir: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_spacegen"))
        .arg("check")
        .arg(dir)
        .args(["--format", "json"])
        .output()
        .expect("spacegen runs");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    json["findings"].as_array().cloned().unwrap_or_default()
}

fn of_rule<'a>(findings: &'a [Value], rule: &str) -> Vec<&'a Value> {
    findings.iter().filter(|f| f["rule"] == rule).collect()
}

#[test]
fn each_rule_fires_on_its_bad_fixture_at_the_expected_place() {
    for (rule, file, line) in EXPECTED {
        let found = findings(&fixture(rule, "bad"));
        let hits = of_rule(&found, rule);
        assert!(
            hits.iter()
                .any(|f| f["file"] == *file && f["line"].as_u64() == Some(*line)),
            "{rule}: expected at {file}:{line}, found {found:#?}"
        );
    }
}

#[test]
fn no_rule_fires_on_its_good_fixture() {
    for (rule, _, _) in EXPECTED {
        let found = findings(&fixture(rule, "good"));
        let hits = of_rule(&found, rule);
        assert!(hits.is_empty(), "{rule} on its good fixture: {hits:#?}");
    }
}

#[test]
fn every_python_rule_has_both_fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check");
    for (rule, _, _) in EXPECTED {
        for kind in ["bad", "good"] {
            assert!(
                fixture(rule, kind).is_dir(),
                "{}: no {rule}/{kind}",
                dir.display()
            );
        }
    }
}

#[test]
fn the_generated_projects_have_no_python_findings() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let variants: &[(&str, &[&str])] = &[
        ("default", &[]),
        ("openrouter", &["--blueprint", "openrouter"]),
        ("neon", &["--blueprint", "neon-qdrant-openai"]),
    ];
    for (name, extra) in variants {
        let out = tmp.path().join(name);
        let status = Command::new(env!("CARGO_BIN_EXE_spacegen"))
            .current_dir(tmp.path())
            .arg("new")
            .arg(&out)
            .arg("--defaults")
            .args(*extra)
            .output()
            .expect("spacegen runs");
        assert!(
            status.status.success(),
            "spacegen new {name}: {}",
            String::from_utf8_lossy(&status.stderr)
        );
        let found = findings(&out);
        let ours: Vec<&Value> = found
            .iter()
            .filter(|f| f["rule"].as_str().is_some_and(|r| r.starts_with("SG2")))
            .collect();
        assert!(ours.is_empty(), "{name}: {ours:#?}");
        assert!(out.join("app").is_dir(), "{name}: no app/ generated");
    }
}

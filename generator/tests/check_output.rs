//! `spacegen check` as users see it: human, JSON and SARIF output of a realistic project,
//! `--deny`, `--explain` and the exit codes.

use crate::common;

use common::{assert_run, Test};

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/check-projects/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The README and requirements findings of a run, as (rule, file, line), from its JSON.
fn findings(stdout: &str) -> Vec<(String, String, u64)> {
    let doc: serde_json::Value = serde_json::from_str(stdout).expect("JSON");
    assert_eq!(doc["version"], 1);
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_owned(),
                f["file"].as_str().unwrap_or_default().to_owned(),
                f["line"].as_u64().unwrap_or_default(),
            )
        })
        .filter(|(rule, _, _)| rule.starts_with("SG3") || rule.starts_with("SG4"))
        .collect()
}

#[test]
fn a_single_file_app_gets_each_finding_with_its_place() {
    let (run, _d) = Test::new()
        .args(["check", &fixture("single-file"), "--format", "json"])
        .status(1)
        .run();
    let found = findings(&run.stdout);
    for expected in [
        ("SG305", "README.md", 4),
        ("SG306", "README.md", 7),
        ("SG307", "README.md", 15),
        ("SG307", "README.md", 16),
        ("SG401", "requirements.txt", 1),
        ("SG401", "requirements.txt", 2),
        ("SG404", "requirements.txt", 4),
    ] {
        let expected = (expected.0.to_owned(), expected.1.to_owned(), expected.2);
        assert!(found.contains(&expected), "{expected:?} not in {found:?}");
    }
}

#[test]
fn human_output_reads_like_a_compiler() {
    let (run, _d) = Test::new()
        .args(["check", &fixture("single-file")])
        .status(1)
        .run();
    assert!(run.stdout.contains("error[SG305]: `colorFrom: orange` is not one of the eight colours\n  --> README.md:4\n"), "{}", run.stdout);
    assert!(
        run.stdout.contains("4 | colorFrom: orange\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("  = fix: pick `colorFrom`"),
        "{}",
        run.stdout
    );
}

#[test]
fn sarif_output_names_each_rule_and_place() {
    let (run, _d) = Test::new()
        .args(["check", &fixture("single-file"), "--format", "sarif"])
        .status(1)
        .run();
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("SARIF is JSON");
    assert_eq!(doc["version"], "2.1.0");
    let run0 = &doc["runs"][0];
    let rules = run0["tool"]["driver"]["rules"].as_array().expect("rules");
    assert!(rules.iter().any(|r| r["id"] == "SG305"));
    let results = run0["results"].as_array().expect("results");
    let colour = results
        .iter()
        .find(|r| r["ruleId"] == "SG305")
        .expect("an SG305 result");
    let place = &colour["locations"][0]["physicalLocation"];
    // The fixture is inside this repository: paths start at its root.
    assert_eq!(
        place["artifactLocation"]["uri"],
        "generator/tests/fixtures/check-projects/single-file/README.md"
    );
    assert_eq!(place["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(place["region"]["startLine"], 4);
    assert_eq!(colour["level"], "error");
}

#[test]
fn deny_decides_the_exit_status() {
    let good = format!(
        "{}/tests/fixtures/check/SG307/good/Dockerfile",
        env!("CARGO_MANIFEST_DIR")
    );
    let dockerfile = std::fs::read_to_string(good).expect("a good Dockerfile");
    let t = Test::new().write("p/Dockerfile", &dockerfile).write(
        "p/README.md",
        "---\nsdk: docker\n---\n```sh\nhuggingface-cli login\n```\n",
    );
    let dir = t.path().join("p").display().to_string();
    let (run, _d) = t
        .args(["check", &dir, "--deny", "error", "--format", "json"])
        .run();
    let found = findings(&run.stdout);
    assert!(found.iter().any(|(r, _, _)| r == "SG307"), "{found:?}");
    assert!(found.iter().all(|(r, _, _)| r != "SG305"), "{found:?}");
}

#[test]
fn explain_prints_a_rule_and_an_unknown_rule_is_a_usage_error() {
    let (run, _d) = Test::new().args(["check", "--explain", "SG305"]).run();
    assert_run("check-explain", &run);
    let (run, _d) = Test::new()
        .args(["check", "--explain", "readme-colors"])
        .run();
    assert!(
        run.stdout.starts_with("SG305 readme-colors (error)"),
        "{}",
        run.stdout
    );
    let (run, _d) = Test::new()
        .args(["check", "--explain", "SG999"])
        .status(2)
        .run();
    assert!(run.stderr.contains("no rule 'SG999'"), "{}", run.stderr);
}

#[test]
fn a_dir_that_is_not_a_folder_is_a_usage_error() {
    let (run, _d) = Test::new()
        .write("file.txt", "x")
        .args(["check", "file.txt"])
        .status(2)
        .run();
    assert!(run.stderr.contains("is not a folder"), "{}", run.stderr);
}

/// Runs `spacegen check NAME [--format FORMAT]` from the fixtures' folder, so the paths in the
/// output are relative, and snapshots each run as `check-NAME-FORMAT`.
fn snapshot_every_format(name: &str, status: i32) {
    let parent = format!(
        "{}/tests/fixtures/check-projects",
        env!("CARGO_MANIFEST_DIR")
    );
    for format in ["human", "json", "sarif"] {
        let mut args = vec!["check", name];
        if format != "human" {
            args.extend(["--format", format]);
        }
        let (run, _d) = Test::new().cwd(&parent).args(args).status(status).run();
        assert!(!run.stdout.contains(&parent), "{}", run.stdout);
        assert_run(&format!("check-{name}-{format}"), &run);
    }
}

#[test]
fn a_src_layout_project_with_a_root_image_and_a_neon_url() {
    snapshot_every_format("src-layout", 1);
}

#[test]
fn a_backend_folder_with_a_multi_stage_image() {
    snapshot_every_format("backend-multistage", 1);
}

#[test]
fn a_project_written_by_hand_the_idiomatic_way_has_no_findings() {
    snapshot_every_format("clean", 0);
}

#[test]
fn a_project_with_a_debug_endpoint_that_masks_by_splitting_at() {
    snapshot_every_format("debug-endpoint", 1);
}

/// Every finding's rule and severity, from a JSON run.
fn severities(stdout: &str) -> Vec<(String, String)> {
    let doc: serde_json::Value = serde_json::from_str(stdout).expect("JSON");
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_owned(),
                f["severity"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// An info finding (SG206: a risk no file proves) is printed but passes by default and with
/// `--deny warning`; `--deny info` fails on it; in SARIF it is a `note`. A warning passes by
/// default and fails with `--deny warning`.
#[test]
fn the_default_deny_passes_warnings_and_info_and_the_stricter_levels_fail() {
    let bad = format!(
        "{}/tests/fixtures/check/SG206/bad/app/main.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let main = std::fs::read_to_string(bad).expect("the SG206 fixture");
    let t = Test::new().write("p/app/main.py", &main);
    let dir = t.path().join("p").display().to_string();
    let (run, _d) = t.args(["check", &dir, "--format", "json"]).run();
    assert_eq!(
        severities(&run.stdout),
        [("SG206".to_owned(), "info".to_owned())]
    );
    let t = Test::new().write("p/app/main.py", &main);
    let dir = t.path().join("p").display().to_string();
    let (run, _d) = t.args(["check", &dir, "--deny", "warning"]).run();
    assert!(run.stdout.contains("info[SG206]"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("0 errors, 0 warnings, 1 info in 1 files"),
        "{}",
        run.stdout
    );
    let t = Test::new().write("p/app/main.py", &main);
    let dir = t.path().join("p").display().to_string();
    t.args(["check", &dir, "--deny", "info"]).status(1).run();
    let t = Test::new().write("p/app/main.py", &main);
    let dir = t.path().join("p").display().to_string();
    let (run, _d) = t.args(["check", &dir, "--format", "sarif"]).run();
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("SARIF");
    assert_eq!(doc["runs"][0]["results"][0]["level"], "note");

    let warning = format!(
        "{}/tests/fixtures/check/SG307/bad/README.md",
        env!("CARGO_MANIFEST_DIR")
    );
    let readme = std::fs::read_to_string(warning).expect("the SG307 fixture");
    let t = Test::new().write("q/README.md", &readme);
    let dir = t.path().join("q").display().to_string();
    let (run, _d) = t.args(["check", &dir, "--format", "json"]).run();
    assert!(
        severities(&run.stdout)
            .iter()
            .any(|(rule, severity)| rule == "SG307" && severity == "warning"),
        "{}",
        run.stdout
    );
    let t = Test::new().write("q/README.md", &readme);
    let dir = t.path().join("q").display().to_string();
    t.args(["check", &dir, "--deny", "warning"]).status(1).run();
}

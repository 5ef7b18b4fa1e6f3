//! The GitHub Actions workflows that cannot run here: every one must match GitHub's workflow
//! schema (check-jsonschema's vendored copy, offline), the release workflow must publish only
//! files it has tested, and only for a tag naming the crate's version; the scripts of its steps
//! that can run here are run (the wheel smoke test runs in `tests/wheel.rs`).
//!
//! The schema check needs check-jsonschema (`$SPACEGEN_CHECK_JSONSCHEMA`, else
//! `check-jsonschema` on the PATH; `pip install check-jsonschema`). Without it that test says it
//! was skipped; with `SPACEGEN_REQUIRE_CHECK_JSONSCHEMA` set (`.ci/run` sets it) it fails instead.

use crate::common;

use std::path::PathBuf;
use std::process::Command;

use common::{repo_root, workflow_step};
use yaml_rust2::{Yaml, YamlLoader};

fn workflows() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo_root().join(".github/workflows"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    files
}

fn release() -> Yaml {
    let text = std::fs::read_to_string(repo_root().join(".github/workflows/release.yml")).unwrap();
    YamlLoader::load_from_str(&text).unwrap().remove(0)
}

#[test]
fn every_workflow_matches_githubs_schema() {
    let tool = std::env::var_os("SPACEGEN_CHECK_JSONSCHEMA")
        .map_or_else(|| PathBuf::from("check-jsonschema"), PathBuf::from);
    let found = Command::new(&tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("SPACEGEN_REQUIRE_CHECK_JSONSCHEMA").is_none(),
            "SPACEGEN_REQUIRE_CHECK_JSONSCHEMA is set but {} does not run",
            tool.display()
        );
        eprintln!(
            "SKIPPED: the workflow schema test needs check-jsonschema (pip install check-jsonschema, or set SPACEGEN_CHECK_JSONSCHEMA)"
        );
        return;
    }
    let files = workflows();
    assert!(files.len() >= 2, "{files:?}");
    let out = Command::new(&tool)
        .args(["--builtin-schema", "vendor.github-workflows"])
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The check can fail: a step with a misspelt key is refused.
    let bad = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let wrong = bad.path().join("wrong.yml");
    std::fs::write(&wrong, text.replacen("runs-on:", "run-on:", 1)).unwrap();
    let out = Command::new(&tool)
        .args(["--builtin-schema", "vendor.github-workflows"])
        .arg(&wrong)
        .output()
        .unwrap();
    assert!(!out.status.success(), "a misspelt key passed");
}

fn needs(job: &Yaml) -> Vec<&str> {
    match &job["needs"] {
        Yaml::String(s) => vec![s.as_str()],
        Yaml::Array(a) => a.iter().filter_map(Yaml::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Publishing happens on a version tag only, after the version check and every build, each of
/// which tests what it built; nothing builds without `--locked`.
#[test]
fn release_publishes_only_tested_files_for_a_version_tag() {
    let doc = release();
    let jobs = doc["jobs"].as_hash().expect("jobs");
    let publish = &doc["jobs"]["publish"];
    assert_eq!(
        publish["if"].as_str(),
        Some("startsWith(github.ref, 'refs/tags/v')")
    );
    let mut wanted: Vec<&str> = jobs
        .keys()
        .filter_map(Yaml::as_str)
        .filter(|j| *j != "publish")
        .collect();
    wanted.sort_unstable();
    let mut has = needs(publish);
    has.sort_unstable();
    assert_eq!(has, wanted, "publish must wait for every other job");
    for job in ["wheels", "sdist"] {
        assert_eq!(needs(&doc["jobs"][job]), ["version"], "{job}");
    }
    // Trusted publishing: an OIDC token, no stored secret.
    assert_eq!(publish["permissions"]["id-token"].as_str(), Some("write"));
    let text = std::fs::read_to_string(repo_root().join(".github/workflows/release.yml")).unwrap();
    assert!(!text.contains("secrets."), "a stored secret is used");
    // Every wheel the runner can run is run; the others are built for another architecture.
    let include = doc["jobs"]["wheels"]["strategy"]["matrix"]["include"]
        .as_vec()
        .unwrap();
    let targets: Vec<String> = include
        .iter()
        .map(|m| {
            format!(
                "{}/{}",
                m["os"].as_str().unwrap(),
                m["target"].as_str().unwrap()
            )
        })
        .collect();
    for wanted in [
        "ubuntu-latest/x86_64",
        "ubuntu-latest/aarch64",
        "macos-14/x86_64",
        "macos-14/aarch64",
        "windows-latest/x64",
    ] {
        assert!(
            targets.iter().any(|t| t == wanted),
            "no wheel for {wanted}: {targets:?}"
        );
    }
    for m in include {
        let native = matches!(
            (m["os"].as_str().unwrap(), m["target"].as_str().unwrap()),
            ("ubuntu-latest", "x86_64") | ("macos-14", "aarch64") | ("windows-latest", "x64")
        );
        assert_eq!(m["runs"].as_bool(), Some(native), "{m:?}");
    }
    let build = doc["jobs"]["wheels"]["steps"]
        .as_vec()
        .unwrap()
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("PyO3/maturin-action"))
        })
        .expect("a maturin build step");
    assert!(
        build["with"]["args"].as_str().unwrap().contains("--locked"),
        "{build:?}"
    );
    let smoke = workflow_step(
        "release.yml",
        "sdist",
        "a wheel built from the sdist runs offline",
    );
    assert!(smoke.contains("pip wheel") && smoke.contains("spacegen new --defaults"));
}

/// The version step's own script, run here: the crate's version passes, any other fails and
/// says which.
#[test]
fn a_tag_must_name_the_crates_version() {
    let script = workflow_step(
        "release.yml",
        "version",
        "a version tag names the crate's version",
    );
    let run = |tag: &str| {
        Command::new("bash")
            .args(["-euo", "pipefail", "-c", &script])
            .current_dir(repo_root())
            .env("GITHUB_REF_NAME", tag)
            .output()
            .unwrap()
    };
    let ours = run(&format!("v{}", env!("CARGO_PKG_VERSION")));
    assert!(
        ours.status.success(),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    let other = run("v99.0.0");
    assert!(
        !other.status.success(),
        "a tag naming another version passed"
    );
    let said = String::from_utf8_lossy(&other.stderr);
    assert!(
        said.contains("tag v99.0.0 does not name the crate's version")
            && said.contains(env!("CARGO_PKG_VERSION")),
        "{said}"
    );
}

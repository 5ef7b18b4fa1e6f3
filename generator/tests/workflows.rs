//! The GitHub Actions workflows that cannot run here: every one must match GitHub's workflow
//! schema (check-jsonschema's vendored copy, offline), the repository's own and those every
//! blueprint generates with its workflows turned on; the release workflow must publish only
//! files it has tested, and only for a tag naming the crate's version; the scripts of its steps
//! that can run here are run (the wheel smoke test runs in `tests/wheel.rs`, the generated
//! update script in `tests/update_workflow.rs`).
//!
//! The schema check needs check-jsonschema (`$SPACEGEN_CHECK_JSONSCHEMA`, else
//! `check-jsonschema` on the PATH; `pip install check-jsonschema`). Without it that test says it
//! was skipped; with `SPACEGEN_REQUIRE_CHECK_JSONSCHEMA` set (`.ci/run` sets it) it fails instead.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{repo_root, workflow_step, Test};
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

/// check-jsonschema, or `None` (the test says it was skipped) when it does not run and
/// `SPACEGEN_REQUIRE_CHECK_JSONSCHEMA` is not set.
fn check_jsonschema() -> Option<PathBuf> {
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
        return None;
    }
    Some(tool)
}

/// Checks `files` against GitHub's workflow schema, failing with check-jsonschema's words.
fn assert_match_githubs_schema(tool: &Path, files: &[PathBuf]) {
    let out = Command::new(tool)
        .args(["--builtin-schema", "vendor.github-workflows"])
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_workflow_matches_githubs_schema() {
    let Some(tool) = check_jsonschema() else {
        return;
    };
    let files = workflows();
    assert!(files.len() >= 2, "{files:?}");
    assert_match_githubs_schema(&tool, &files);
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

/// The workflows every shipped blueprint writes with all of them turned on.
const GENERATED: [&str; 2] = ["spacegen-update.yml", "sync-to-hub.yml"];

/// A project of every blueprint `spacegen list` shows, with every workflow turned on, in a
/// folder of its own: `(blueprint, folder)`.
fn generated_with_workflows() -> Vec<(String, tempfile::TempDir)> {
    let (list, _dir) = Test::new().args(["list", "--format", "json"]).run();
    let list: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    let names: Vec<String> = list["blueprints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(!names.is_empty());
    names
        .into_iter()
        .map(|name| {
            let (_run, dir) = Test::new()
                .args(["new", "out", "--defaults", "--blueprint", &name])
                .var("github_sync", "true")
                .var("github_update", "true")
                .run();
            (name, dir)
        })
        .collect()
}

#[test]
fn every_generated_workflow_matches_githubs_schema() {
    let projects = generated_with_workflows();
    let Some(tool) = check_jsonschema() else {
        return;
    };
    for (name, dir) in &projects {
        let files: Vec<PathBuf> = GENERATED
            .iter()
            .map(|f| dir.path().join("out/.github/workflows").join(f))
            .collect();
        for file in &files {
            assert!(file.is_file(), "{name}: {} was not written", file.display());
        }
        assert_match_githubs_schema(&tool, &files);
    }
}

/// The weekly update: a schedule at a fixed minute off the hour, a manual run, one run at a
/// time, no permission for the workflow as a whole and only what pushing a branch and opening
/// a pull request need for its one job, actions pinned to a major version as sync-to-hub pins
/// them, the newest spacegen installed the way the README documents, then the script.
#[test]
fn the_generated_update_workflow_asks_for_least_and_runs_its_script() {
    for (name, dir) in generated_with_workflows() {
        let out = dir.path().join("out");
        let text =
            std::fs::read_to_string(out.join(".github/workflows/spacegen-update.yml")).unwrap();
        let doc = YamlLoader::load_from_str(&text).unwrap().remove(0);
        let cron = doc["on"]["schedule"][0]["cron"]
            .as_str()
            .expect("a schedule");
        let fields: Vec<&str> = cron.split_whitespace().collect();
        assert_eq!(fields.len(), 5, "{name}: {cron}");
        let minute: u32 = fields[0].parse().expect("a fixed minute");
        assert!(
            minute != 0 && minute < 60,
            "{name}: {cron} runs on the hour"
        );
        assert!(
            fields[1].parse::<u32>().is_ok(),
            "{name}: {cron}: a fixed hour"
        );
        assert_eq!(&fields[2..4], ["*", "*"], "{name}: {cron}");
        assert!(
            fields[4].parse::<u32>().is_ok_and(|d| d < 7),
            "{name}: {cron}: once a week"
        );
        assert!(
            doc["on"]
                .as_hash()
                .unwrap()
                .contains_key(&Yaml::String("workflow_dispatch".into())),
            "{name}"
        );
        assert_eq!(
            doc["permissions"].as_hash().map(|h| h.len()),
            Some(0),
            "{name}: the workflow as a whole gets nothing"
        );
        assert!(doc["concurrency"]["group"].as_str().is_some(), "{name}");
        let jobs = doc["jobs"].as_hash().unwrap();
        assert_eq!(jobs.len(), 1, "{name}");
        let job = jobs.values().next().unwrap();
        let permissions = job["permissions"].as_hash().expect("the job's permissions");
        let mut granted: Vec<(&str, &str)> = permissions
            .iter()
            .map(|(k, v)| (k.as_str().unwrap(), v.as_str().unwrap()))
            .collect();
        granted.sort_unstable();
        assert_eq!(
            granted,
            [("contents", "write"), ("pull-requests", "write")],
            "{name}"
        );
        let steps = job["steps"].as_vec().unwrap();
        let uses: Vec<&str> = steps.iter().filter_map(|s| s["uses"].as_str()).collect();
        assert_eq!(
            uses,
            ["actions/checkout@v6"],
            "{name}: only checkout; gh opens the pull request"
        );
        let runs: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
        assert!(
            runs.iter().any(|r| r.contains("pipx install spacegen")),
            "{name}: {runs:?}"
        );
        assert_eq!(
            runs.last().map(|r| r.trim()),
            Some(".github/scripts/spacegen-update.sh"),
            "{name}"
        );
        let script = out.join(".github/scripts/spacegen-update.sh");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&script).unwrap().permissions().mode();
            assert_eq!(mode & 0o111, 0o111, "{name}: the script is not executable");
        }
        assert!(script.is_file(), "{name}");
        assert_eq!(
            steps.last().unwrap()["env"]["GH_TOKEN"].as_str(),
            Some("${{ github.token }}"),
            "{name}"
        );
    }
}

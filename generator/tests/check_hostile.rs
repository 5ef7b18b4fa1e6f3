//! `spacegen check` over hostile trees: whatever a folder holds (an alias bomb in the README's
//! header, brackets nested 30,000 deep, a requirement name pep508_rs panics on, a stray
//! non-UTF-8 byte, files over the size budget, credentials in `.env`), the run ends with its
//! usual exit status and says where, never crashes, never prints a secret, and names every file
//! it did not read. The inputs are made here, so their sizes are stated in the code.

use crate::common;

use common::{Run, Test};
use std::time::Duration;

const README: &str = "---\ntitle: T\nsdk: docker\napp_port: 7860\n---\n# T\n";
const DOCKERFILE: &str = "FROM python:3.11-slim\nRUN useradd -m -u 1000 user\nUSER user\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\nCMD [\"uvicorn\", \"app:app\", \"--host\", \"0.0.0.0\", \"--port\", \"7860\", \"--forwarded-allow-ips\", \"*\"]\n";
const APP: &str = "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get(\"/\")\ndef root():\n    return {}\n\n\n@app.get(\"/health\")\ndef health():\n    return {}\n";

/// A small project with no findings, for hostile files to be laid over.
fn project() -> Test {
    Test::new()
        .write("README.md", README)
        .write("Dockerfile", DOCKERFILE)
        .write("requirements.txt", "fastapi==0.115.0\nuvicorn==0.30.0\n")
        .write("app.py", APP)
}

/// Runs `check . ARGS` and asserts it ended by itself, without a crash; the folder lives as
/// long as the `TempDir` returned.
fn check(t: Test, args: &[&str]) -> (Run, tempfile::TempDir) {
    let mut all = vec!["check", "."];
    all.extend(args);
    let (run, dir) = t.args(all).run_within(Duration::from_secs(60));
    assert!(
        run.status == 0 || run.status == 1,
        "exit {}\n--- stdout\n{}\n--- stderr\n{}",
        run.status,
        run.stdout,
        run.stderr
    );
    for crash in [
        "panicked",
        "overflow",
        "memory allocation",
        "deadline exceeded",
    ] {
        assert!(!run.stderr.contains(crash), "{}", run.stderr);
    }
    (run, dir)
}

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).expect("JSON")
}

#[test]
fn the_hostile_project_base_has_no_findings() {
    let (run, _d) = check(project(), &[]);
    assert!(run.stdout.contains("no findings"), "{}", run.stdout);
}

/// Ten levels of nine aliases each: 9^10 nodes once expanded, from under 500 bytes.
#[test]
fn an_alias_bomb_in_the_readme_header_is_refused_at_its_line() {
    let mut header = String::from("---\nsdk: docker\na0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        header.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    header.push_str("---\n# T\n");
    assert!(header.len() < 600);
    let (run, _d) = check(project().write("README.md", &header), &[]);
    assert!(
        run.stdout
            .contains("error[SG302]: the header uses more than 16 YAML aliases"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("--> README.md:"), "{}", run.stdout);
}

/// Brackets 30,000 deep, and other expressions as deep, in the Python code: the file is named
/// as not read, at its line, and the rest of the project is still checked.
#[test]
fn python_nested_beyond_the_budget_is_named_not_parsed() {
    for deep in [
        format!("{}{}", "[".repeat(30_000), "]".repeat(30_000)),
        vec!["1"; 100_000].join(" + "),
        format!("{}x", "-".repeat(100_000)),
    ] {
        let app = format!("{APP}\nx = {deep}\n");
        let t = project()
            .write("app.py", &app)
            .write("Dockerfile", &DOCKERFILE.replace("\"7860\"", "\"8000\""));
        let (run, _d) = check(t, &["--format", "json"]);
        let doc = json(&run);
        let unread = &doc["not_read"][0];
        assert_eq!(unread["file"], "app.py", "{doc}");
        assert_eq!(unread["line"], 15, "{doc}");
        assert!(
            unread["reason"]
                .as_str()
                .is_some_and(|r| r.contains("nested")),
            "{doc}"
        );
        assert!(
            doc["findings"]
                .as_array()
                .is_some_and(|f| f.iter().any(|f| f["file"] == "Dockerfile")),
            "{doc}"
        );
    }
}

/// pep508_rs reads `fastapi-` as a name and panics on it: every place check reads requirements
/// (requirements files, pyproject.toml, `pip install` in a Dockerfile) treats it as invalid.
#[test]
fn a_requirement_name_ending_in_a_separator_is_not_a_crash() {
    let t = project()
        .write("requirements.txt", "fastapi-==1.0\nuvicorn-[x]>=0.30\n")
        .write(
            "pyproject.toml",
            "[project]\nname = \"x\"\nversion = \"1\"\ndependencies = [\"fastapi-==1.0\"]\n",
        )
        .write(
            "Dockerfile",
            &DOCKERFILE.replace(
                "RUN pip install",
                "RUN pip install fastapi-==1.0 && pip install",
            ),
        );
    let _ = check(t, &[]);
}

/// One byte that is not UTF-8 in a comment does not hide the Dockerfile's defects.
#[test]
fn a_dockerfile_with_a_stray_byte_is_still_checked() {
    let t = project();
    let bad = DOCKERFILE
        .replace("USER user\n", "USER user\n# caf\u{0}\n")
        .replace("\"7860\"", "\"8000\"");
    let mut bytes = bad.into_bytes();
    let at = bytes.iter().position(|b| *b == 0).expect("marker");
    bytes[at] = 0xe9;
    std::fs::write(t.path().join("Dockerfile"), bytes).expect("write");
    let (run, _d) = check(t, &[]);
    assert!(run.stdout.contains("--> Dockerfile:"), "{}", run.stdout);
}

/// Files over the 2 MiB budget: the README's header and the Dockerfile are still read (their
/// first 2 MiB), other files are not; each is named in every format.
#[test]
fn files_over_the_size_budget_are_named_in_every_format() {
    let padding = "x: y\n".repeat(600_000);
    let readme = format!("---\nsdk: docker\napp_port: 99999\n{padding}---\n# T\n");
    let data = format!("ROWS = [\n{}]\n", "    1,\n".repeat(400_000));
    let t = project()
        .write("README.md", &readme)
        .write("data.py", &data);
    let (run, kept) = check(t, &["--format", "json"]);
    let dir = kept.path().to_path_buf();
    let doc = json(&run);
    let unread: Vec<(String, String)> = doc["not_read"]
        .as_array()
        .expect("not_read")
        .iter()
        .map(|u| {
            (
                u["file"].as_str().unwrap_or_default().to_owned(),
                u["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert!(
        unread
            .iter()
            .any(|(f, r)| f == "README.md" && r.contains("only the first 2 MiB")),
        "{unread:?}"
    );
    assert!(
        unread
            .iter()
            .any(|(f, r)| f == "data.py" && r.contains("larger than 2 MiB")),
        "{unread:?}"
    );
    assert!(
        !run.stdout.contains("SG301"),
        "the README was read: {}",
        run.stdout
    );
    let (human, _d) = Test::new()
        .cwd(&dir)
        .args(["check", "."])
        .run_within(Duration::from_secs(60));
    assert!(
        human
            .stdout
            .contains("note: data.py: not read: larger than 2 MiB"),
        "{}",
        human.stdout
    );
    let (sarif, _d) = Test::new()
        .cwd(&dir)
        .args(["check", ".", "--format", "sarif"])
        .run_within(Duration::from_secs(60));
    let doc: serde_json::Value = serde_json::from_str(&sarif.stdout).expect("SARIF");
    let notes = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .expect("notifications");
    assert!(
        notes
            .iter()
            .any(|n| n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "data.py"),
        "{doc}"
    );
}

/// The snippet under a finding masks credentials as its message does.
#[test]
fn snippets_do_not_print_the_secrets_the_messages_mask() {
    let key = "sk-proj-Zq8vN3kLw2RtY7uXb5Hc9JmD4sFgA1eP";
    let password = "Hx7wQp2zLm9vRt";
    let env = format!(
        "OPENAI_API_KEY={key}\nDATABASE_URL=postgresql://app:{password}@db.prod-cluster.io:5432/app\n"
    );
    let (run, _d) = check(project().write(".env", &env), &[]);
    assert!(run.stdout.contains("--> .env:1"), "{}", run.stdout);
    assert!(!run.stdout.contains(key), "{}", run.stdout);
    assert!(!run.stdout.contains(password), "{}", run.stdout);
}

/// SARIF results point into `tool.driver.rules` and are relative to `%SRCROOT%`, the root of
/// the git repository holding the checked folder, so a check of `backend/` lands on
/// `backend/...` in code scanning.
#[test]
fn sarif_results_carry_rule_indexes_and_repository_paths() {
    let t = Test::new()
        .write(".git/HEAD", "ref: refs/heads/main\n")
        .write("backend/README.md", README)
        .write(
            "backend/Dockerfile",
            &DOCKERFILE.replace("\"7860\"", "\"8000\""),
        )
        .write(
            "backend/requirements.txt",
            "fastapi==0.115.0\nuvicorn==0.30.0\n",
        )
        .write("backend/app.py", APP);
    let (run, _d) = t
        .args(["check", "backend", "--format", "sarif"])
        .run_within(Duration::from_secs(60));
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("SARIF");
    let run0 = &doc["runs"][0];
    assert!(
        run0["originalUriBaseIds"]["%SRCROOT%"].is_object(),
        "{run0}"
    );
    let rules = run0["tool"]["driver"]["rules"].as_array().expect("rules");
    let results = run0["results"].as_array().expect("results");
    assert!(!results.is_empty(), "{run0}");
    for r in results {
        let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        let artifact = &r["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(artifact["uriBaseId"], "%SRCROOT%");
        assert_eq!(artifact["uri"], "backend/Dockerfile");
    }
}

/// Python over 512 KiB is data, and its tree would take over fifty times its size in memory:
/// it is named, not parsed.
#[test]
fn python_over_the_parse_budget_is_named_not_parsed() {
    let data = format!("ROWS = [\n{}]\n", "    1,\n".repeat(200_000));
    assert!(data.len() > 1 << 20 && data.len() < 2 << 20);
    let (run, _d) = check(project().write("data.py", &data), &["--format", "json"]);
    let doc = json(&run);
    assert_eq!(doc["not_read"][0]["file"], "data.py", "{doc}");
    assert_eq!(
        doc["not_read"][0]["reason"],
        "not checked: Python larger than 512 KiB (1.3 MiB) is not parsed",
        "{doc}"
    );
}

/// Past 2 MiB of Python in a project, further Python files are named, not parsed: the facts
/// kept from each file add up.
#[test]
fn python_past_the_project_parse_budget_is_named_not_parsed() {
    let data = "x = 1\n".repeat(75_000);
    let mut t = project();
    for i in 0..5 {
        t = t.write(&format!("data/d{i}.py"), &data);
    }
    let (run, _d) = check(t, &["--format", "json"]);
    let doc = json(&run);
    let left_out: Vec<&str> = doc["not_read"]
        .as_array()
        .expect("not_read")
        .iter()
        .filter(|n| n["reason"] == "not checked: the check parses at most 2 MiB of Python")
        .filter_map(|n| n["file"].as_str())
        .collect();
    assert_eq!(left_out, ["data/d4.py"], "{doc}");
}

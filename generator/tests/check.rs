//! `spacegen check` end to end: every rule's failing fixture yields that rule (at the line its
//! `.expect` names), its passing fixture yields none of it, and the projects spacegen itself
//! generates yield no findings at all.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check")
}

/// The findings of `spacegen check DIR --format json`, as (rule, file, line).
fn findings(dir: &Path) -> Vec<(String, String, u64)> {
    let json = check_json(dir);
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["file"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The JSON report of `spacegen check DIR`. A fixture is judged as a folder of its own: git's
/// search for a repository stops at the fixtures, so this repository's index (which tracks
/// every fixture file) is not read.
fn check_json(dir: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_spacegen"))
        .arg("check")
        .arg(dir)
        .args(["--format", "json"])
        .env("GIT_CEILING_DIRECTORIES", fixtures())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "{}: not JSON ({e}): {stdout}\n{}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    json
}

/// `bad/.expect`: lines of `RULE FILE:LINE`.
fn expected(dir: &Path) -> Vec<(String, String, u64)> {
    let Ok(text) = std::fs::read_to_string(dir.join(".expect")) else {
        return Vec::new();
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (rule, place) = l.trim().split_once(' ').unwrap();
            let (file, line) = place.rsplit_once(':').unwrap();
            (rule.to_owned(), file.to_owned(), line.parse().unwrap())
        })
        .collect()
}

#[test]
fn every_rule_fails_its_bad_fixture_and_passes_its_good_one() {
    let mut rules: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    rules.sort();
    assert!(!rules.is_empty());
    let mut problems = Vec::new();
    for dir in rules {
        let rule = dir.file_name().unwrap().to_string_lossy().into_owned();
        // `bad/` and `good/`, and more cases as `bad-<case>/` and `good-<case>/`.
        let mut cases: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("bad") || n.starts_with("good"))
            .collect();
        cases.sort();
        for case in cases {
            let found = findings(&dir.join(&case));
            if case.starts_with("bad") {
                if !found.iter().any(|(r, _, _)| *r == rule) {
                    problems.push(format!("{rule}: {case}/ does not yield it: {found:?}"));
                }
                for want in expected(&dir.join(&case)) {
                    if !found.contains(&want) {
                        problems.push(format!("{rule}: {case}/ lacks {want:?}: {found:?}"));
                    }
                }
            } else if found.iter().any(|(r, _, _)| *r == rule) {
                problems.push(format!("{rule}: {case}/ yields it: {found:?}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every rule spacegen has, as its SARIF output lists them.
fn rule_ids() -> Vec<String> {
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_spacegen"))
        .arg("check")
        .arg(empty.path())
        .args(["--format", "sarif"])
        .output()
        .unwrap();
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn every_rule_has_a_failing_and_a_passing_fixture_with_its_place() {
    let ids = rule_ids();
    assert!(ids.len() >= 40, "{ids:?}");
    for id in ids {
        let dir = fixtures().join(&id);
        assert!(dir.join("good").is_dir(), "{id}: no good/ fixture");
        assert!(
            !expected(&dir.join("bad")).is_empty(),
            "{id}: no bad/.expect naming where it is found"
        );
    }
}

#[test]
fn generated_projects_have_no_findings() {
    let blueprints = Path::new(env!("CARGO_MANIFEST_DIR")).join("../blueprints");
    let mut names: Vec<String> = std::fs::read_dir(&blueprints)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            std::fs::read_to_string(p.join("blueprint.toml"))
                .is_ok_and(|t| !t.contains("kind = \"layer\""))
        })
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(!names.is_empty());
    let tmp = tempfile::tempdir().unwrap();
    for name in names {
        let dest = tmp.path().join(&name);
        let out = Command::new(env!("CARGO_BIN_EXE_spacegen"))
            .arg("new")
            .arg(&dest)
            .args(["--defaults", "--blueprint", &name])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "spacegen new --blueprint {name} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(findings(&dest), vec![], "blueprint {name}");
    }
}

#[test]
fn the_readme_lists_every_rule_with_its_name_and_severity() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_spacegen"))
        .arg("check")
        .arg(empty.path())
        .args(["--format", "sarif"])
        .output()
        .unwrap();
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    for rule in sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
    {
        // SARIF calls the info severity `note`; the README names severities as spacegen does.
        let level = match rule["defaultConfiguration"]["level"].as_str().unwrap() {
            "note" => "info",
            level => level,
        };
        let row = format!(
            "| {} | `{}` | {} |",
            rule["id"].as_str().unwrap(),
            rule["name"].as_str().unwrap(),
            level
        );
        assert!(readme.contains(&row), "README lacks the row {row}");
    }
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A `.env` committed before `.gitignore` listed it is still published: git's index, not
/// `.gitignore`, says what a push carries. Checked from a folder inside the repository.
#[test]
fn a_committed_env_file_that_gitignore_lists_is_found_through_the_index() {
    let repo = tempfile::tempdir().unwrap();
    let backend = repo.path().join("backend");
    std::fs::create_dir_all(&backend).unwrap();
    let key = format!("sk-proj-{}", "aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xY");
    std::fs::write(backend.join(".env"), format!("OPENAI_API_KEY={key}\n")).unwrap();
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-qm", "first"]);
    std::fs::write(backend.join(".gitignore"), ".env\n").unwrap();
    let json = check_json(&backend);
    let found: Vec<&Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "SG208")
        .collect();
    assert_eq!(found.len(), 1, "{json:#}");
    assert_eq!(
        (&found[0]["file"], &found[0]["line"]),
        (&Value::from(".env"), &Value::from(1))
    );
    let message = found[0]["message"].as_str().unwrap();
    assert!(
        message.contains("git tracks although .gitignore lists it"),
        "{message}"
    );
    assert!(!message.contains(&key), "the key is masked: {message}");
    // Once untracked, the same files are fine.
    git(repo.path(), &["rm", "-q", "--cached", "backend/.env"]);
    assert!(findings(&backend).iter().all(|f| f.0 != "SG208"));
    // An index that cannot be read is named, and the check falls back to `.gitignore`.
    std::fs::write(repo.path().join(".git/index"), b"DIRC\0\0\0\x02\xff").unwrap();
    let json = check_json(&backend);
    let not_read = json["not_read"].to_string();
    assert!(not_read.contains("../.git/index"), "{json:#}");
    assert!(findings(&backend).iter().all(|f| f.0 != "SG208"));
}

/// The bodies of a Markdown section's code blocks in language `lang`, in order. A fence is a
/// line of three or more backticks; a block closes at a line of as many (so a block fenced with
/// four holds lines of three).
fn fenced(section: &str, lang: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, bool, String)> = None;
    for line in section.lines() {
        let ticks = line.len() - line.trim_start_matches('`').len();
        match &mut open {
            None if ticks >= 3 => open = Some((ticks, &line[ticks..] == lang, String::new())),
            Some((fence, wanted, body)) => {
                if ticks >= *fence && line[ticks..].trim().is_empty() {
                    if *wanted {
                        blocks.push(std::mem::take(body));
                    }
                    open = None;
                } else {
                    body.push_str(line);
                    body.push('\n');
                }
            }
            None => {}
        }
    }
    blocks
}

/// CONTRIBUTING.md's "Adding a rule" shows the rule's file, the lines that declare and register
/// it, its fixtures and its README row: each is what the tree holds, and the rule reports its
/// fixture as the recipe says.
#[test]
fn the_adding_a_rule_recipe_is_the_code_it_shows() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let read = |path: &str| std::fs::read_to_string(repo.join(path)).unwrap();
    let contributing = read("CONTRIBUTING.md");
    let section = &contributing[contributing
        .find("## Adding a rule to `spacegen check`")
        .expect("the recipe")..];
    let rust = fenced(section, "rust");
    let text = fenced(section, "text");
    assert_eq!(
        rust.len(),
        3,
        "the rule's file, its declaration, its registration"
    );
    // The file the recipe names is the code it shows.
    let step = &section[section
        .find("1. **Write the rule's file**")
        .expect("step 1")..];
    let file = step
        .split('`')
        .find(|s| s.starts_with("generator/src/check/rules/") && s.ends_with(".rs"))
        .expect("the rule's path");
    assert_eq!(rust[0], read(file), "{file} differs from the recipe");
    let family = Path::new(file).parent().unwrap().join("mod.rs");
    let declared = read(family.to_str().unwrap());
    assert!(
        declared.lines().any(|l| l == rust[1].trim_end()),
        "{}",
        rust[1]
    );
    let registry = read("generator/src/check/rules/registry.rs");
    assert!(
        registry.lines().any(|l| l == rust[2].trim_end()),
        "{}",
        rust[2]
    );
    // The fixtures shown are the fixtures on disk.
    let expect: Vec<&str> = text[0]
        .lines()
        .skip_while(|l| *l != "# bad/.expect")
        .skip(1)
        .take_while(|l| !l.starts_with('#'))
        .collect();
    let rule = expect[0].split(' ').next().unwrap();
    let fixtures = repo.join("generator/tests/fixtures/check").join(rule);
    let mut current: Option<String> = None;
    let mut shown: Vec<(String, String)> = Vec::new();
    for line in text[0].lines() {
        if let Some(path) = line.strip_prefix("# ") {
            current = Some(path.to_owned());
            shown.push((path.to_owned(), String::new()));
        } else if current.is_some() {
            let (_, body) = shown.last_mut().unwrap();
            body.push_str(line);
            body.push('\n');
        }
    }
    for (path, body) in &shown {
        let on_disk = std::fs::read_to_string(fixtures.join(path)).unwrap();
        assert_eq!(&on_disk, body, "{rule}/{path} differs from the recipe");
    }
    assert!(
        read("README.md").contains(text[1].trim_end()),
        "the README row"
    );
    // The rule reports its fixture as shown, and explains itself.
    let found: Vec<String> = findings(&fixtures.join("bad"))
        .into_iter()
        .map(|(r, f, l)| format!("{r} {f}:{l}"))
        .collect();
    assert_eq!(found, expect);
    let explain = Command::new(env!("CARGO_BIN_EXE_spacegen"))
        .args(["check", "--explain", rule])
        .output()
        .unwrap();
    let explain = String::from_utf8_lossy(&explain.stdout);
    for heading in ["## What it does", "## Why it breaks a Space", "## Fix"] {
        assert!(explain.contains(heading), "{explain}");
    }
}

//! spacegen's history of earlier blueprint releases, through the real binary: every earlier
//! release generates (`new --blueprint NAME@VERSION`), a project of it is edited as users do
//! and updated three-way against that release; `spacegen lock --check` holds the history to
//! the lock, and `history record` brings it back in line.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::common::{copy_dir, read_tree, repo_root, Test};

/// `spacegen history --format json`'s releases: (blueprint, version, current).
fn releases() -> Vec<(String, String, bool)> {
    let (run, _d) = Test::new().args(["history", "--format", "json"]).run();
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    json["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["blueprint"].as_str().unwrap().to_owned(),
                r["version"].as_str().unwrap().to_owned(),
                r["current"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn append(file: &Path, text: &str) {
    let old = fs::read_to_string(file).unwrap();
    fs::write(file, old + text).unwrap();
}

fn prepend(file: &Path, text: &str) {
    let old = fs::read_to_string(file).unwrap();
    fs::write(file, format!("{text}{old}")).unwrap();
}

/// The history holds the three blueprints at today's versions and the releases before them,
/// sqlite-demo 0.1.0 and 0.2.0 among them.
#[test]
fn the_history_lists_every_release_and_marks_the_embedded_ones() {
    let all = releases();
    for name in ["sqlite-demo", "openrouter", "neon-qdrant-openai"] {
        let current = all.iter().filter(|(b, _, c)| b == name && *c).count();
        assert_eq!(current, 1, "{name}: one embedded release in {all:?}");
        assert!(
            all.iter().any(|(b, _, c)| b == name && !c),
            "{name}: no earlier release in {all:?}"
        );
    }
    for version in ["0.1.0", "0.2.0"] {
        assert!(
            all.iter()
                .any(|(b, v, c)| b == "sqlite-demo" && v == version && !c),
            "sqlite-demo {version} in {all:?}"
        );
    }
    let (run, _d) = Test::new().args(["history"]).run();
    run.stdout_has("sqlite-demo@0.1.0");
    run.stdout_has("(the embedded blueprint)");
}

/// Every earlier release generates; the project, edited in three places (a line added at the
/// end of the README, a comment above `.env.example`, a file of the user's) with one file
/// deleted, updates three-way against that release: every edit kept, the deleted file still
/// deleted, the record at today's version, and `outdated` then says it is current.
#[test]
fn every_earlier_release_generates_and_updates_three_way_keeping_edits() {
    for (name, version, _) in releases().into_iter().filter(|(_, _, current)| !current) {
        let label = format!("{name}@{version}");
        let (_run, dir) = Test::new()
            .args(["new", "--blueprint", &label, "p", "--defaults"])
            .run();
        let p = dir.path().join("p");
        let record = fs::read_to_string(p.join(".spacegen/answers.toml")).unwrap();
        assert!(
            record.contains(&format!("version = \"{version}\"")),
            "{label}: {record}"
        );
        append(
            &p.join("README.md"),
            "\n## Our notes\n\nDeployed by the data team.\n",
        );
        prepend(
            &p.join(".env.example"),
            "# Our team keeps its values in the Space settings.\n",
        );
        fs::write(p.join("mine.py"), "print('mine')\n").unwrap();
        fs::remove_file(p.join(".dockerignore")).unwrap();

        let (run, _d) = Test::new()
            .cwd(dir.path())
            .args(["update", "p", "--defaults", "--format", "json"])
            .run();
        let json: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(json["mode"], "three-way", "{label}: {}", run.stdout);
        assert_eq!(json["from"], version.as_str(), "{label}");
        assert!(
            json["base"]
                .as_str()
                .is_some_and(|b| b.contains(&format!("{name} {version}")) && b.contains("history")),
            "{label}: {}",
            json["base"]
        );
        assert_eq!(json["two_way_files"], Value::Array(vec![]), "{label}");
        let read = |path: &str| fs::read_to_string(p.join(path)).unwrap();
        assert!(
            read("README.md").ends_with("Deployed by the data team.\n"),
            "{label}"
        );
        assert!(
            read(".env.example").starts_with("# Our team keeps its values"),
            "{label}"
        );
        assert_eq!(read("mine.py"), "print('mine')\n", "{label}");
        assert!(
            !p.join(".dockerignore").exists(),
            "{label}: deleted, stays deleted"
        );
        let record = read(".spacegen/answers.toml");
        assert!(
            !record.contains(&format!("version = \"{version}\"")),
            "{label}: the record still names the old version"
        );
        Test::new()
            .cwd(dir.path())
            .args(["outdated", "p"])
            .run()
            .0
            .stdout_has("up to date");
        let before = read_tree(&p);
        Test::new()
            .cwd(dir.path())
            .args(["update", "p"])
            .run()
            .0
            .stdout_has("nothing to do");
        assert_eq!(
            read_tree(&p),
            before,
            "{label}: a second update changes nothing"
        );
    }
}

/// `NAME@VERSION` for today's version is the embedded blueprint; an unknown version, a bad
/// one or an unknown name is a usage error naming what there is.
#[test]
fn new_names_releases_by_version_and_refuses_unknown_ones() {
    let current = releases()
        .into_iter()
        .find(|(b, _, c)| b == "sqlite-demo" && *c)
        .unwrap()
        .1;
    let (_r, plain) = Test::new().args(["new", "p", "--defaults"]).run();
    let (_r, named) = Test::new()
        .args([
            "new",
            "--blueprint",
            &format!("sqlite-demo@{current}"),
            "p",
            "--defaults",
        ])
        .run();
    assert_eq!(
        read_tree(&plain.path().join("p")),
        read_tree(&named.path().join("p"))
    );

    let (run, _d) = Test::new()
        .args(["new", "--blueprint", "sqlite-demo@0.0.9", "p", "--defaults"])
        .status(2)
        .run();
    run.stderr_has("no release sqlite-demo 0.0.9: it has 0.1.0, 0.2.0");
    let (run, _d) = Test::new()
        .args([
            "new",
            "--blueprint",
            "sqlite-demo@latest",
            "p",
            "--defaults",
        ])
        .status(2)
        .run();
    run.stderr_has("'latest' in 'sqlite-demo@latest' is not a version");
    let (run, _d) = Test::new()
        .args(["new", "--blueprint", "nope@1.0.0", "p", "--defaults"])
        .status(2)
        .run();
    run.stderr_has("no release of a blueprint named 'nope'");
    let (run, _d) = Test::new().args(["show", "sqlite-demo@0.1.0"]).run();
    run.stdout_has("sqlite-demo 0.1.0");
}

/// A copy of the repository's blueprints, lock and history.
fn workspace() -> Test {
    let t = Test::new();
    for folder in ["blueprints", "history"] {
        copy_dir(&repo_root().join(folder), &t.path().join(folder));
    }
    fs::copy(
        repo_root().join("spaces.lock"),
        t.path().join("spaces.lock"),
    )
    .unwrap();
    t
}

/// `lock --check` fails when the history does not record what the lock locks (a release
/// dropped from the index, or an object lost), and `history record` mends it.
#[test]
fn lock_check_holds_the_history_to_the_lock_and_record_mends_it() {
    let t = workspace();
    let index = t.path().join("history/releases.toml");
    let text = fs::read_to_string(&index).unwrap();
    let current = releases()
        .into_iter()
        .find(|(b, _, c)| b == "openrouter" && *c)
        .unwrap()
        .1;
    // Drop today's openrouter release from the index.
    let start = text
        .find(&format!(
            "[[release]]\nblueprint = \"openrouter\"\nversion = \"{current}\""
        ))
        .unwrap();
    let end = text[start + 1..]
        .find("[[release]]")
        .map_or(text.len(), |i| start + 1 + i);
    fs::write(&index, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["lock", "--check"])
        .status(3)
        .run();
    run.stderr_has("history is out of date");
    run.stderr_has(&format!("openrouter {current}: not recorded"));

    let (run, _d) = Test::new().cwd(t.path()).args(["history", "record"]).run();
    run.stdout_has(&format!("openrouter {current}: recorded"));
    assert_eq!(
        fs::read_to_string(&index).unwrap(),
        text,
        "recorded as it was"
    );
    Test::new().cwd(t.path()).args(["lock", "--check"]).run();

    // An object lost from the folder.
    let objects = t.path().join("history/objects");
    let lost = fs::read_dir(&objects)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            fs::read_to_string(p).is_ok_and(|s| {
                s.contains("[blueprint]\nname = \"openrouter\"")
                    && s.contains(&format!("version = \"{current}\""))
            })
        })
        .unwrap();
    fs::remove_file(&lost).unwrap();
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["lock", "--check"])
        .status(3)
        .run();
    run.stderr_has("is missing");
    Test::new().cwd(t.path()).args(["history", "record"]).run();
    assert!(lost.is_file());
    Test::new().cwd(t.path()).args(["lock", "--check"]).run();
}

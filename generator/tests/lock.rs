//! `spacegen lock` on a copy of the repository's blueprints: canonical output, `--check` on a
//! stale lock, tamper detection, `--update`, and `--verify` on `sqlite-demo`.

use crate::common;

use std::fs;

use common::{assert_run, copy_dir, repo_root, Test};

/// A temporary copy of `blueprints/` and `spaces.lock`.
fn workspace() -> Test {
    let t = Test::new();
    copy_dir(
        &repo_root().join("blueprints"),
        &t.path().join("blueprints"),
    );
    fs::copy(
        repo_root().join("spaces.lock"),
        t.path().join("spaces.lock"),
    )
    .unwrap();
    t
}

/// `spacegen new` of the workspace's `sqlite-demo` with default answers, into `out`.
fn generate_in(t: &Test) -> Test {
    Test::new().cwd(t.path()).args([
        "new",
        "--blueprint",
        "blueprints/sqlite-demo",
        "out",
        "--defaults",
    ])
}

fn lock_text(t: &Test) -> String {
    fs::read_to_string(t.path().join("spaces.lock")).unwrap()
}

/// `text` without any verification evidence of blueprint `bp`.
fn without_evidence(text: &str, bp: &str) -> String {
    let header = format!("\n[[blueprints.{bp}.verifications]]");
    let mut out = text.to_owned();
    while let Some(at) = out.find(&header) {
        let end = out[at + 1..].find("\n[").map_or(out.len(), |e| at + 1 + e);
        out = format!("{}{}", &out[..at + 1], out[end..].trim_start_matches('\n'));
    }
    out
}

#[test]
fn locking_an_unchanged_workspace_changes_no_byte() {
    let t = workspace();
    let before = lock_text(&t);
    let (run, _d) = Test::new().cwd(t.path()).args(["lock"]).run();
    assert_run("lock-unchanged", &run);
    assert_eq!(lock_text(&t), before);
    let (_run, _d) = Test::new().cwd(t.path()).args(["lock"]).run();
    assert_eq!(lock_text(&t), before);
}

#[test]
fn check_fails_with_a_diff_when_a_blueprint_changed() {
    let t = workspace();
    let readme = t
        .path()
        .join("blueprints/sqlite-demo/template/README.md.liquid");
    let mut text = fs::read_to_string(&readme).unwrap();
    text.push_str("\nOne more line.\n");
    fs::write(&readme, text).unwrap();
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["lock", "--check"])
        .status(3)
        .run();
    assert_run("lock-check-stale", &run);
    assert!(run.stderr.contains("-content-hash") && run.stderr.contains("+content-hash"));

    // `new` refuses the changed blueprint until it is locked again.
    let (run, _d) = generate_in(&t).status(3).run();
    assert_run("new-blueprint-changed-since-locked", &run);
    let (_run, _d) = Test::new().cwd(t.path()).args(["lock"]).run();
    // Locked again, the set is current, but its evidence went with the change.
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["lock", "--check"])
        .status(3)
        .run();
    run.stderr_has("has no passing verification for: sqlite-demo");
    let (_run, _d) = generate_in(&t).run();
    assert!(t.path().join("out/README.md").is_file());
}

#[test]
fn a_tampered_lock_is_refused() {
    let t = workspace();
    let text = lock_text(&t);
    let entry = text.find("[blueprints.sqlite-demo]").unwrap();
    let at = entry
        + text[entry..].find("content-hash = \"sha256:").unwrap()
        + "content-hash = \"sha256:".len();
    let mut tampered = text.clone();
    tampered.replace_range(at..at + 4, "0000");
    fs::write(t.path().join("spaces.lock"), tampered).unwrap();
    let (run, _d) = generate_in(&t).status(3).run();
    assert_run("new-tampered-content-hash", &run);

    let pinned = text.replace(
        "[blueprints.sqlite-demo.packages.fastapi]\nrequested = \">=0.163\"\nversion = \"0.165.0\"",
        "[blueprints.sqlite-demo.packages.fastapi]\nrequested = \">=0.163\"\nversion = \"0.100.0\"",
    );
    assert_ne!(pinned, text);
    fs::write(t.path().join("spaces.lock"), pinned).unwrap();
    let (run, _d) = generate_in(&t).status(3).run();
    assert_run("new-tampered-pin", &run);
}

#[test]
fn an_impossible_blueprint_is_explained() {
    let t = workspace();
    let manifest = t.path().join("blueprints/base/blueprint.toml");
    let text = fs::read_to_string(&manifest)
        .unwrap()
        .replace("\"pydantic>=2.9\"", "\"pydantic==2.10.0\"");
    fs::write(&manifest, text).unwrap();
    let (run, _d) = Test::new().cwd(t.path()).args(["lock"]).status(3).run();
    assert_run("lock-impossible", &run);
}

#[test]
fn update_moves_a_package_and_prints_old_and_new() {
    let t = workspace();
    let text = lock_text(&t);
    // Pretend an older pydantic was locked: the resolver keeps it until asked to update.
    let older = text.replace(
        "[blueprints.sqlite-demo.packages.pydantic]\nrequested = \">=2.9\"\nversion = \"2.14.4\"",
        "[blueprints.sqlite-demo.packages.pydantic]\nrequested = \">=2.9\"\nversion = \"2.14.3\"",
    );
    assert_ne!(older, text);
    fs::write(t.path().join("spaces.lock"), &older).unwrap();
    let (_run, _d) = Test::new().cwd(t.path()).args(["lock"]).run();
    let kept = lock_text(&t);
    assert!(
        kept.contains("version = \"2.14.3\""),
        "the locked pydantic was not kept"
    );
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["lock", "--update", "pydantic"])
        .run();
    assert_run("lock-update-pydantic", &run);
    // The same set as before; the evidence did not survive the detour through another set.
    let without_evidence = |text: &str| -> (toml::Table, bool) {
        let mut table: toml::Table = toml::from_str(text).unwrap();
        let blueprints = table["blueprints"].as_table_mut().unwrap();
        // The moment pydantic is read at moved with the update, in every blueprint that locks
        // it; the set is what must return.
        for (_, entry) in blueprints.iter_mut() {
            entry
                .as_table_mut()
                .unwrap()
                .remove("exclude-newer-package");
        }
        let entry = blueprints["sqlite-demo"].as_table_mut().unwrap();
        let had = entry.remove("verifications").is_some();
        entry.remove("verified-set");
        (table, had)
    };
    let (expected, _) = without_evidence(&text);
    let (actual, kept) = without_evidence(&lock_text(&t));
    assert!(
        !kept,
        "verification evidence was kept for a set it did not verify"
    );
    assert_eq!(
        actual, expected,
        "updating back must restore the original set"
    );
    // The index was read as it was when the lock was made, but for the package asked to move.
    let entry = |text: &str| {
        toml::from_str::<toml::Table>(text).unwrap()["blueprints"]["sqlite-demo"].clone()
    };
    let (before, after) = (entry(&text), entry(&lock_text(&t)));
    assert_eq!(before["exclude-newer"], after["exclude-newer"]);
    // Packages that already had a later moment (added to the set after it was first locked)
    // keep it; the package moved is added.
    let moments = |entry: &toml::Value| -> std::collections::BTreeSet<String> {
        entry
            .get("exclude-newer-package")
            .and_then(|m| m.as_table())
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    let mut expected_moments = moments(&before);
    expected_moments.insert("pydantic".to_owned());
    assert_eq!(moments(&after), expected_moments, "{after:#?}");
}

#[test]
fn verify_proves_the_locked_set_and_records_the_evidence() {
    let t = workspace();
    // Start without evidence, so the run records it whatever the date of the shipped one.
    let text = lock_text(&t);
    let unverified = without_evidence(&text, "sqlite-demo");
    assert_ne!(unverified, text, "the shipped lock carries evidence");
    fs::write(t.path().join("spaces.lock"), &unverified).unwrap();
    let evidence = t.path().join("evidence.json");
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["lock", "--verify", "sqlite-demo", "--evidence-out"])
        .args([evidence.to_str().unwrap()])
        .run();
    assert_run("lock-verify", &run);
    let lock = lock_text(&t);
    let table: toml::Table = toml::from_str(&lock).unwrap();
    let runs = table["blueprints"]["sqlite-demo"]["verifications"]
        .as_array()
        .unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let v = &runs[0];
    assert!(v["platform"].as_str().unwrap().contains("linux"));
    // The evidence, carried to another checkout of the same set, is recorded there; about a set
    // that changed since, it is refused.
    let other = workspace();
    fs::write(other.path().join("spaces.lock"), &unverified).unwrap();
    let (run, _d) = Test::new()
        .cwd(other.path())
        .args(["lock", "--merge-evidence", evidence.to_str().unwrap()])
        .run();
    run.stdout_has("recorded sqlite-demo on Python 3.11");
    let merged: toml::Table = toml::from_str(&lock_text(&other)).unwrap();
    assert_eq!(
        merged["blueprints"]["sqlite-demo"]["verifications"],
        table["blueprints"]["sqlite-demo"]["verifications"]
    );
    let changed = with_transitive_version(
        &without_evidence(&lock_text(&other), "sqlite-demo"),
        "sqlite-demo",
        "starlette",
        "1.10.0",
        "1.6.0",
    );
    fs::write(other.path().join("spaces.lock"), &changed).unwrap();
    let (run, _d) = Test::new()
        .cwd(other.path())
        .args(["lock", "--merge-evidence", evidence.to_str().unwrap()])
        .status(2)
        .run();
    run.stderr_has("proved another set than spaces.lock holds (its fingerprint differs)");
    assert_eq!(v["result"].as_str(), Some("pass"));
    assert_eq!(v["spacegen"].as_str(), Some(env!("CARGO_PKG_VERSION")));
    assert!(v["python"].as_str().unwrap().starts_with("3.11"));
    let steps: Vec<&str> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.as_str())
        .collect();
    assert!(
        steps
            .iter()
            .any(|s| s.starts_with("pytest: ") && s.contains("passed")),
        "{steps:?}"
    );
    assert!(
        steps.iter().any(|s| s.ends_with("GET /health → 200")),
        "{steps:?}"
    );
}

/// A workspace with blueprint `broken`, whose own tests fail; not locked yet.
fn with_broken_blueprint() -> Test {
    let t = workspace();
    let bp = t.path().join("blueprints/broken");
    fs::create_dir_all(bp.join("template/tests")).unwrap();
    fs::write(
        bp.join("blueprint.toml"),
        "[blueprint]\nname = \"broken\"\nversion = \"1.0.0\"\ndescription = \"fails its own tests\"\n\n[dependencies]\ndev = [{ name = \"test\", comment = \"Tests\", packages = [\"pytest>=8\"] }]\n",
    )
    .unwrap();
    fs::write(bp.join("template/requirements-dev.txt.liquid"), "-r requirements.txt\n{% for g in dev_requirements %}{% for p in g.packages %}{{ p.line }}\n{% endfor %}{% endfor %}").unwrap();
    fs::create_dir_all(bp.join("template/app")).unwrap();
    fs::write(
        bp.join("template/requirements.txt"),
        "# nothing at run time\n",
    )
    .unwrap();
    fs::write(bp.join("template/app/__init__.py"), "").unwrap();
    fs::write(bp.join("template/app/main.py"), "app = None\n").unwrap();
    fs::write(
        bp.join("template/tests/test_fails.py"),
        "def test_fails():\n    assert 1 == 2, 'deliberately broken'\n",
    )
    .unwrap();
    t
}

#[test]
fn a_failing_set_is_reported_and_never_recorded() {
    let t = with_broken_blueprint();
    let (_run, _d) = Test::new().cwd(t.path()).args(["lock"]).run();
    let before = lock_text(&t);
    assert!(before.contains("[blueprints.broken]"));
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["lock", "--verify", "broken"])
        .status(1)
        .run();
    run.stderr_has("verification failed at: pytest");
    run.stderr_has("deliberately broken");
    assert_eq!(
        lock_text(&t),
        before,
        "a failed verification changed the lock"
    );
}

/// Every byte that moves a terminal's cursor or redraws a line: escape sequences and carriage
/// returns not followed by a newline.
fn redraws(transcript: &str) -> Vec<String> {
    let bytes = transcript.as_bytes();
    let mut found = Vec::new();
    for (i, b) in bytes.iter().enumerate() {
        if *b == 0x1b || (*b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
            let end = (i + 12).min(bytes.len());
            found.push(String::from_utf8_lossy(&bytes[i..end]).into_owned());
        }
    }
    found
}

/// What the terminal shows in the end: each line as its last redraw left it.
fn screen(transcript: &str) -> Vec<String> {
    let plain = regex::Regex::new("\x1b\\[[0-9;?]*[A-Za-z]")
        .unwrap()
        .replace_all(transcript, "");
    plain
        .split('\n')
        .map(|line| {
            let line = line.trim_end_matches('\r');
            line.rsplit('\r').next().unwrap_or("").to_owned()
        })
        .collect()
}

/// On a terminal, the long steps of `lock` and `lock --verify` turn a spinner with the elapsed
/// time and end as one line each with the result; with `TERM=dumb`, or off a terminal, nothing
/// is redrawn.
#[cfg(unix)]
#[test]
fn progress_spins_on_a_terminal_only() {
    let t = with_broken_blueprint();
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["lock"])
        .run_in_terminal(&[("TERM", "xterm-256color")]);
    let shown = screen(&run.stderr);
    assert!(
        shown.iter().any(|l| l.starts_with(
            "broken: resolving the transitive set for every platform and supported Python with uv… ok ("
        )),
        "{shown:#?}\n{:?}",
        run.stderr
    );
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["lock", "--verify", "broken"])
        .status(1)
        .run_in_terminal(&[("TERM", "xterm-256color")]);
    assert!(!redraws(&run.stderr).is_empty(), "{:?}", run.stderr);
    // The spinner turned (a braille frame) beside the step and its elapsed time.
    let frame = regex::Regex::new(
        "[\u{2801}\u{2802}\u{2804}\u{2840}\u{2880}\u{2820}\u{2810}\u{2808}] \
         \\[2/9\\] create a virtual environment with today's pip… [0-9]+s",
    )
    .unwrap();
    assert!(frame.is_match(&run.stderr), "{:?}", run.stderr);
    let shown = screen(&run.stderr);
    for (n, step) in [
        (1, "generate the project with default answers"),
        (2, "create a virtual environment with today's pip"),
        (
            3,
            "pip install --no-deps --require-hashes -r requirements.txt, then pip check",
        ),
        (5, "pip install --require-hashes -r requirements-dev.txt"),
    ] {
        let line = format!("  [{n}/9] {step}… ok (");
        assert!(
            shown.iter().any(|l| l.starts_with(&line)),
            "no line {line:?} in {shown:#?}"
        );
    }
    assert!(
        shown
            .iter()
            .any(|l| l == "  [6/9] the generated project's own tests (pytest)… FAILED"),
        "{shown:#?}"
    );
    assert!(run.stderr.contains("verification failed at: pytest"));
    // A terminal that cannot redraw, and a pipe, get whole lines only.
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["lock", "--verify", "broken"])
        .status(1)
        .run_in_terminal(&[("TERM", "dumb")]);
    assert_eq!(
        redraws(&run.stderr),
        Vec::<String>::new(),
        "{:?}",
        run.stderr
    );
    assert!(run
        .stderr
        .contains("  [6/9] the generated project's own tests (pytest)…\r\n        FAILED"));
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["lock", "--verify", "broken"])
        .status(1)
        .run();
    assert_eq!(
        redraws(&run.stderr),
        Vec::<String>::new(),
        "{:?}",
        run.stderr
    );
    run.stderr_has("  [6/9] the generated project's own tests (pytest)…\n        FAILED");
}

/// What a Space's Docker build installs is `requirements.txt` alone: a set whose app imports a
/// package only the test set brings must fail verification at that step, before the tests
/// (which would pass with both sets installed).
#[test]
fn a_runtime_set_that_cannot_import_the_app_fails_verification() {
    let t = workspace();
    let bp = t.path().join("blueprints/runtime-gap");
    fs::create_dir_all(bp.join("template/tests")).unwrap();
    fs::create_dir_all(bp.join("template/app")).unwrap();
    fs::write(
        bp.join("blueprint.toml"),
        "[blueprint]\nname = \"runtime-gap\"\nversion = \"1.0.0\"\ndescription = \"imports a test tool\"\n\n[dependencies]\ngroups = [{ name = \"web\", comment = \"Server\", packages = [\"uvicorn>=0.30.6\"] }]\ndev = [{ name = \"test\", comment = \"Tests\", packages = [\"pytest>=8\"] }]\n",
    )
    .unwrap();
    fs::write(
        bp.join("template/requirements.txt.liquid"),
        "{% for g in requirements %}{% for p in g.packages %}{{ p.line }}\n{% endfor %}{% endfor %}",
    )
    .unwrap();
    fs::write(
        bp.join("template/requirements-dev.txt.liquid"),
        "-r requirements.txt\n{% for g in dev_requirements %}{% for p in g.packages %}{{ p.line }}\n{% endfor %}{% endfor %}",
    )
    .unwrap();
    fs::write(bp.join("template/app/__init__.py"), "").unwrap();
    fs::write(
        bp.join("template/app/main.py"),
        "import pytest  # only requirements-dev.txt brings it\n\napp = None\n",
    )
    .unwrap();
    fs::write(
        bp.join("template/tests/test_ok.py"),
        "def test_ok():\n    assert True\n",
    )
    .unwrap();
    let (_run, _d) = Test::new().cwd(t.path()).args(["lock"]).run();
    let before = lock_text(&t);
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["lock", "--verify", "runtime-gap"])
        .status(1)
        .run();
    run.stderr_has("[4/9] import the app with the runtime requirements alone");
    run.stderr_has("verification failed at: import the app");
    run.stderr_has("No module named 'pytest'");
    assert_eq!(
        lock_text(&t),
        before,
        "a failed verification changed the lock"
    );
}

/// Replaces the version of the transitive `package` in blueprint `bp`'s artifacts, its file
/// names included (as a hand edit that passes the lock's own checks would).
fn with_transitive_version(text: &str, bp: &str, package: &str, from: &str, to: &str) -> String {
    let entry = text
        .find(&format!("[blueprints.{bp}]"))
        .expect("the blueprint's entry");
    let needle = format!("name = \"{package}\"\nversion = \"{from}\"");
    let at = entry + text[entry..].find(&needle).expect("the package's artifact");
    let end = text[at..].find("\n[").map_or(text.len(), |e| at + e);
    let block = text[at..end]
        .replace(
            &needle,
            &format!("name = \"{package}\"\nversion = \"{to}\""),
        )
        .replace(&format!("{package}-{from}"), &format!("{package}-{to}"));
    format!("{}{block}{}", &text[..at], &text[end..])
}

/// A rule about a transitive package is enforced over the whole set, and a transitive package
/// the matrix lists is held to its candidates: a locked starlette a rule forbids (1.5.0) or
/// the matrix does not list (1.9.0) fails `--check`, naming why, and a plain `lock` resolves it
/// anew within the candidates; a candidate (1.6.0) stays until `--update starlette` moves it,
/// saying `old → new`.
#[test]
fn rules_cover_transitive_packages_and_update_moves_them() {
    let t = workspace();
    let text = lock_text(&t);
    for (version, why) in [
        (
            "1.5.0",
            "the set has starlette 1.5.0, which rule fastapi-0.165-starlette-1.6 forbids",
        ),
        (
            "1.9.0",
            "the set has starlette 1.9.0, which is not among the matrix's candidates (1.6.0, 1.10.0)",
        ),
    ] {
        let older = with_transitive_version(&text, "sqlite-demo", "starlette", "1.10.0", version);
        fs::write(t.path().join("spaces.lock"), &older).unwrap();
        let (run, _d) = Test::new()
            .cwd(t.path())
            .args(["lock", "--check"])
            .status(3)
            .run();
        run.stderr_has("cannot lock blueprint 'sqlite-demo'");
        run.stderr_has(why);
        let (run, _d) = Test::new().cwd(t.path()).args(["lock"]).run();
        run.stdout_has(&format!(
            "sqlite-demo: starlette {version} → 1.10.0 (transitive)"
        ));
        assert!(lock_text(&t).contains("name = \"starlette\"\nversion = \"1.10.0\""));
    }

    let candidate = with_transitive_version(&text, "sqlite-demo", "starlette", "1.10.0", "1.6.0");
    fs::write(t.path().join("spaces.lock"), &candidate).unwrap();
    let (run, _d) = Test::new().cwd(t.path()).args(["lock"]).run();
    assert!(run.stdout.contains("is up to date"), "{}", run.stdout);
    assert!(lock_text(&t).contains("name = \"starlette\"\nversion = \"1.6.0\""));

    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["lock", "--update", "starlette"])
        .run();
    run.stdout_has("sqlite-demo: starlette 1.6.0 → 1.10.0 (transitive)");
    assert!(!lock_text(&t).contains("name = \"starlette\"\nversion = \"1.6.0\""));

    // With 1.6.0 its only candidate, --update keeps the newest release uv would pick (1.10.0)
    // out of the set.
    let matrix = t.path().join("blueprints/matrix.toml");
    let m = fs::read_to_string(&matrix).unwrap();
    let only = m.replace(
        "starlette = [\"1.6.0\", \"1.10.0\"]",
        "starlette = [\"1.6.0\"]",
    );
    assert_ne!(only, m);
    fs::write(&matrix, only).unwrap();
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["lock", "--update", "starlette"])
        .run();
    run.stdout_has("sqlite-demo: starlette 1.10.0 → 1.6.0 (transitive)");
    assert!(lock_text(&t).contains("name = \"starlette\"\nversion = \"1.6.0\""));
}

#[test]
fn updating_a_package_no_blueprint_locks_is_an_error() {
    let t = workspace();
    let before = lock_text(&t);
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["lock", "--update", "fastapi", "not-a-package"])
        .status(2)
        .run();
    run.stderr_has("no blueprint locks a package named 'not-a-package'");
    assert_eq!(lock_text(&t), before);
}

/// `--check` fails for a set without the evidence of a passing verification, and `lock` says
/// aloud when it drops evidence.
#[test]
fn unverified_sets_fail_the_check_and_dropped_evidence_is_reported() {
    let t = workspace();
    let text = lock_text(&t);
    let unverified = without_evidence(&text, "openrouter");
    fs::write(t.path().join("spaces.lock"), unverified).unwrap();
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["lock", "--check"])
        .status(3)
        .run();
    run.stderr_has("has no passing verification for: openrouter");
    run.stderr_has("run `spacegen lock --verify openrouter`");

    fs::write(t.path().join("spaces.lock"), &text).unwrap();
    let readme = t
        .path()
        .join("blueprints/sqlite-demo/template/README.md.liquid");
    let mut md = fs::read_to_string(&readme).unwrap();
    md.push_str("\nOne more line.\n");
    fs::write(&readme, md).unwrap();
    let (run, _d) = Test::new().cwd(t.path()).args(["lock"]).run();
    run.stdout_has("sqlite-demo: the blueprint's files changed since it was locked");
    run.stderr_has("sqlite-demo: verification evidence dropped");
}

#[test]
fn the_verification_plan_covers_every_blueprint_python_and_runner() {
    let t = workspace();
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["lock", "--verify-plan"])
        .run();
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let jobs = plan["include"].as_array().unwrap();
    for bp in ["sqlite-demo", "openrouter", "neon-qdrant-openai"] {
        for python in ["3.11", "3.12", "3.13", "3.14"] {
            for os in [
                "ubuntu-latest",
                "ubuntu-24.04-arm",
                "macos-latest",
                "windows-latest",
            ] {
                let job = serde_json::json!({"blueprint": bp, "python": python, "os": os});
                assert!(jobs.contains(&job), "{job} is not planned");
            }
        }
    }
    assert_eq!(jobs.len(), 48);
}

/// `spacegen matrix refresh` records what the index declares (Requires-Python and the
/// requirements between matrix packages) in matrix.index.toml, which `lock` then obeys; an
/// unknown package is refused and nothing is written.
#[test]
fn matrix_refresh_records_what_the_index_declares() {
    let t = workspace();
    let index = t.path().join("blueprints/matrix.index.toml");
    let _ = fs::remove_file(&index);
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["matrix", "refresh", "not-a-package"])
        .status(2)
        .run();
    run.stderr_has("matrix.toml lists no package named 'not-a-package'");
    assert!(!index.exists());

    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["matrix", "refresh", "fastapi"])
        .run();
    run.stdout_has("matrix.index.toml");
    let written: toml::Table = toml::from_str(&fs::read_to_string(&index).unwrap()).unwrap();
    let fastapi = &written["declared"]["fastapi"]["0.165.0"];
    assert_eq!(fastapi["requires-python"].as_str(), Some(">=3.11"));
    let requires: Vec<&str> = fastapi["requires"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r.as_str())
        .collect();
    assert!(requires.contains(&"starlette>=1.6.0"), "{requires:?}");
    assert!(requires.contains(&"pydantic>=2.9.0"), "{requires:?}");
    assert!(
        written["declared"].get("pydantic").is_none(),
        "only the named package was refreshed"
    );
    let (run, _d) = Test::new().cwd(t.path()).args(["lock", "--check"]).run();
    run.stdout_has("up to date");
}

fn run_stderr_is_plain(stderr: &str) {
    assert_eq!(redraws(stderr), Vec::<String>::new(), "{stderr:?}");
}

/// On a terminal, asking the index turns a spinner; in a pipe it is two plain lines.
#[cfg(unix)]
#[test]
fn matrix_refresh_shows_its_progress() {
    let t = workspace();
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["matrix", "refresh", "fastapi"])
        .run_in_terminal(&[("TERM", "xterm-256color")]);
    assert!(!redraws(&run.stderr).is_empty(), "{:?}", run.stderr);
    let shown = screen(&run.stderr);
    assert!(
        shown
            .iter()
            .any(|l| l.starts_with("asking the package index about 1 package… ok (")),
        "{shown:#?}"
    );
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["matrix", "refresh", "fastapi"])
        .run();
    run_stderr_is_plain(&run.stderr);
    run.stderr_has("asking the package index about 1 package…\n        ok (");
}

/// The shipped workflow runs the plan, one `--verify` per job with `--evidence-out`, and merges.
#[test]
fn the_verify_workflow_plans_verifies_and_merges() {
    let text = fs::read_to_string(repo_root().join(".github/workflows/verify.yml")).unwrap();
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).unwrap();
    let jobs = &docs[0]["jobs"];
    for job in ["plan", "verify", "merge"] {
        assert!(!jobs[job].is_badvalue(), "no job {job}");
    }
    assert!(text.contains("lock --verify-plan"));
    assert!(text.contains("--evidence-out evidence.json"));
    assert!(text.contains("lock --merge-evidence"));
    assert_eq!(
        jobs["verify"]["strategy"]["matrix"].as_str(),
        Some("${{ fromJSON(needs.plan.outputs.matrix) }}")
    );
}

/// Evidence from a CI job elsewhere, as `--evidence-out` writes it: the shipped record of
/// `sqlite-demo` on 3.11, changed by `edit`.
fn evidence_file(t: &Test, edit: impl Fn(&mut serde_json::Value)) -> std::path::PathBuf {
    let table: toml::Table = toml::from_str(&lock_text(t)).unwrap();
    let record = table["blueprints"]["sqlite-demo"]["verifications"][0].clone();
    let mut verification = serde_json::to_value(record).unwrap();
    edit(&mut verification);
    let file = serde_json::json!({
        "format": 2,
        "evidence": [{ "blueprint": "sqlite-demo", "verification": verification }],
    });
    let path = t.path().join(format!("evidence-{}.json", rand_name()));
    fs::write(&path, file.to_string()).unwrap();
    path
}

fn rand_name() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::Relaxed).to_string()
}

/// `--merge-evidence` folds in a record from another platform, which `show` and generated
/// projects then claim; evidence of another set (a stale fingerprint), of a failed run or with
/// a value spaces.lock refuses (tampered) is refused, naming the blueprint, and nothing is
/// written.
#[test]
fn evidence_from_elsewhere_is_claimed_and_stale_or_tampered_evidence_is_refused() {
    let t = workspace();
    let macos = evidence_file(&t, |v| {
        v["python"] = "3.12.7".into();
        v["platform"] = "macosx-14.0-arm64".into();
    });
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["lock", "--merge-evidence", macos.to_str().unwrap()])
        .run();
    run.stdout_has("recorded sqlite-demo on Python 3.12.7 (macosx-14.0-arm64)");
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["show", "blueprints/sqlite-demo"])
        .run();
    run.stdout_has("Verified on CPython 3.11.7, 3.12.1 and 3.13.0 on Linux x86_64 and CPython 3.12.7 on macOS arm64");
    let (run, _d) = generate_in(&t).run();
    let readme = fs::read_to_string(run.cwd.join("out/README.md")).unwrap();
    assert!(readme.contains("CPython 3.12.7 on macOS arm64"), "{readme}");
    let before = lock_text(&t);
    for (edit, says) in [
        (
            Box::new(|v: &mut serde_json::Value| {
                v["fingerprint"] = format!("sha256:{}", "0".repeat(64)).into();
            }) as Box<dyn Fn(&mut serde_json::Value)>,
            "proved another set than spaces.lock holds",
        ),
        (
            Box::new(|v: &mut serde_json::Value| v["result"] = "fail".into()),
            "did not pass (fail)",
        ),
        (
            Box::new(|v: &mut serde_json::Value| v["python"] = "3.11.7\nrm -rf /".into()),
            "holds a value spaces.lock refuses",
        ),
        (
            Box::new(|v: &mut serde_json::Value| v["installers"] = serde_json::json!([])),
            "does not say which CPython (X.Y.Z), platform and installers it ran with",
        ),
    ] {
        let file = evidence_file(&t, edit);
        let (run, _d) = Test::new()
            .cwd(t.path())
            .args(["lock", "--merge-evidence", file.to_str().unwrap()])
            .status(2)
            .run();
        run.stderr_has("the evidence for 'sqlite-demo'");
        run.stderr_has(says);
        assert_eq!(lock_text(&t), before, "refused evidence changed the lock");
    }
}

/// A requirement whose name ends in a separator (`fastapi-==1.0`), which pep508_rs reads and
/// then panics on, is a located error in a blueprint and in the matrix, and never a crash of
/// `check`.
#[test]
fn a_name_ending_in_a_separator_is_an_error_not_a_panic() {
    let t = workspace();
    let base = t.path().join("blueprints/base/blueprint.toml");
    let text = fs::read_to_string(&base).unwrap();
    fs::write(
        &base,
        text.replace("\"fastapi>=0.163\"", "\"fastapi-==1.0\""),
    )
    .unwrap();
    let (run, _d) = Test::new().cwd(t.path()).args(["lock"]).status(3).run();
    run.stderr_has("\"fastapi-\" is not a valid package name");
    run.stderr_has("blueprint.toml:");
    fs::write(&base, text).unwrap();
    let matrix = t.path().join("blueprints/matrix.toml");
    let text = fs::read_to_string(&matrix).unwrap();
    fs::write(
        &matrix,
        text.replacen("if = \"sqlmodel\"", "if = \"sqlmodel-==1.0\"", 1),
    )
    .unwrap();
    let (run, _d) = Test::new().cwd(t.path()).args(["lock"]).status(3).run();
    run.stderr_has("\"sqlmodel-\" is not a valid package name");
    run.stderr_has("matrix.toml:");
    let project = Test::new()
        .write(
            "Dockerfile",
            "FROM python:3.11-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n",
        )
        .write("requirements.txt", "fastapi-==1.0\nuvicorn==0.30.0\n");
    let (run, _d) = project.args(["check", "."]).status(1).run();
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

/// A newer candidate in the matrix (as `matrix refresh` adds them) leaves `lock --check`
/// passing, with a note; `lock --outdated` lists what `--update` would move, also as JSON.
#[test]
fn newer_candidates_are_reported_without_failing_the_check() {
    let t = workspace();
    let matrix = t.path().join("blueprints/matrix.toml");
    let text = fs::read_to_string(&matrix).unwrap();
    let newer = text.replace(
        "\"2.14.3\", \"2.14.4\"]",
        "\"2.14.3\", \"2.14.4\", \"2.15.0\"]",
    );
    assert_ne!(newer, text);
    fs::write(&matrix, newer).unwrap();
    let (run, _d) = Test::new().cwd(t.path()).args(["lock", "--check"]).run();
    run.stdout_has("is up to date, every set verified");
    run.stderr_has("note: the matrix has newer candidates of pydantic");
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["lock", "--outdated", "--format", "json"])
        .run();
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let listed: Vec<(String, String, String)> = json["outdated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let s = |k: &str| o[k].as_str().unwrap().to_owned();
            (
                s("blueprint"),
                s("package"),
                format!("{} {}", s("locked"), s("newest")),
            )
        })
        .collect();
    assert_eq!(
        listed,
        ["neon-qdrant-openai", "openrouter", "sqlite-demo"]
            .map(|b| (
                b.to_owned(),
                "pydantic".to_owned(),
                "2.14.4 2.15.0".to_owned()
            ))
            .to_vec()
    );
    let (run, _d) = Test::new().cwd(t.path()).args(["lock", "--outdated"]).run();
    run.stdout_has("sqlite-demo: pydantic 2.14.4 → 2.15.0 (spacegen lock --update pydantic)");
}

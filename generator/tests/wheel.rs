//! The Python wheel (`pyproject.toml`, maturin with `bindings = "bin"`): built here, installed
//! into a fresh virtual environment without an index, and run from there, as `pipx`, `uv tool`
//! and `uvx` run it. The wheel carries the binary alone, so the blueprints and their lock must
//! come embedded in it.
//!
//! Needs maturin (`$SPACEGEN_MATURIN`, else `maturin` on the PATH) and `python3` with `venv`.
//! Without them the test says it was skipped; with `SPACEGEN_REQUIRE_WHEEL` set (`.ci/run` sets
//! it after installing maturin) it fails instead.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn maturin() -> PathBuf {
    std::env::var_os("SPACEGEN_MATURIN").map_or_else(|| PathBuf::from("maturin"), PathBuf::from)
}

fn works(cmd: &mut Command) -> bool {
    cmd.output().is_ok_and(|o| o.status.success())
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("could not start {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({})\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Where a virtual environment keeps its scripts.
fn scripts(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts")
    } else {
        venv.join("bin")
    }
}

#[test]
fn the_wheel_installs_and_generates_offline() {
    let required = std::env::var_os("SPACEGEN_REQUIRE_WHEEL").is_some();
    let has_maturin = works(Command::new(maturin()).arg("--version"));
    let has_venv = works(Command::new("python3").args(["-c", "import venv, ensurepip"]));
    if !(has_maturin && has_venv) {
        let missing = if has_maturin {
            "python3 with venv"
        } else {
            "maturin (pip install maturin, or set SPACEGEN_MATURIN)"
        };
        assert!(
            !required,
            "SPACEGEN_REQUIRE_WHEEL is set, but {missing} is missing"
        );
        eprintln!(
            "skipped: {missing} is missing, so the wheel was not built (.ci/run installs it)"
        );
        return;
    }

    let tmp = tempfile::tempdir().unwrap();
    let dist = tmp.path().join("dist");
    // The dev profile shares the test build's artifacts in the workspace's target folder.
    run(Command::new(maturin())
        .current_dir(repo())
        .args(["build", "--profile", "dev", "--locked", "--quiet", "--out"])
        .arg(&dist));
    let wheels: Vec<PathBuf> = std::fs::read_dir(&dist)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(wheels.len(), 1, "{wheels:?}");
    let name = wheels[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let prefix = format!("spacegen-{}-py3-none-", env!("CARGO_PKG_VERSION"));
    assert!(
        name.starts_with(&prefix) && name.ends_with(".whl"),
        "{name}"
    );

    let venv = tmp.path().join("venv");
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    run(Command::new(scripts(&venv).join("python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-index",
        ])
        .arg(&wheels[0]));
    let spacegen = scripts(&venv).join(if cfg!(windows) {
        "spacegen.exe"
    } else {
        "spacegen"
    });
    assert!(
        spacegen.is_file(),
        "the wheel installed no {}",
        spacegen.display()
    );

    // Run away from the repository, so nothing on disk can stand in for what is embedded.
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let list = run(Command::new(&spacegen).arg("list").current_dir(&elsewhere));
    let list = String::from_utf8_lossy(&list.stdout);
    for blueprint in ["sqlite-demo", "openrouter", "neon-qdrant-openai"] {
        assert!(
            list.contains(blueprint),
            "`spacegen list` lacks {blueprint}:\n{list}"
        );
    }

    run(Command::new(&spacegen)
        .args(["new", "--defaults", "my-space"])
        .current_dir(&elsewhere));
    let project = elsewhere.join("my-space");
    for file in [
        "Dockerfile",
        "requirements.txt",
        "README.md",
        ".spacegen/answers.toml",
    ] {
        assert!(project.join(file).is_file(), "the project lacks {file}");
    }
    let requirements = std::fs::read_to_string(project.join("requirements.txt")).unwrap();
    assert!(
        requirements.contains("--hash=sha256:"),
        "the pins of the embedded lock are missing:\n{requirements}"
    );
}

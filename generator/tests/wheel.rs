//! The Python wheel (`pyproject.toml`, maturin with `bindings = "bin"`): built here, installed
//! into a fresh virtual environment without an index and run from there, and run through
//! `uvx` and `uv tool install` offline, and `pipx install`. The wheel carries the binary alone, so the blueprints and their lock must
//! come embedded in it. The sdist, which pip builds from where no wheel fits, must build a wheel
//! that works just as well, from itself alone.
//!
//! Needs maturin (`$SPACEGEN_MATURIN`, else `maturin` on the PATH; for the sdist, installed with
//! pip into a venv, whose Python runs its build backend) and `python3` with `venv`. Without them
//! the tests say they were skipped; with `SPACEGEN_REQUIRE_WHEEL` set (`.ci/run` sets it after
//! installing maturin) they fail instead.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::run_ok;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn maturin() -> PathBuf {
    std::env::var_os("SPACEGEN_MATURIN").map_or_else(|| PathBuf::from("maturin"), PathBuf::from)
}

fn works(cmd: &mut Command) -> bool {
    cmd.output().is_ok_and(|o| o.status.success())
}

/// Where a virtual environment keeps its scripts.
fn scripts(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts")
    } else {
        venv.join("bin")
    }
}

/// Whether the wheel tests can run here; when they cannot, says why (and fails when
/// `SPACEGEN_REQUIRE_WHEEL` is set).
fn can_build(what: &str) -> bool {
    let required = std::env::var_os("SPACEGEN_REQUIRE_WHEEL").is_some();
    let has_maturin = works(Command::new(maturin()).arg("--version"));
    let has_venv = works(Command::new("python3").args(["-c", "import venv, ensurepip"]));
    if has_maturin && has_venv {
        return true;
    }
    let missing = if has_maturin {
        "python3 with venv"
    } else {
        "maturin (pip install maturin, or set SPACEGEN_MATURIN)"
    };
    assert!(
        !required,
        "SPACEGEN_REQUIRE_WHEEL is set, but {missing} is missing"
    );
    eprintln!("skipped: {missing} is missing, so {what} was not built (.ci/run installs it)");
    false
}

/// The one file `dist` holds, checked to be a wheel of this version.
fn the_wheel_in(dist: &Path) -> PathBuf {
    let wheels: Vec<PathBuf> = std::fs::read_dir(dist)
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
    wheels[0].clone()
}

#[test]
fn the_wheel_installs_and_generates_offline() {
    if !can_build("the wheel") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dist = tmp.path().join("dist");
    // The dev profile shares the test build's artifacts in the workspace's target folder.
    run_ok(
        Command::new(maturin())
            .current_dir(repo())
            .args(["build", "--profile", "dev", "--locked", "--quiet", "--out"])
            .arg(&dist),
    );
    let wheel = the_wheel_in(&dist);
    install_and_run(&wheel, tmp.path());
    release_smoke_test(&wheel);
    with_uv(&wheel, tmp.path());
    with_pipx(&wheel, tmp.path());
}

/// `pipx install` of the wheel, with pipx's folders under `tmp` (pipx itself may ask the index
/// for its shared pip; the wheel needs nothing from it). pipx is `$SPACEGEN_PIPX`, else `pipx`
/// on the PATH; without it this part says it was skipped, unless `SPACEGEN_REQUIRE_WHEEL` is set.
fn with_pipx(wheel: &Path, tmp: &Path) {
    let pipx =
        std::env::var_os("SPACEGEN_PIPX").map_or_else(|| PathBuf::from("pipx"), PathBuf::from);
    if !works(Command::new(&pipx).arg("--version")) {
        assert!(
            std::env::var_os("SPACEGEN_REQUIRE_WHEEL").is_none(),
            "SPACEGEN_REQUIRE_WHEEL is set, but {} does not run",
            pipx.display()
        );
        eprintln!("skipped: pipx is missing, so `pipx install` of the wheel was not tried");
        return;
    }
    let home = tmp.join("pipx");
    run_ok(
        Command::new(&pipx)
            .env("PIPX_HOME", home.join("home"))
            .env("PIPX_BIN_DIR", home.join("bin"))
            .env("PIPX_MAN_DIR", home.join("man"))
            .env_remove("VIRTUAL_ENV")
            .arg("install")
            .arg(wheel),
    );
    let installed = common::spacegen_in(&home.join("bin"));
    let elsewhere = tmp.join("with-pipx");
    std::fs::create_dir(&elsewhere).unwrap();
    run_ok(
        Command::new(&installed)
            .args(["new", "--defaults", "from-pipx"])
            .current_dir(&elsewhere),
    );
    assert!(elsewhere.join("from-pipx/Dockerfile").is_file());
}

/// `uvx` (`uv tool run`) and `uv tool install` of the wheel, offline, with uv's cache and tool
/// folders under `tmp`: the routes the README's first screen gives.
fn with_uv(wheel: &Path, tmp: &Path) {
    let uv = common::uv().unwrap_or_else(|| PathBuf::from("uv"));
    let elsewhere = tmp.join("with-uv");
    std::fs::create_dir(&elsewhere).unwrap();
    let uv_command = || {
        let mut cmd = Command::new(&uv);
        cmd.current_dir(&elsewhere)
            .env("UV_CACHE_DIR", tmp.join("uv-cache"))
            .env("UV_TOOL_DIR", tmp.join("uv-tools"))
            .env("UV_TOOL_BIN_DIR", tmp.join("uv-bin"))
            .env("UV_PYTHON_DOWNLOADS", "never")
            .env_remove("VIRTUAL_ENV");
        cmd
    };
    let list = run_ok(
        uv_command()
            .args(["tool", "run", "--offline", "--no-config", "--from"])
            .arg(wheel)
            .args(["spacegen", "list"]),
    );
    assert!(String::from_utf8_lossy(&list.stdout).contains("sqlite-demo"));
    run_ok(
        uv_command()
            .args(["tool", "install", "--offline", "--no-config"])
            .arg(wheel),
    );
    let installed = common::spacegen_in(&tmp.join("uv-bin"));
    run_ok(
        Command::new(&installed)
            .args(["new", "--defaults", "from-uv"])
            .current_dir(&elsewhere),
    );
    assert!(elsewhere.join("from-uv/Dockerfile").is_file());
}

/// The release workflow's own test of each wheel it builds, run here on this one: its script
/// in a folder holding `dist/` with the wheel, with `python` on the PATH as on the runners.
#[cfg(unix)]
fn release_smoke_test(wheel: &Path) {
    use std::os::unix::fs::PermissionsExt as _;

    let script = common::workflow_step("release.yml", "wheels", "the wheel runs offline");
    let runner = tempfile::tempdir().unwrap();
    std::fs::create_dir(runner.path().join("dist")).unwrap();
    std::fs::copy(
        wheel,
        runner.path().join("dist").join(wheel.file_name().unwrap()),
    )
    .unwrap();
    let bin = runner.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::fs::write(bin.join("python"), "#!/bin/sh\nexec python3 \"$@\"\n").unwrap();
    std::fs::set_permissions(bin.join("python"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    run_ok(
        Command::new("bash")
            .args(["-euo", "pipefail", "-c", &script])
            .current_dir(runner.path())
            .env("PATH", path),
    );
    assert!(runner.path().join("my-space/Dockerfile").is_file());
}

#[cfg(not(unix))]
fn release_smoke_test(_wheel: &Path) {}

/// Where no wheel fits (another platform, another libc), pip builds one from the sdist with the
/// maturin build backend. The sdist must carry everything the binary embeds (the blueprints,
/// the lock) and the licence, and build offline from itself alone.
#[test]
fn the_sdist_builds_a_wheel_that_works() {
    if !can_build("the sdist") {
        return;
    }
    // pip runs the build backend (the maturin Python package) in the interpreter beside the
    // maturin it was installed with, and that backend runs `maturin` from the PATH.
    let tools = maturin()
        .canonicalize()
        .ok()
        .and_then(|m| m.parent().map(Path::to_path_buf));
    let python = tools.as_ref().map(|t| t.join("python"));
    let backend = python
        .as_ref()
        .is_some_and(|p| works(Command::new(p).args(["-c", "import maturin"])));
    let (Some(tools), Some(python), true) = (tools, python, backend) else {
        assert!(
            std::env::var_os("SPACEGEN_REQUIRE_WHEEL").is_none(),
            "SPACEGEN_REQUIRE_WHEEL is set, but {} was not installed with pip into a venv",
            maturin().display()
        );
        eprintln!(
            "skipped: maturin's build backend is not importable beside {}",
            maturin().display()
        );
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let sdists = tmp.path().join("sdist");
    run_ok(
        Command::new(maturin())
            .current_dir(repo())
            .args(["sdist", "--out"])
            .arg(&sdists),
    );
    let sdist = std::fs::read_dir(&sdists)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".tar.gz"))
        .expect("maturin sdist wrote a .tar.gz");
    let listing = run_ok(Command::new("tar").arg("tzf").arg(&sdist));
    let listing = String::from_utf8_lossy(&listing.stdout);
    let root = format!("spacegen-{}/", env!("CARGO_PKG_VERSION"));
    for file in [
        "LICENSE",
        "README.md",
        "pyproject.toml",
        "Cargo.lock",
        "spaces.lock",
        "blueprints/matrix.toml",
        "blueprints/base/blueprint.toml",
        "blueprints/sqlite-demo/blueprint.toml",
        "generator/Cargo.toml",
        "generator/src/main.rs",
    ] {
        assert!(
            listing.lines().any(|l| l == format!("{root}{file}")),
            "the sdist lacks {file}:\n{listing}"
        );
    }
    let path = std::env::join_paths(std::iter::once(tools.clone()).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let dist = tmp.path().join("dist");
    run_ok(
        Command::new(&python)
            .current_dir(tmp.path())
            .env("PATH", path)
            // A profile of its own (as `dev`, shared with tests/crate_package.rs), so the build
            // never replaces the binary the other tests run.
            .env("MATURIN_PEP517_ARGS", "--profile packaged --locked")
            .env("CARGO_PROFILE_PACKAGED_INHERITS", "dev")
            .env(
                "CARGO_TARGET_DIR",
                std::env::var_os("CARGO_TARGET_DIR")
                    .map_or_else(|| repo().join("target"), PathBuf::from),
            )
            .args([
                "-m",
                "pip",
                "wheel",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--no-index",
                "--no-build-isolation",
                "--wheel-dir",
            ])
            .arg(&dist)
            .arg(&sdist),
    );
    let wheel = the_wheel_in(&dist);
    let contents = run_ok(
        Command::new(&python)
            .args([
                "-c",
                "import sys, zipfile; print('\\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))",
            ])
            .arg(&wheel),
    );
    let contents = String::from_utf8_lossy(&contents.stdout);
    assert!(
        contents
            .lines()
            .any(|l| l.ends_with(".dist-info/licenses/LICENSE")),
        "the wheel carries no licence:\n{contents}"
    );
    install_and_run(&wheel, tmp.path());
}

/// Installs `wheel` with no index into a fresh venv under `tmp` and runs `spacegen list` and
/// `spacegen new --defaults` from it, away from the repository.
fn install_and_run(wheel: &Path, tmp: &Path) {
    let venv = tmp.join("venv");
    run_ok(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    run_ok(
        Command::new(scripts(&venv).join("python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-index",
            ])
            .arg(wheel),
    );
    let spacegen = common::spacegen_in(&scripts(&venv));
    assert!(
        spacegen.is_file(),
        "the wheel installed no {}",
        spacegen.display()
    );

    // Run away from the repository, so nothing on disk can stand in for what is embedded.
    let elsewhere = tmp.join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let list = run_ok(Command::new(&spacegen).arg("list").current_dir(&elsewhere));
    let list = String::from_utf8_lossy(&list.stdout);
    for blueprint in ["sqlite-demo", "openrouter", "neon-qdrant-openai"] {
        assert!(
            list.contains(blueprint),
            "`spacegen list` lacks {blueprint}:\n{list}"
        );
    }

    run_ok(
        Command::new(&spacegen)
            .args(["new", "--defaults", "my-space"])
            .current_dir(&elsewhere),
    );
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

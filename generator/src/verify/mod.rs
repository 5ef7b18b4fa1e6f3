//! Proving a locked set: the project generated with default answers, the set installed with
//! `pip --require-hashes` into a fresh virtual environment, the project's own tests run, the
//! app booted until `/health` answers ([`probe`]). Evidence is returned only when every step
//! passed; progress goes to a [`Progress`], never to the terminal directly.

pub(crate) mod probe;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::answers::Provided;
use crate::blueprint::Blueprint;
use crate::error::{Error, Result};
use crate::lock::interpreter;
use crate::lock::{LockedBlueprint, Verification};
use crate::progress::Progress;
use crate::project::{self, write};

/// How long the booted app has to answer `/health`.
const BOOT_TIMEOUT: Duration = Duration::from_secs(60);

/// The oldest pip each CPython minor version bundles (its `.0` release's `ensurepip`): the
/// oldest pip a user of a supported Python has, and the one every locked set must install
/// with, as people type it (`pip install -r requirements.txt`). Debian bookworm's 23.0.1 lies
/// between the first two.
pub(crate) const OLDEST_PIP: [(&str, &str); 4] = [
    ("3.11", "22.3"),
    ("3.12", "23.2.1"),
    ("3.13", "24.2"),
    ("3.14", "25.2"),
];

/// The oldest pip of the CPython minor version `minor` (`3.11`), if it is known.
pub(crate) fn oldest_pip(minor: &str) -> Option<&'static str> {
    OLDEST_PIP
        .iter()
        .find(|(m, _)| *m == minor)
        .map(|(_, pip)| *pip)
}

/// The steps, in order. The runtime set goes in first, alone, as the Space's Dockerfile installs
/// it (`--no-deps`, then `pip check`), with today's pip, and must import the app; then the
/// tests and the boot; then the whole set again with the oldest pip of this Python, by the
/// plain command people type.
const STEPS: [&str; 9] = [
    "generate the project with default answers",
    "create a virtual environment with today's pip",
    "pip install --no-deps --require-hashes -r requirements.txt, then pip check",
    "import the app with the runtime requirements alone",
    "pip install --require-hashes -r requirements-dev.txt",
    "the generated project's own tests (pytest)",
    "boot with uvicorn and GET /health",
    "a virtual environment with this Python's oldest pip",
    "pip install -r requirements-dev.txt with it, then pip check and import the app",
];

/// Runs the steps in order, reporting each.
struct Steps<'a> {
    next: usize,
    progress: &'a mut dyn Progress,
}

impl Steps<'_> {
    fn run<T>(&mut self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let name = STEPS.get(self.next).copied().unwrap_or("step");
        self.next += 1;
        self.progress.step_started(self.next, STEPS.len(), name);
        let started = Instant::now();
        let result = f();
        self.progress
            .step_finished(result.as_ref().ok().map(|_| started.elapsed()));
        result
    }
}

/// Where a venv keeps its interpreter: Scripts\python.exe on Windows, bin/python elsewhere.
fn venv_python(venv: &Path) -> std::path::PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

/// Generates `bp` with its default answers, installs `entry`'s set with `--require-hashes`
/// into a fresh venv as the Dockerfile does, runs the project's tests and boots it, then
/// installs it again with this Python's oldest pip by the plain command.
pub(crate) fn verify(
    bp: &Blueprint,
    entry: &LockedBlueprint,
    progress: &mut dyn Progress,
) -> Result<Verification> {
    progress.verifying(&bp.name);
    let python = interpreter::interpreter();
    let interp = interpreter::require_supported(&python, &entry.requires_python)?;
    let oldest = oldest_pip(&interp.minor).ok_or_else(|| {
        Error::Other(format!(
            "no oldest pip is known for Python {}: add it to OLDEST_PIP",
            interp.minor
        ))
    })?;
    let work = tempfile::tempdir()
        .map_err(|e| Error::io("create a temporary folder", std::env::temp_dir(), e))?;
    let dir = work.path().join("project");
    let venv = work.path().join("venv");
    let old_venv = work.path().join("venv-oldest-pip");
    let vpy = venv_python(&venv);
    let old_vpy = venv_python(&old_venv);
    let mut steps = Steps { next: 0, progress };
    steps.run(|| {
        let generated = project::generate(bp, entry, &Provided::default(), None)?;
        write::write(&generated.plan, &dir, false).map(|_| ())
    })?;
    // Today's pip, unless SPACEGEN_NEWEST_PIP names one (tests hold it still).
    let today = std::env::var("SPACEGEN_NEWEST_PIP").ok();
    let newest = steps.run(|| new_venv(&python, &venv, today.as_deref()))?;
    steps.run(|| {
        pip(
            &vpy,
            &dir,
            &[
                "install",
                "--no-deps",
                "--require-hashes",
                "-r",
                "requirements.txt",
            ],
        )?;
        pip(&vpy, &dir, &["check"])
    })?;
    steps.run(|| import_app(&vpy, &dir))?;
    steps.run(|| {
        pip(
            &vpy,
            &dir,
            &["install", "--require-hashes", "-r", "requirements-dev.txt"],
        )
    })?;
    let tests = steps.run(|| {
        let mut cmd = Command::new(&vpy);
        cmd.args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
            .current_dir(&dir);
        run_checked(&mut cmd, "pytest").map(|out| test_summary(&out))
    })?;
    let health = steps.run(|| boot(&vpy, &dir))?;
    let oldest = steps.run(|| new_venv(&python, &old_venv, Some(oldest)))?;
    steps.run(|| {
        pip(&old_vpy, &dir, &["install", "-r", "requirements-dev.txt"])?;
        pip(&old_vpy, &dir, &["check"])?;
        import_app(&old_vpy, &dir)
    })?;
    Ok(Verification {
        date: jiff::Zoned::now()
            .with_time_zone(jiff::tz::TimeZone::UTC)
            .date()
            .to_string(),
        python: interp.full,
        platform: interp.platform,
        spacegen: env!("CARGO_PKG_VERSION").to_owned(),
        installers: vec![format!("pip {oldest}"), format!("pip {newest}")],
        fingerprint: entry.fingerprint(),
        result: "pass".to_owned(),
        steps: vec![
            format!("pip {newest}: {}, then {}", STEPS[2], STEPS[3]),
            format!("pip {newest}: {}", STEPS[4]),
            format!("pytest: {tests}"),
            format!("uvicorn boot: GET /health → {health}"),
            format!("pip {oldest}: pip install -r requirements-dev.txt, pip check, import the app"),
        ],
    })
}

/// A virtual environment at `venv` with pip `version` (today's newest when `None`); the
/// version it has.
fn new_venv(python: &str, venv: &Path, version: Option<&str>) -> Result<String> {
    let mut cmd = Command::new(python);
    run_checked(cmd.args(["-m", "venv"]).arg(venv), "python -m venv")?;
    let vpy = venv_python(venv);
    let wanted = version.map_or("pip".to_owned(), |v| format!("pip=={v}"));
    let here = Path::new(".");
    pip(&vpy, here, &["install", "--upgrade", &wanted])?;
    let out = run_checked(
        Command::new(&vpy).args(["-c", "import pip; print(pip.__version__)"]),
        "pip --version",
    )?;
    Ok(out.trim().to_owned())
}

fn import_app(vpy: &Path, project: &Path) -> Result<()> {
    let mut cmd = Command::new(vpy);
    cmd.args(["-c", "import app.main"]).current_dir(project);
    run_checked(&mut cmd, "import the app").map(|_| ())
}

/// `pip <args>` in `project`, with the venv's Python.
fn pip(vpy: &Path, project: &Path, args: &[&str]) -> Result<()> {
    let mut cmd = Command::new(vpy);
    cmd.args(["-m", "pip"])
        .args(args)
        .args(["--disable-pip-version-check", "--no-input"])
        .current_dir(project);
    if args.first() == Some(&"install") {
        cmd.arg("--quiet");
    }
    run_checked(&mut cmd, &format!("pip {}", args.join(" "))).map(|_| ())
}

/// pytest's counts (`12 passed`), without the duration, which varies with machine load.
fn test_summary(output: &str) -> String {
    let line = output
        .lines()
        .rev()
        .find(|l| l.contains(" passed"))
        .unwrap_or("passed");
    let line = line.trim().trim_matches('=').trim();
    line.rsplit_once(" in ")
        .map_or(line, |(counts, _)| counts)
        .to_owned()
}

fn run_checked(cmd: &mut Command, what: &str) -> Result<String> {
    let out = cmd
        .output()
        .map_err(|e| Error::Other(format!("{what}: cannot start: {e}")))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        return Err(Error::Other(format!(
            "verification failed at: {what}\n{}",
            text.trim_end()
        )));
    }
    Ok(text)
}

/// Starts uvicorn on a free port and waits for `/health` to say the app is up.
fn boot(vpy: &Path, project: &Path) -> Result<probe::Health> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Error::Other(format!("no free port: {e}")))?;
    let mut child = Command::new(vpy)
        .args(["-m", "uvicorn", "app.main:app", "--host", "127.0.0.1"])
        .args(["--port", &port.to_string()])
        .current_dir(project)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Other(format!("cannot start uvicorn: {e}")))?;
    let base = format!("http://127.0.0.1:{port}");
    let result = probe::wait_for_health(&base, &mut child, BOOT_TIMEOUT)
        .map_err(|e| Error::Other(format!("verification failed at: uvicorn boot: {e}")));
    let _ = child.kill();
    let _ = child.wait();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_summaries_drop_the_duration() {
        let out = "....\n===== 12 passed, 1 warning in 3.54s =====\n";
        assert_eq!(test_summary(out), "12 passed, 1 warning");
        assert_eq!(test_summary("3 passed in 0.1s"), "3 passed");
    }
}

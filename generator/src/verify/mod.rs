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

/// The steps, in order. The runtime set goes in first, alone, and must import the app: that is
/// what the Space's Docker build installs.
const STEPS: [&str; 7] = [
    "generate the project with default answers",
    "create a virtual environment",
    "pip install --require-hashes -r requirements.txt",
    "import the app with the runtime requirements alone",
    "pip install --require-hashes -r requirements-dev.txt",
    "the generated project's own tests (pytest)",
    "boot with uvicorn and GET /health",
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

/// Generates `bp` with its default answers, installs `entry`'s set with `--require-hashes`
/// into a fresh venv, runs the project's tests and boots it.
pub(crate) fn verify(
    bp: &Blueprint,
    entry: &LockedBlueprint,
    progress: &mut dyn Progress,
) -> Result<Verification> {
    progress.verifying(&bp.name);
    let python = interpreter::interpreter();
    let interp = interpreter::require_supported(&python, &entry.requires_python)?;
    let work = tempfile::tempdir()
        .map_err(|e| Error::io("create a temporary folder", std::env::temp_dir(), e))?;
    let dir = work.path().join("project");
    let venv = work.path().join("venv");
    // Where a venv keeps its interpreter: Scripts\python.exe on Windows, bin/python elsewhere.
    let vpy = if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    };
    let mut steps = Steps { next: 0, progress };
    steps.run(|| {
        let generated = project::generate(bp, entry, &Provided::default(), None)?;
        write::write(&generated.plan, &dir, false).map(|_| ())
    })?;
    steps.run(|| {
        let mut cmd = Command::new(&python);
        run_checked(cmd.args(["-m", "venv"]).arg(&venv), "python -m venv").map(|_| ())
    })?;
    steps.run(|| pip_install(&vpy, &dir, "requirements.txt"))?;
    steps.run(|| {
        let mut cmd = Command::new(&vpy);
        cmd.args(["-c", "import app.main"]).current_dir(&dir);
        run_checked(&mut cmd, "import the app").map(|_| ())
    })?;
    steps.run(|| pip_install(&vpy, &dir, "requirements-dev.txt"))?;
    let tests = steps.run(|| {
        let mut cmd = Command::new(&vpy);
        cmd.args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
            .current_dir(&dir);
        run_checked(&mut cmd, "pytest").map(|out| test_summary(&out))
    })?;
    let health = steps.run(|| boot(&vpy, &dir))?;
    let date = run_checked(
        Command::new(&python).args([
            "-c",
            "import datetime; print(datetime.datetime.now(datetime.timezone.utc).date())",
        ]),
        "date",
    )?;
    Ok(Verification {
        date: date.trim().to_owned(),
        python: interp.full,
        platform: interp.platform,
        spacegen: env!("CARGO_PKG_VERSION").to_owned(),
        result: "pass".to_owned(),
        steps: vec![
            format!("{}, then {}", STEPS[2], STEPS[3]),
            STEPS[4].to_owned(),
            format!("pytest: {tests}"),
            format!("uvicorn boot: GET /health → {health}"),
        ],
    })
}

/// `pip install --require-hashes -r <file>` in `project`, with the venv's Python.
fn pip_install(vpy: &Path, project: &Path, file: &str) -> Result<()> {
    let mut cmd = Command::new(vpy);
    cmd.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ])
    .args(["--no-input", "--require-hashes", "-r", file])
    .current_dir(project);
    run_checked(&mut cmd, &format!("pip install --require-hashes -r {file}")).map(|_| ())
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

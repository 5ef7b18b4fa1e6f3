//! A builder for integration tests that drive the real `spacegen` binary.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The `uv` that `spacegen lock` runs: `$SPACEGEN_UV`, else `uv` on the PATH, else one
/// installed from PyPI into a venv under the target folder on first use (`None`: use the PATH).
pub fn uv() -> Option<PathBuf> {
    static UV: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    UV.get_or_init(|| {
        if let Some(uv) = std::env::var_os("SPACEGEN_UV") {
            return Some(PathBuf::from(uv));
        }
        let on_path = Command::new("uv").arg("--version").output();
        if on_path.is_ok_and(|o| o.status.success()) {
            return None;
        }
        let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tools-uv");
        let uv = venv.join("bin/uv");
        if !uv.is_file() {
            let ok = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .is_ok_and(|s| s.success())
                && Command::new(venv.join("bin/pip"))
                    .args([
                        "install",
                        "--quiet",
                        "--disable-pip-version-check",
                        "uv==0.13.9",
                    ])
                    .status()
                    .is_ok_and(|s| s.success());
            assert!(ok, "could not install uv into {}", venv.display());
        }
        Some(uv)
    })
    .clone()
}

/// Runs `cmd` and returns its output; fails the test, with both streams, unless it succeeded.
pub fn run_ok(cmd: &mut Command) -> Output {
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

/// Copies the tree `from` to `to`, leaving out Python's caches.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            if entry.file_name() != "__pycache__" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// Writes `<dir>/bps/spaces.lock` for the blueprint `bps/custom` (no packages) by asking
/// spacegen for its hash. A blueprint refused when it loads (`show` exits 3) gets none: `new`
/// stops at the same error first.
pub fn write_custom_lock(dir: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_spacegen"))
        .args(["show", "bps/custom"])
        .current_dir(dir)
        .output()
        .expect("spacegen runs");
    if out.status.code() == Some(3) {
        return;
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let hash = stdout
        .lines()
        .find_map(|l| l.strip_prefix("content hash: "))
        .unwrap_or_else(|| {
            panic!(
                "no hash in:\n{stdout}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
        .to_owned();
    std::fs::write(
        dir.join("bps/spaces.lock"),
        format!("format = 3\n\n[blueprints.custom]\nversion = \"1.0.0\"\ncontent-hash = \"{hash}\"\npython = \"3.11\"\nrequires-python = \">=3.11\"\nexclude-newer = \"2026-11-27T00:00:00Z\"\npackages = {{}}\n"),
    )
    .expect("write lock");
}

/// The `spacegen` executable an installer put in `bin` (`spacegen.exe` on Windows).
pub fn spacegen_in(bin: &Path) -> PathBuf {
    bin.join(if cfg!(windows) {
        "spacegen.exe"
    } else {
        "spacegen"
    })
}

/// The `run:` script of the step named `step` of job `job` in `.github/workflows/<file>`.
pub fn workflow_step(file: &str, job: &str, step: &str) -> String {
    let path = repo_root().join(".github/workflows").join(file);
    let text = std::fs::read_to_string(&path).expect("the workflow");
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).expect("the workflow is YAML");
    let steps = docs[0]["jobs"][job]["steps"]
        .as_vec()
        .unwrap_or_else(|| panic!("{file}: no job {job} with steps"));
    steps
        .iter()
        .find(|s| s["name"].as_str() == Some(step))
        .and_then(|s| s["run"].as_str())
        .unwrap_or_else(|| panic!("{file}: job {job} has no step {step:?} with a script"))
        .to_owned()
}

/// The repository root (where `blueprints/` and `spaces.lock` live).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// One run of `spacegen`, configured step by step.
pub struct Test {
    args: Vec<String>,
    dir: tempfile::TempDir,
    cwd: Option<PathBuf>,
    expected_status: i32,
}

/// What a run produced.
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
    pub dir: PathBuf,
    /// The folder it ran in.
    pub cwd: PathBuf,
}

impl Run {
    /// The whole run as one text: exit status, stdout and stderr, with the run's folder shown
    /// as `[TEMP]`.
    pub fn transcript(&self) -> String {
        let text = format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.status, self.stdout, self.stderr
        );
        let mut text = text;
        for dir in [&self.cwd, &self.dir] {
            let shown = dir.display().to_string();
            if let Ok(real) = std::fs::canonicalize(dir) {
                text = text.replace(&real.display().to_string(), "[TEMP]");
            }
            text = text.replace(&shown, "[TEMP]");
        }
        text
    }

    /// Panics, showing the whole output, unless stdout contains `needle`.
    pub fn stdout_has(&self, needle: &str) {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}:\n{}",
            self.stdout
        );
    }

    /// Panics, showing the whole output, unless stderr contains `needle`.
    pub fn stderr_has(&self, needle: &str) {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
    }
}

impl Test {
    pub fn new() -> Test {
        Test {
            args: Vec::new(),
            dir: tempfile::tempdir().expect("temp dir"),
            cwd: None,
            expected_status: 0,
        }
    }

    pub fn args<I, S>(mut self, args: I) -> Test
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn var(self, name: &str, value: &str) -> Test {
        self.args(["--var".to_string(), format!("{name}={value}")])
    }

    /// Runs in this folder instead of the temporary one.
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Test {
        self.cwd = Some(dir.into());
        self
    }

    pub fn status(mut self, status: i32) -> Test {
        self.expected_status = status;
        self
    }

    /// The temporary folder the test runs in.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(self, rel: &str, contents: &str) -> Test {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, contents).expect("write");
        self
    }

    /// Runs spacegen with no terminal on stdin, killing it if it has not ended after
    /// `deadline` (the run then shows exit status -1 and `deadline exceeded` in stderr). The
    /// exit status is left to the caller to judge.
    pub fn run_within(self, deadline: std::time::Duration) -> (Run, tempfile::TempDir) {
        let cwd = self
            .cwd
            .clone()
            .unwrap_or_else(|| self.dir.path().to_path_buf());
        let mut child = Command::new(env!("CARGO_BIN_EXE_spacegen"))
            .args(&self.args)
            .current_dir(&cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spacegen runs");
        let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                if let Some(mut pipe) = pipe {
                    let _ = pipe.read_to_end(&mut bytes);
                }
                String::from_utf8_lossy(&bytes).into_owned()
            })
        };
        let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
        let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status.code().unwrap_or(-1);
            }
            if started.elapsed() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break -1;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let mut stderr = stderr.join().expect("stderr");
        if started.elapsed() > deadline {
            stderr.push_str(&format!("\ndeadline exceeded ({deadline:?})\n"));
        }
        let run = Run {
            stdout: stdout.join().expect("stdout"),
            stderr,
            status,
            dir: self.dir.path().to_path_buf(),
            cwd,
        };
        (run, self.dir)
    }

    /// Runs spacegen with no terminal on stdin, and checks the exit status.
    pub fn run(self) -> (Run, tempfile::TempDir) {
        let cwd = self
            .cwd
            .clone()
            .unwrap_or_else(|| self.dir.path().to_path_buf());
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_spacegen"));
        cmd.args(&self.args).current_dir(&cwd).stdin(Stdio::null());
        if self.args.first().is_some_and(|a| a == "lock") {
            if let Some(uv) = uv() {
                cmd.env("SPACEGEN_UV", uv);
            }
            // `lock --verify` installs with today's pip: the tests hold it at the one they
            // were written with.
            cmd.env("SPACEGEN_NEWEST_PIP", "26.3");
        }
        let output: Output = cmd.output().expect("spacegen runs");
        let run = Run {
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            status: output.status.code().unwrap_or(-1),
            dir: self.dir.path().to_path_buf(),
            cwd: cwd.clone(),
        };
        assert_eq!(
            run.status, self.expected_status,
            "spacegen {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.args, run.stdout, run.stderr
        );
        (run, self.dir)
    }
}

impl Test {
    /// Runs spacegen with standard input and standard error on a pseudo-terminal of 100 columns
    /// (standard output piped), with `env` set, and checks the exit status. The run's `stderr`
    /// is what the terminal received, escape sequences and carriage returns included.
    #[cfg(unix)]
    pub fn run_in_terminal(self, env: &[(&str, &str)]) -> (Run, tempfile::TempDir) {
        use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
        use std::io::Read as _;

        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("openpt");
        grantpt(&master).expect("grantpt");
        unlockpt(&master).expect("unlockpt");
        let size = rustix::termios::Winsize {
            ws_row: 40,
            ws_col: 100,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        rustix::termios::tcsetwinsize(&master, size).expect("window size");
        let name = ptsname(&master, Vec::new()).expect("ptsname");
        let name = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(name.as_bytes());
        let open_slave = || {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(name)
                .expect("the terminal's other end")
        };
        let cwd = self
            .cwd
            .clone()
            .unwrap_or_else(|| self.dir.path().to_path_buf());
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_spacegen"));
        cmd.args(&self.args)
            .current_dir(&cwd)
            .stdin(open_slave())
            .stdout(Stdio::piped())
            .stderr(open_slave());
        if self.args.first().is_some_and(|a| a == "lock") {
            if let Some(uv) = uv() {
                cmd.env("SPACEGEN_UV", uv);
            }
            // `lock --verify` installs with today's pip: the tests hold it at the one they
            // were written with.
            cmd.env("SPACEGEN_NEWEST_PIP", "26.3");
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spacegen runs");
        // The terminal's other end stays open in `cmd` until it is dropped: then reading the
        // master ends (EIO) once the child has exited.
        drop(cmd);
        let mut master = std::fs::File::from(master);
        let terminal = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                match master.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => bytes.extend_from_slice(&buf[..n]),
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        });
        let mut stdout = String::new();
        if let Some(mut out) = child.stdout.take() {
            out.read_to_string(&mut stdout).expect("stdout");
        }
        let status = child.wait().expect("wait").code().unwrap_or(-1);
        let run = Run {
            stdout,
            stderr: terminal.join().expect("terminal"),
            status,
            dir: self.dir.path().to_path_buf(),
            cwd,
        };
        assert_eq!(
            run.status, self.expected_status,
            "spacegen {:?} on a terminal\n--- stdout\n{}\n--- terminal\n{:?}",
            self.args, run.stdout, run.stderr
        );
        (run, self.dir)
    }
}

/// Every file below `root`, by relative path, with its bytes.
pub fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in walkdir(root) {
        let rel = entry
            .strip_prefix(root)
            .expect("below root")
            .to_string_lossy()
            .replace('\\', "/");
        files.insert(rel, std::fs::read(&entry).expect("read"));
    }
    files
}

fn walkdir(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Snapshots a whole run (exit status, stdout, stderr) in the repository's `snapshots/`, as
/// `cli@NAME`. Content hashes are shown as `sha256:[HASH]`, so a blueprint edit does not churn
/// every snapshot that happens to print one.
pub fn assert_run(name: &str, run: &Run) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(repo_root().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.add_filter(r"sha256:[0-9a-f]{64}", "sha256:[HASH]");
    settings.add_filter(r"\(\d+\.\d s\)", "([TIME])");
    settings.add_filter(r#"date = "\d{4}-\d\d-\d\d""#, r#"date = "[DATE]""#);
    settings.add_filter(r"Verified \d{4}-\d\d-\d\d", "Verified [DATE]");
    settings.add_filter(r#""date": "\d{4}-\d\d-\d\d""#, r#""date": "[DATE]""#);
    settings.add_filter(r"pytest: \d+ passed(, \d+ skipped)?", "pytest: [COUNTS]");
    settings.bind(|| insta::assert_snapshot!(format!("cli@{name}"), run.transcript()));
}

//! End to end: generate `sqlite-demo`, install its locked requirements into a real venv, run
//! the generated project's own test suite, boot it with uvicorn and talk HTTP to it, also as
//! uid 1000 with only `./data` writable, the way a Hugging Face Space runs it.
//!
//! Needs `python3` (3.11, as in spaces.lock) with `venv` and access to PyPI. Virtual
//! environments are cached under the target folder by the hash of the requirements, so a
//! rerun skips the install.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use common::Test;
use sha2::{Digest, Sha256};
use spacegen::wait_for_health;

fn sh(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A venv with the project's pinned dev requirements, shared by every run with the same pins.
fn venv_for(project: &Path) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mut key = Sha256::new();
    for f in ["requirements.txt", "requirements-dev.txt"] {
        key.update(std::fs::read(project.join(f)).expect("requirements"));
    }
    let key = format!("{:x}", key.finalize());
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("e2e-venvs")
        .join(&key[..16]);
    if venv.join(".complete").is_file() {
        return venv;
    }
    let _ = std::fs::remove_dir_all(&venv);
    sh(
        Command::new("python3").args(["-m", "venv"]).arg(&venv),
        "python3 -m venv",
    );
    sh(
        Command::new(venv.join("bin/python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-input",
                "-r",
                "requirements-dev.txt",
            ])
            .current_dir(project),
        "pip install -r requirements-dev.txt",
    );
    sh(
        Command::new(venv.join("bin/python")).args(["-m", "pip", "check"]),
        "pip check",
    );
    std::fs::write(venv.join(".complete"), key).expect("mark venv complete");
    venv
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A running uvicorn, stopped on drop.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(mut cmd: Command) -> Server {
        let port = free_port();
        cmd.args([
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let child = cmd.spawn().expect("uvicorn starts");
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        if let Err(e) = wait_for_health(&server.base, &mut server.child, Duration::from_secs(60)) {
            panic!("uvicorn did not come up: {e}");
        }
        server
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// Status and response of a request, whatever the status.
fn send(req: ureq::Request, body: Option<&str>) -> (u16, ureq::Response) {
    let result = match body {
        Some(b) => req.set("Content-Type", "application/json").send_string(b),
        None => req.call(),
    };
    match result {
        Ok(r) => (r.status(), r),
        Err(ureq::Error::Status(code, r)) => (code, r),
        Err(e) => panic!("request failed: {e}"),
    }
}

fn preflight(server: &Server, origin: &str) -> (u16, Option<String>) {
    let req = ureq::request("OPTIONS", &server.url("/api/v1/sessions"))
        .set("Origin", origin)
        .set("Access-Control-Request-Method", "POST")
        .set(
            "Access-Control-Request-Headers",
            "authorization,content-type",
        );
    let (status, resp) = send(req, None);
    (
        status,
        resp.header("access-control-allow-origin")
            .map(str::to_owned),
    )
}

fn check_running_space(server: &Server) {
    let (status, resp) = send(ureq::get(&server.url("/")), None);
    assert_eq!(status, 200);
    let root = resp.into_string().expect("body");
    assert!(
        root.contains("/docs"),
        "root does not point to the docs: {root}"
    );

    let (status, resp) = send(ureq::get(&server.url("/health")), None);
    assert_eq!(status, 200);
    let health = resp.into_string().expect("body");
    assert!(health.contains("database"), "{health}");

    let (status, resp) = send(ureq::post(&server.url("/api/v1/sessions")), Some("{}"));
    assert!(
        status == 200 || status == 201,
        "session creation gave {status}"
    );
    let session = resp.into_string().expect("body");
    assert!(session.contains("session_id"), "{session}");

    let (status, acao) = preflight(server, "https://my-app.vercel.app");
    assert_eq!(
        (status, acao.as_deref()),
        (200, Some("https://my-app.vercel.app"))
    );
    let preview = "https://my-app-git-feature-x-team.vercel.app";
    let (status, acao) = preflight(server, preview);
    assert_eq!((status, acao.as_deref()), (200, Some(preview)));
    for evil in [
        "https://evil.example",
        "https://other-app.vercel.app",
        "https://my-app.vercel.app.evil.com",
    ] {
        let (status, acao) = preflight(server, evil);
        assert_eq!(status, 400, "{evil} preflight");
        assert_eq!(acao, None, "{evil} got CORS access");
    }
}

#[test]
fn sqlite_demo_installs_passes_its_tests_and_serves() {
    let (run, _dir) = Test::new().args(["new", "space", "--defaults"]).run();
    let project = run.dir.join("space");
    let venv = venv_for(&project);
    let python = venv.join("bin/python");

    // The generated project's own test suite.
    sh(
        Command::new(&python)
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
            .current_dir(&project),
        "generated pytest",
    );

    // Booted as on a developer's machine.
    let mut cmd = Command::new(&python);
    cmd.current_dir(&project);
    let server = Server::start(cmd);
    check_running_space(&server);
    drop(server);
    assert!(
        project.join("data/app.db").is_file(),
        "the database was not created in ./data"
    );
}

fn euid() -> Option<u32> {
    let out = Command::new("id").arg("-u").output().ok()?;
    String::from_utf8(out.stdout).ok()?.trim().parse().ok()
}

/// As on a Space: uid 1000, everything owned by root and read-only to the app but `./data`.
#[test]
fn sqlite_demo_runs_as_uid_1000_with_only_data_writable() {
    if euid() != Some(0) {
        eprintln!("skipped: needs root to switch to uid 1000 (CI runs as root)");
        return;
    }
    let (run, dir) = Test::new().args(["new", "space", "--defaults"]).run();
    let project = run.dir.join("space");
    let venv = venv_for(&project);
    sh(Command::new("chmod").args(["755"]).arg(dir.path()), "chmod");
    std::fs::create_dir_all(project.join("data")).expect("data dir");
    sh(
        Command::new("chown")
            .args(["1000:1000"])
            .arg(project.join("data")),
        "chown data",
    );

    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=1000", "--regid=1000", "--clear-groups"])
        .arg(venv.join("bin/python"))
        .env("HOME", "/tmp")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .current_dir(&project);
    let server = Server::start(cmd);
    check_running_space(&server);
    drop(server);

    let db = project.join("data/app.db");
    assert!(db.is_file(), "the database was not created in ./data");
    let out = Command::new("stat")
        .args(["-c", "%u"])
        .arg(&db)
        .output()
        .expect("stat");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1000");
}

/// Hostile answers reach the running app intact: the title typed with quotes, backslashes,
/// `"""`, `{{ }}`, `$` and unicode is what `.env.example` and the app's defaults give back.
#[test]
fn hostile_values_round_trip_through_env_and_python() {
    let title = "He said \"hi\" \\ '''\"\"\" {{ x }} $HOME $$ ünï 🚀";
    let (run, _dir) = Test::new()
        .args(["new", "space", "--defaults"])
        .var("title", title)
        .var("slug", "hostile")
        .run();
    let project = run.dir.join("space");
    let venv = venv_for(&project);
    let check = "import sys\n\
from dotenv import dotenv_values\n\
from app import defaults\n\
expected = sys.argv[1]\n\
env = dotenv_values('.env.example', interpolate=True)\n\
assert env['APP_TITLE'] == expected, (env['APP_TITLE'], expected)\n\
assert defaults.TITLE == expected, (defaults.TITLE, expected)\n";
    sh(
        Command::new(venv.join("bin/python"))
            .args(["-c", check, title])
            .current_dir(&project),
        "round trip of a hostile title",
    );
}

//! End to end: generate `sqlite-demo`, install its locked requirements into a real venv, run
//! the generated project's own test suite, boot it with uvicorn and talk HTTP to it, also as
//! uid 1000 with only `./data` writable, the way a Hugging Face Space runs it.
//!
//! Needs `python3` (3.11, as in spaces.lock) with `venv` and access to PyPI. Virtual
//! environments are cached under the target folder by the hash of the requirements, so a
//! rerun skips the install.

use crate::common;
use crate::postgres;

use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Test;
use sha2::{Digest, Sha256};
use spacegen::wait_for_health;

pub(crate) fn sh(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A venv with the project's pinned dev requirements, shared by every run with the same pins.
pub(crate) fn venv_for(project: &Path) -> PathBuf {
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

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A running uvicorn, stopped on drop.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub(crate) fn start(mut cmd: Command) -> Server {
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
            let logs = server.stop();
            let tail: Vec<&str> = logs.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            panic!(
                "uvicorn did not come up: {e}\n--- its log, last lines\n{}",
                tail.join("\n")
            );
        }
        server
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the server; what it wrote to stdout and stderr.
    pub(crate) fn stop(&mut self) -> String {
        use std::io::Read;
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut logs = String::new();
        if let Some(mut out) = self.child.stdout.take() {
            let _ = out.read_to_string(&mut logs);
        }
        if let Some(mut err) = self.child.stderr.take() {
            let _ = err.read_to_string(&mut logs);
        }
        logs
    }

    /// The server's peak resident memory so far, in KiB (Linux: VmHWM).
    fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }
}

/// What an upload of `total` bytes to `path` got: the status line and body of the answer, how
/// many bytes were sent before it came, and how long it took.
struct Upload {
    status: u16,
    head: String,
    body: String,
    sent: usize,
    elapsed: Duration,
}

/// POSTs `total` bytes of JSON-looking junk with a raw socket, declared with `Content-Length`
/// or sent chunked, and stops sending as soon as the server answers or closes.
fn upload(
    server: &Server,
    path: &str,
    origin: &str,
    token: &str,
    total: usize,
    chunked: bool,
) -> Upload {
    use std::io::{Read, Write};
    let addr = server.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    let framing = if chunked {
        "Transfer-Encoding: chunked".to_owned()
    } else {
        format!("Content-Length: {total}")
    };
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nOrigin: {origin}\r\nAuthorization: Bearer {token}\r\n{framing}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).expect("send the head");
    let mut reader = stream.try_clone().expect("clone");
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = answered.clone();
    let started = Instant::now();
    let read = std::thread::spawn(move || {
        let mut answer = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    answer.extend_from_slice(&buf[..n]);
                    flag.store(true, std::sync::atomic::Ordering::SeqCst);
                    if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
                        break;
                    }
                }
            }
        }
        (answer, started.elapsed())
    });
    let chunk = vec![b' '; 64 * 1024];
    let mut sent = 0;
    while sent < total && !answered.load(std::sync::atomic::Ordering::SeqCst) {
        let piece = &chunk[..chunk.len().min(total - sent)];
        let ok = if chunked {
            stream
                .write_all(format!("{:x}\r\n", piece.len()).as_bytes())
                .and_then(|()| stream.write_all(piece))
                .and_then(|()| stream.write_all(b"\r\n"))
        } else {
            stream.write_all(piece)
        };
        if ok.is_err() {
            break;
        }
        sent += piece.len();
    }
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let (answer, elapsed) = read.join().expect("reader");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Upload {
        status,
        head: head.to_ascii_lowercase(),
        body: body.to_owned(),
        sent,
        elapsed,
    }
}

/// A 100 MB body, declared and chunked, is refused with a JSON 413 (CORS headers included)
/// long before it is all sent, and the server's memory does not grow with it.
fn check_oversized_bodies(server: &Server, origin: &str, token: &str) {
    const TOTAL: usize = 100 * 1024 * 1024;
    let before = server.peak_rss_kib();
    for chunked in [false, true] {
        let u = upload(server, "/api/v1/tasks", origin, token, TOTAL, chunked);
        assert_eq!(u.status, 413, "chunked={chunked}: {}\n{}", u.head, u.body);
        assert!(
            u.head.contains("content-type: application/json"),
            "{}",
            u.head
        );
        let cors = format!("access-control-allow-origin: {origin}");
        assert!(u.head.contains(&cors), "{}", u.head);
        assert!(u.body.contains("payload_too_large"), "{}", u.body);
        assert!(
            u.sent < TOTAL / 2,
            "chunked={chunked}: {} bytes sent before the answer",
            u.sent
        );
        eprintln!(
            "oversized body ({} MB, {}): 413 after {:.0} ms, {:.1} MB sent",
            TOTAL / (1024 * 1024),
            if chunked { "chunked" } else { "Content-Length" },
            u.elapsed.as_secs_f64() * 1000.0,
            u.sent as f64 / (1024.0 * 1024.0)
        );
    }
    if let (Some(before), Some(after)) = (before, server.peak_rss_kib()) {
        eprintln!(
            "server peak RSS: {} MB before, {} MB after",
            before / 1024,
            after / 1024
        );
        assert!(
            after < before + 50 * 1024,
            "peak RSS grew from {before} KiB to {after} KiB"
        );
    }
    // The server is still there.
    let (status, _) = send(ureq::get(&server.url("/health")), None);
    assert_eq!(status, 200);
}

/// A cross-origin "simple" POST (text/plain: no preflight) is refused before it writes.
fn check_simple_cross_origin_post_writes_nothing(server: &Server, token: &str) {
    let auth = format!("Bearer {token}");
    let req = ureq::post(&server.url("/api/v1/tasks"))
        .set("Origin", "https://evil.example")
        .set("Authorization", &auth)
        .set("Content-Type", "text/plain");
    let result = req.send_string(r#"{"title": "written by another site"}"#);
    let (status, resp) = match result {
        Ok(r) => (r.status(), r),
        Err(ureq::Error::Status(code, r)) => (code, r),
        Err(e) => panic!("request failed: {e}"),
    };
    assert_eq!(status, 415);
    assert_eq!(resp.header("access-control-allow-origin"), None);
    let (status, resp) = send(
        ureq::get(&server.url("/api/v1/tasks")).set("Authorization", &auth),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(resp.into_string().expect("body").trim(), "[]");
}

/// Status and response of a request, whatever the status.
pub(crate) fn send(req: ureq::Request, body: Option<&str>) -> (u16, ureq::Response) {
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

/// The running app answers like a Space should: `/`, `/health`, sessions, the request guard, and
/// CORS for `frontend` (and the Vercel `preview` origin, when one is configured) only.
fn check_running_space(server: &Server, frontend: &str, preview: Option<&str>) {
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
    let token: serde_json::Value = serde_json::from_str(&session).expect("JSON");
    let token = token["token"].as_str().expect("a token");
    check_simple_cross_origin_post_writes_nothing(server, token);
    check_oversized_bodies(server, frontend, token);

    let (status, acao) = preflight(server, frontend);
    assert_eq!((status, acao.as_deref()), (200, Some(frontend)));
    let mut refused = vec![
        "https://evil.example",
        "https://other-app.vercel.app",
        "https://my-app.vercel.app.evil.com",
        "https://my-app-evil.vercel.app",
        "https://my-app-git-feature-x-someone-else.vercel.app",
    ];
    match preview {
        Some(preview) => {
            let (status, acao) = preflight(server, preview);
            assert_eq!((status, acao.as_deref()), (200, Some(preview)));
        }
        // Without the team slug no preview is admitted: nothing tells it from another account's.
        None => refused.push("https://my-app-git-feature-x-team.vercel.app"),
    }
    for evil in refused {
        let (status, acao) = preflight(server, evil);
        assert_eq!(status, 400, "{evil} preflight");
        assert_eq!(acao, None, "{evil} got CORS access");
    }
}

/// Generates `blueprint` with `vars` into a temporary folder, installs its locked requirements
/// and runs its own test suite; returns the folder (kept alive), the project and its Python.
fn generated_and_tested(
    blueprint: &str,
    vars: &[(&str, &str)],
) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let mut t = Test::new().args(["new", "space", "--defaults", "--blueprint", blueprint]);
    for (name, value) in vars {
        t = t.var(name, value);
    }
    let (run, dir) = t.run();
    let project = run.dir.join("space");
    let python = venv_for(&project).join("bin/python");
    sh(
        Command::new(&python)
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
            .current_dir(&project),
        &format!("the generated project's own tests ({blueprint}, {vars:?})"),
    );
    (dir, project, python)
}

#[test]
fn sqlite_demo_installs_passes_its_tests_and_serves() {
    let (_dir, project, python) = generated_and_tested("sqlite-demo", &[]);

    // Booted as on a developer's machine.
    let mut cmd = Command::new(&python);
    cmd.current_dir(&project);
    let server = Server::start(cmd);
    check_running_space(&server, "https://my-app.vercel.app", None);
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

/// As on a Space: uid 1000, everything owned by root and read-only to the app but `./data`,
/// and uvicorn started with the Dockerfile's protocol (`--http`, here as `UVICORN_HTTP`).
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
    let as_space_user = |program: &Path| {
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=1000", "--regid=1000", "--clear-groups"])
            .arg(program)
            .env("HOME", "/tmp")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .current_dir(&project);
        cmd
    };

    // What uid 1000 may write: ./data only; not the code, not the installed packages.
    let out = as_space_user(&venv.join("bin/python"))
        .args(["-c", WRITABLE])
        .output()
        .expect("python runs as uid 1000");
    assert!(out.status.success(), "{out:?}");
    let writable = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        writable.lines().collect::<Vec<_>>(),
        ["data"],
        "what uid 1000 may write"
    );

    let mut cmd = as_space_user(&venv.join("bin/python"));
    cmd.env("UVICORN_HTTP", dockerfile_http(&project));
    let server = Server::start(cmd);
    check_running_space(&server, "https://my-app.vercel.app", None);
    let (status, took) = oversized_header(server.base.trim_start_matches("http://"), 64 * 1024 + 1);
    assert!(status.starts_with("HTTP/1.1 431 "), "{status}");
    assert!(took < Duration::from_secs(2), "431 took {took:?}");
    let (status, _) = send(ureq::get(&server.url("/health/live")), None);
    assert_eq!(status, 200);
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

/// Prints, one a line, the project's entries (relative) and the installed distributions'
/// folders and first files that the running user may write.
const WRITABLE: &str = r#"
import importlib.metadata, os
paths = sorted(os.listdir("."))
paths += [os.path.join("app", f) for f in sorted(os.listdir("app"))]
for dist in importlib.metadata.distributions():
    paths.append(str(dist.locate_file("")))
    paths += [str(dist.locate_file(f)) for f in (dist.files or [])[:1]]
print("\n".join(p for p in dict.fromkeys(paths) if os.access(p, os.W_OK)))
"#;

/// The value of `--http` in the Dockerfile's CMD.
fn dockerfile_http(project: &Path) -> String {
    let dockerfile = std::fs::read_to_string(project.join("Dockerfile")).expect("Dockerfile");
    let cmd = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix("CMD "))
        .expect("a CMD");
    let args: Vec<String> = serde_json::from_str(cmd).expect("CMD in exec form");
    let at = args
        .iter()
        .position(|a| a == "--http")
        .expect("--http in CMD");
    args[at + 1].clone()
}

/// The status line of the answer to a GET of `/health/live` at `addr` (host:port) carrying a
/// header of `filler` bytes, and how long it took.
pub(crate) fn oversized_header(addr: &str, filler: usize) -> (String, Duration) {
    use std::io::{Read, Write};
    let started = Instant::now();
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut head =
        b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Filler: ".to_vec();
    head.resize(head.len() + filler, b'a');
    head.extend_from_slice(b"\r\n\r\n");
    // The server may answer and close before it has read everything.
    let _ = stream.write_all(&head);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    (
        answer.lines().next().unwrap_or_default().to_owned(),
        started.elapsed(),
    )
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

/// The switches change the project (a Postgres driver pinned, a Vercel preview expression, Dev
/// Mode tools): its own suite still passes against its own pins.
#[test]
fn a_project_with_every_switch_on_passes_its_tests() {
    let switches = [
        ("postgres", "true"),
        ("dev_mode", "true"),
        ("vercel_scope", "acme"),
        ("frontend_url", "https://App.Example.com:443"),
    ];
    let (_dir, project, python) = generated_and_tested("sqlite-demo", &switches);
    sh(
        Command::new(&python)
            .args(["-c", "import asyncpg"])
            .current_dir(&project),
        "the pinned Postgres driver is installed",
    );
    let mut cmd = Command::new(&python);
    cmd.current_dir(&project);
    let server = Server::start(cmd);
    check_running_space(
        &server,
        "https://app.example.com",
        Some("https://my-app-git-feature-x-acme.vercel.app"),
    );
}

/// A child process killed on drop.
pub(crate) struct Running(pub(crate) Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `data:` events of a Server-Sent Events body.
pub(crate) fn sse_events(body: &str) -> Vec<serde_json::Value> {
    body.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).expect("an event is JSON"))
        .collect()
}

pub(crate) fn chat_messages(server: &Server, token: &str) -> Vec<serde_json::Value> {
    let req = ureq::get(&server.url("/api/v1/chat/messages"))
        .set("Authorization", &format!("Bearer {token}"));
    let (status, resp) = send(req, None);
    assert_eq!(status, 200);
    serde_json::from_str(&resp.into_string().expect("body")).expect("JSON")
}

pub(crate) fn chat_stream(
    server: &Server,
    token: &str,
    message: &str,
) -> (u16, Vec<serde_json::Value>) {
    let req = ureq::post(&server.url("/api/v1/chat/stream"))
        .set("Authorization", &format!("Bearer {token}"));
    let body = serde_json::json!({ "message": message }).to_string();
    let (status, resp) = send(req, Some(&body));
    let text = resp.into_string().expect("body");
    (status, sse_events(&text))
}

/// The project's own OpenAI-compatible test server (`tests/fake_upstream.py`), listening; its
/// base URL (without `/v1`).
pub(crate) fn fake_upstream(python: &Path, project: &Path) -> (Running, String) {
    let port = free_port();
    let fake = Running(
        Command::new(python)
            .args(["-m", "tests.fake_upstream", "--port", &port.to_string()])
            .current_dir(project)
            .stdout(Stdio::null())
            .spawn()
            .expect("the fake upstream starts"),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the fake upstream did not listen"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (fake, format!("http://127.0.0.1:{port}"))
}

/// `openrouter` end to end against the OpenAI-compatible test server its own project ships
/// (`tests/fake_upstream.py`), reached through OPENROUTER_BASE_URL: its own suite, a streamed
/// answer read over real HTTP, both messages stored, `error` events (not hangs) for a failing
/// and a slow upstream, the upstream request cancelled when the client goes away, and 429 past
/// the rate limit.
#[test]
fn openrouter_streams_stores_fails_cleanly_cancels_and_limits() {
    let (_dir, project, python) = generated_and_tested("openrouter", &[]);

    let (fake, upstream) = fake_upstream(&python, &project);
    let mut cmd = Command::new(&python);
    cmd.current_dir(&project)
        .env("OPENROUTER_BASE_URL", format!("{upstream}/v1"))
        .env("OPENROUTER_API_KEY", "test-key")
        .env("MODEL_TIMEOUT_S", "1")
        .env("MODEL_MAX_RETRIES", "0")
        .env("CHAT_RATE_LIMIT", "6");
    let server = Server::start(cmd);
    let (status, resp) = send(ureq::post(&server.url("/api/v1/sessions")), Some("{}"));
    assert_eq!(status, 201);
    let session: serde_json::Value =
        serde_json::from_str(&resp.into_string().expect("body")).expect("JSON");
    let token = session["token"].as_str().expect("token").to_owned();

    // 1: a streamed answer, token by token, then done.
    let (status, events) = chat_stream(&server, &token, "hello over the wire");
    assert_eq!(status, 200);
    let text: String = events
        .iter()
        .filter(|e| e["type"] == "token")
        .filter_map(|e| e["content"].as_str())
        .collect();
    assert_eq!(text, "Echo: hello over the wire");
    assert_eq!(events.last().expect("events")["type"], "done");
    let stored = chat_messages(&server, &token);
    let stored: Vec<(&str, &str)> = stored
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap_or(""),
                m["content"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        stored,
        vec![
            ("user", "hello over the wire"),
            ("assistant", "Echo: hello over the wire")
        ]
    );

    // 2, 3: a failing and a slow upstream end the stream with an error event.
    for (message, code) in [
        ("boom [error]", "upstream_error"),
        ("wait [slow]", "upstream_timeout"),
    ] {
        let started = Instant::now();
        let (status, events) = chat_stream(&server, &token, message);
        assert_eq!(status, 200);
        let last = events.last().expect("events");
        assert_eq!(
            (last["type"].as_str(), last["code"].as_str()),
            (Some("error"), Some(code))
        );
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{message} took too long"
        );
    }

    // 4: the client goes away mid-stream; the upstream request is cancelled.
    {
        use std::io::{BufRead, BufReader, Write};
        let mut stream = std::net::TcpStream::connect(server.base.trim_start_matches("http://"))
            .expect("connect");
        let body = r#"{"message": "go on [long]"}"#;
        write!(
            stream,
            "POST /api/v1/chat/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .expect("send");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut line = String::new();
        while !line.starts_with("data: ") {
            line.clear();
            reader.read_line(&mut line).expect("read");
        }
        stream.shutdown(std::net::Shutdown::Both).expect("hang up");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let outcome = loop {
        let (_, resp) = send(ureq::get(&format!("{upstream}/_fake/log")), None);
        let log: Vec<serde_json::Value> =
            serde_json::from_str(&resp.into_string().expect("log")).expect("JSON");
        let last = log.last().expect("requests").clone();
        if last["outcome"] != "pending" || Instant::now() > deadline {
            break last["outcome"].as_str().unwrap_or("").to_owned();
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(outcome, "cut", "the upstream request was not cancelled");
    let stored = chat_messages(&server, &token);
    let partial = stored.last().expect("messages");
    assert_eq!(
        (partial["role"].as_str(), partial["complete"].as_bool()),
        (Some("assistant"), Some(false))
    );

    // 5, 6: the rate limit (6 a minute) answers 429 with Retry-After.
    let (status, _) = chat_stream(&server, &token, "five");
    assert_eq!(status, 200);
    let (status, _) = chat_stream(&server, &token, "six");
    assert_eq!(status, 200);
    let req =
        ureq::post(&server.url("/api/v1/chat")).set("Authorization", &format!("Bearer {token}"));
    let (status, resp) = send(req, Some(r#"{"message": "seven"}"#));
    assert_eq!(status, 429);
    assert!(resp.header("retry-after").is_some());
    drop(server);
    drop(fake);
}

pub(crate) const ADMIN_TOKEN: &str = "e2e-admin-token";

const HANDBOOK: &str = "# Staff handbook\n\n## Parking\n\nStaff park in the north garage. The \
access code for the north garage is 4417. Visitors park in the open lot by the river.\n\n\
## Holidays\n\nEvery employee has twenty-eight days of paid holiday a year.\n";

const RECIPES: &str = "# Recipes\n\n## Pancakes\n\nWhisk flour, milk and eggs into a smooth \
batter, rest it for ten minutes, then fry thin pancakes in butter.\n";

/// PostgreSQL for the tests that need it; without it, a loud skip, or a failure where
/// `SPACEGEN_REQUIRE_POSTGRES` is set (CI sets it: it installs PostgreSQL).
pub(crate) fn postgres_or_skip() -> Option<&'static postgres::Postgres> {
    match postgres::shared() {
        Ok(pg) => Some(pg),
        Err(e) if std::env::var_os("SPACEGEN_REQUIRE_POSTGRES").is_some() => {
            panic!("PostgreSQL is required here (SPACEGEN_REQUIRE_POSTGRES): {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED: no PostgreSQL server could be started: {e}");
            None
        }
    }
}

/// A PostgreSQL server of the test's own (for a test that restarts it), with the same skip or
/// failure as [`postgres_or_skip`].
pub(crate) fn own_postgres_or_skip() -> Option<postgres::Postgres> {
    match postgres::Postgres::own() {
        Ok(pg) => Some(pg),
        Err(e) if std::env::var_os("SPACEGEN_REQUIRE_POSTGRES").is_some() => {
            panic!("PostgreSQL is required here (SPACEGEN_REQUIRE_POSTGRES): {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED: no PostgreSQL server could be started: {e}");
            None
        }
    }
}

pub(crate) fn json_of(resp: ureq::Response) -> serde_json::Value {
    serde_json::from_str(&resp.into_string().expect("body")).expect("JSON")
}

pub(crate) fn post_json(
    server: &Server,
    path: &str,
    auth: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let req = ureq::post(&server.url(path)).set("Authorization", &format!("Bearer {auth}"));
    let (status, resp) = send(req, Some(&body.to_string()));
    (status, json_of(resp))
}

pub(crate) fn new_session_token(server: &Server) -> String {
    let (status, resp) = send(ureq::post(&server.url("/api/v1/sessions")), Some("{}"));
    assert_eq!(status, 201, "session creation");
    json_of(resp)["token"].as_str().expect("token").to_owned()
}

/// The environment of the RAG app in these tests: the fake upstream for chat and embeddings,
/// the admin token, Qdrant's embedded mode in `qdrant`.
pub(crate) fn rag_command(
    python: &Path,
    project: &Path,
    upstream: &str,
    qdrant: &Path,
    db: &str,
) -> Command {
    let mut cmd = Command::new(python);
    cmd.current_dir(project)
        .env("DATABASE_URL", db)
        .env("OPENAI_BASE_URL", format!("{upstream}/v1"))
        .env("OPENAI_API_KEY", "test-key")
        .env("ADMIN_TOKEN", ADMIN_TOKEN)
        .env("QDRANT_PATH", qdrant)
        .env("MODEL_TIMEOUT_S", "5")
        .env("MODEL_MAX_RETRIES", "0");
    cmd
}

/// `neon-qdrant-openai` end to end on a real PostgreSQL over TLS, given the connection string
/// as Neon's console writes it (`sslmode=require&channel_binding=require`), with Qdrant's
/// embedded mode and the project's fake OpenAI: its own suite, documents ingested, a question
/// whose answer is only in one of them streamed back with that document as its source,
/// sessions, messages and documents found in Postgres with `psql`, and the next requests
/// served after the server restarts.
#[test]
fn rag_answers_from_its_documents_on_postgres_over_tls_and_survives_a_restart() {
    // Its own server: the restart below would refuse the connections of the tests that share
    // one at the same time.
    let Some(mut pg) = own_postgres_or_skip() else {
        return;
    };
    let (_dir, project, python) = generated_and_tested("neon-qdrant-openai", &[]);
    let (fake, upstream) = fake_upstream(&python, &project);
    let url = pg.database("rag_e2e").expect("a database");
    let qdrant = tempfile::tempdir().expect("temp");
    let mut server = Server::start(rag_command(
        &python,
        &project,
        &upstream,
        qdrant.path(),
        &url,
    ));

    let (status, resp) = send(ureq::get(&server.url("/health")), None);
    let health = json_of(resp);
    assert_eq!(status, 200, "{health}");
    for dep in ["database", "model", "vector_store"] {
        assert_eq!(health["dependencies"][dep]["status"], "ok", "{health}");
    }

    let handbook =
        serde_json::json!({"source": "handbook.md", "title": "Staff handbook", "text": HANDBOOK});
    let (status, doc) = post_json(&server, "/api/v1/documents", ADMIN_TOKEN, &handbook);
    assert_eq!(status, 201, "{doc}");
    let handbook_id = doc["id"].as_str().expect("id").to_owned();
    let recipes = serde_json::json!({"source": "recipes.md", "text": RECIPES});
    let (status, _) = post_json(&server, "/api/v1/documents", ADMIN_TOKEN, &recipes);
    assert_eq!(status, 201);
    let (status, again) = post_json(&server, "/api/v1/documents", ADMIN_TOKEN, &handbook);
    assert_eq!((status, again["replaced"].as_bool()), (200, Some(true)));

    let token = new_session_token(&server);
    let question = "What is the access code of the north garage?";
    let (status, events) = chat_stream(&server, &token, question);
    assert_eq!(status, 200);
    let answer: String = events
        .iter()
        .filter(|e| e["type"] == "token")
        .filter_map(|e| e["content"].as_str())
        .collect();
    assert!(
        answer.contains("4417"),
        "the answer does not come from the document: {answer}"
    );
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(kinds[kinds.len() - 2..], ["sources", "done"], "{kinds:?}");
    let sources = &events[events.len() - 2]["sources"];
    assert_eq!(
        sources[0]["document_id"].as_str(),
        Some(handbook_id.as_str())
    );
    assert_eq!(sources[0]["title"], "Staff handbook");
    assert!(sources[0]["score"].as_f64().unwrap_or(0.0) > 0.0);

    // In Postgres, seen with psql.
    let db = |pg: &postgres::Postgres, sql: &str| pg.psql("rag_e2e", sql).expect("psql");
    assert_eq!(
        db(&pg, "SELECT source FROM documents ORDER BY source"),
        "handbook.md\nrecipes.md"
    );
    assert_eq!(db(&pg, "SELECT count(*) FROM sessions"), "1");
    let messages = db(
        &pg,
        "SELECT role || ': ' || content FROM chat_messages ORDER BY created_at",
    );
    let messages: Vec<&str> = messages.lines().collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(messages[0], format!("user: {question}"));
    assert!(messages[1].starts_with("assistant: ") && messages[1].contains("4417"));
    assert_eq!(
        db(
            &pg,
            "SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) \
            WHERE usename = 'app' AND NOT ssl"
        ),
        "0",
        "the app has a connection without TLS"
    );

    // The server restarts under the app; the next requests are served.
    pg.restart().expect("restart");
    assert!(postgres::wait_for_port(pg.port, Duration::from_secs(30)));
    let stored = chat_messages(&server, &token);
    assert_eq!(stored.len(), 2, "after the restart");
    let (status, whole) = post_json(
        &server,
        "/api/v1/chat",
        &token,
        &serde_json::json!({"message": "Pancakes: whisk what into the batter, and rest it how long?"}),
    );
    assert_eq!(status, 200, "{whole}");
    assert_eq!(whole["sources"][0]["title"], "recipes.md");
    assert_eq!(db(&pg, "SELECT count(*) FROM chat_messages"), "4");
    let logs = server.stop();
    assert!(logs.contains("channel_binding=require dropped"), "{logs}");
    assert!(
        !logs.contains("pg-test-Pa55word"),
        "the password reached the log"
    );
    drop(fake);
}

/// A TCP path to a server that a test can cut (every open connection closed, new ones closed
/// at once) and restore: a database going away and coming back, without stopping the server
/// other tests share.
pub(crate) struct Gate {
    pub(crate) port: u16,
    open: Arc<AtomicBool>,
    live: Arc<Mutex<Vec<TcpStream>>>,
}

impl Gate {
    /// A gate to `target` on a port of its own.
    pub(crate) fn to(target: u16) -> Gate {
        Gate::on(0, target)
    }

    /// A gate to `target` listening on `port` (0: any free port).
    pub(crate) fn on(port: u16, target: u16) -> Gate {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the gate");
        let port = listener.local_addr().expect("addr").port();
        let open = Arc::new(AtomicBool::new(true));
        let live: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (is_open, streams) = (open.clone(), live.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if !is_open.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let mut held = streams.lock().unwrap_or_else(|e| e.into_inner());
                for stream in [&client, &server] {
                    if let Ok(copy) = stream.try_clone() {
                        held.push(copy);
                    }
                }
                for (mut from, mut to) in [
                    (
                        client.try_clone().expect("clone"),
                        server.try_clone().expect("clone"),
                    ),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(Shutdown::Both);
                    });
                }
            }
        });
        Gate { port, open, live }
    }

    pub(crate) fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        let mut held = self.live.lock().unwrap_or_else(|e| e.into_inner());
        for stream in held.drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    pub(crate) fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

/// Booted while its database cannot be reached, the app comes up anyway: `/health` names the
/// database as failing (vector store and model fine), the routes that need it answer 503, the
/// log points at Hugging Face's outbound ports, and once the database is reachable the next
/// requests are served without a restart.
#[test]
fn rag_booted_with_its_database_down_stays_up_and_recovers() {
    let Some(pg) = postgres_or_skip() else { return };
    let (run, _dir) = Test::new()
        .args([
            "new",
            "space",
            "--defaults",
            "--blueprint",
            "neon-qdrant-openai",
        ])
        .run();
    let project = run.dir.join("space");
    let python = venv_for(&project).join("bin/python");
    let (fake, upstream) = fake_upstream(&python, &project);
    pg.database("rag_down").expect("a database");
    let port = free_port(); // nothing listens here yet
    let url = format!(
        "postgresql://{}:pg-test-Pa55word@127.0.0.1:{port}/rag_down?sslmode=require",
        postgres::APP_ROLE
    );
    let qdrant = tempfile::tempdir().expect("temp");
    let mut cmd = rag_command(&python, &project, &upstream, qdrant.path(), &url);
    cmd.args(["-m", "uvicorn", "app.main:app", "--host", "127.0.0.1"]);
    let app_port = free_port();
    cmd.args(["--port", &app_port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut server = Server {
        child: cmd.spawn().expect("uvicorn starts"),
        base: format!("http://127.0.0.1:{app_port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let (status, health) = loop {
        match ureq::get(&server.url("/health")).call() {
            Ok(r) => break (r.status(), json_of(r)),
            Err(ureq::Error::Status(code, r)) => break (code, json_of(r)),
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(200)),
            Err(e) => panic!("the app did not come up: {e}"),
        }
    };
    assert_eq!(status, 503, "{health}");
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["dependencies"]["database"]["status"], "error");
    let reason = health["dependencies"]["database"]["message"]
        .as_str()
        .unwrap_or("");
    assert!(reason.contains("connection refused"), "{health}");
    assert_eq!(health["dependencies"]["vector_store"]["status"], "ok");
    assert_eq!(health["dependencies"]["model"]["status"], "ok");
    let (status, resp) = send(ureq::post(&server.url("/api/v1/sessions")), Some("{}"));
    assert_eq!(status, 503);
    assert_eq!(json_of(resp)["code"], "unavailable");

    // The database becomes reachable; within the retry interval the app uses it.
    let _gate = Gate::on(port, pg.port);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _) = send(ureq::post(&server.url("/api/v1/sessions")), Some("{}"));
        if status == 201 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the app did not recover: {status}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let (status, _) = send(ureq::get(&server.url("/health")), None);
    assert_eq!(status, 200);
    let logs = server.stop();
    assert!(logs.contains("ports 80, 443 and 8080"), "{logs}");
    assert!(logs.contains("Trying the database again"), "{logs}");
    drop(fake);
}

/// A project edited in three files, then updated with an answer changed (Postgres on): the
/// edits merge, the new pins (asyncpg) install with their hashes, and the project's own tests
/// pass; `check` finds nothing, and `outdated` says it is current.
#[test]
fn an_edited_project_updated_to_postgres_installs_its_new_pins_and_passes_its_tests() {
    let (run, _dir) = Test::new().args(["new", "space", "--defaults"]).run();
    let project = run.dir.join("space");
    let append = |path: &str, text: &str| {
        let file = project.join(path);
        let old = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, old + text).unwrap();
    };
    append(
        "app/main.py",
        "\n# Our own note: the routers live in app/routers.\n",
    );
    append(
        "README.md",
        "\n## Our notes\n\nDeployed by the data team.\n",
    );
    let example = project.join(".env.example");
    let text = std::fs::read_to_string(&example).unwrap();
    std::fs::write(
        &example,
        format!("# Our team keeps its values in the Space settings.\n{text}"),
    )
    .unwrap();
    let (update, _d) = Test::new()
        .cwd(&run.dir)
        .args(["update", "space", "--var", "postgres=true"])
        .run();
    update.stdout_has("requirements.txt");
    let read = |path: &str| std::fs::read_to_string(project.join(path)).unwrap();
    assert!(read("requirements.txt").contains("\nasyncpg=="));
    assert!(read("app/main.py").contains("# Our own note"));
    assert!(read("README.md").contains("Deployed by the data team."));
    assert!(read(".env.example").starts_with("# Our team keeps"));
    let python = venv_for(&project).join("bin/python");
    sh(
        Command::new(&python)
            .args(["-c", "import asyncpg"])
            .current_dir(&project),
        "asyncpg from the updated pins",
    );
    sh(
        Command::new(&python)
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
            .current_dir(&project),
        "the updated project's own tests",
    );
    Test::new()
        .cwd(&run.dir)
        .args(["check", "space"])
        .run()
        .0
        .stdout_has("no findings");
    Test::new()
        .cwd(&run.dir)
        .args(["outdated", "space"])
        .run()
        .0
        .stdout_has("up to date");
}

/// A project of the oldest sqlite-demo release spacegen keeps, edited in three files and
/// updated to today's: the edits merge three-way against that release, the new pins install
/// with their hashes, and the project's own (new) tests pass; `check` finds nothing, and
/// `outdated` says it is current.
#[test]
fn a_project_of_the_oldest_release_edited_and_updated_installs_and_passes_its_tests() {
    let (history, _d) = Test::new().args(["history", "--format", "json"]).run();
    let json: serde_json::Value = serde_json::from_str(&history.stdout).unwrap();
    let oldest = json["releases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["blueprint"] == "sqlite-demo")
        .filter_map(|r| semver::Version::parse(r["version"].as_str()?).ok())
        .min()
        .unwrap();
    let spec = format!("sqlite-demo@{oldest}");
    let (run, _dir) = Test::new()
        .args(["new", "--blueprint", &spec, "space", "--defaults"])
        .run();
    let project = run.dir.join("space");
    let edit = |path: &str, edit: &dyn Fn(String) -> String| {
        let file = project.join(path);
        let old = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, edit(old)).unwrap();
    };
    edit("app/routers/tasks.py", &|t| {
        t + "\n\n# Our own note: tasks are listed newest first.\n"
    });
    edit("README.md", &|t| {
        t + "\n## Our notes\n\nDeployed by the data team.\n"
    });
    edit(".env.example", &|t| {
        format!("# Our team keeps its values in the Space settings.\n{t}")
    });
    let (update, _d) = Test::new()
        .cwd(&run.dir)
        .args(["update", "space", "--defaults"])
        .run();
    update.stdout_has(&format!("sqlite-demo {oldest} → "));
    update.stdout_has("three-way, against");
    let read = |path: &str| std::fs::read_to_string(project.join(path)).unwrap();
    assert!(read("app/routers/tasks.py").contains("# Our own note"));
    assert!(read("README.md").contains("Deployed by the data team."));
    assert!(read(".env.example").starts_with("# Our team keeps"));
    let python = venv_for(&project).join("bin/python");
    sh(
        Command::new(&python)
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
            .current_dir(&project),
        "the updated project's own tests",
    );
    Test::new()
        .cwd(&run.dir)
        .args(["check", "space"])
        .run()
        .0
        .stdout_has("no findings");
    Test::new()
        .cwd(&run.dir)
        .args(["outdated", "space"])
        .run()
        .0
        .stdout_has("up to date");
}

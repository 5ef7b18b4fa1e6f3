//! A lock holds while the index moves. A package index is served on localhost (the PEP 503
//! simple API as static files) holding the files every blueprint
//! locks for this machine, and beside each locked package a newer release that no one may
//! install (built here: a wheel whose `.pth` file stops every interpreter it is installed
//! into). Every blueprint is then installed from that index with the oldest pip a user of the
//! target Python has (the one CPython 3.11.0 bundles) and with the newest pip when the test
//! was written (26.3, held still as the index's files are), by the command
//! people type (`pip install -r requirements-dev.txt`) and by the Dockerfile's (`--no-deps
//! --require-hashes`, then `pip check`), and with `uv pip install`; each install must hold
//! exactly the locked versions and fetch no file of a newer release; the project's own tests
//! run after each pip's plain install, the app is imported after the others.
//!
//! The index is served by a small static file server in this process (it stops with the
//! tests); setting up takes the network once (the locked files and the pips come from PyPI and are
//! kept under the target folder); the installs under test see only the local index.

use crate::common;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::{run_ok, Test};

const BLUEPRINTS: [&str; 3] = ["sqlite-demo", "openrouter", "neon-qdrant-openai"];

/// The pip CPython 3.11.0 bundles: the oldest a user of the lock's target Python has (the
/// lock's `python` is 3.11; see `OLDEST_PIP` in `src/verify/mod.rs`).
const OLDEST_PIP: &str = "22.3";

/// Today's pip when this test was written: the test holds it still, as it holds the index's
/// files still (a later pip is tried by `spacegen lock --verify`, which records its version).
const NEWEST_PIP: &str = "26.3";

/// The version of every poisoned release (`make_index.py`).
const POISON: &str = "9999.0";

fn work() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("moving-index")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/moving-index")
        .join(name)
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A venv at `at` with pip `version` from PyPI, made once.
fn venv_with_pip(at: &Path, version: &str) -> PathBuf {
    let python = at.join("bin/python");
    if at.join(".complete").is_file() {
        return python;
    }
    let _ = std::fs::remove_dir_all(at);
    run_ok(Command::new("python3").args(["-m", "venv"]).arg(at));
    let wanted = format!("pip=={version}");
    run_ok(Command::new(&python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--upgrade",
        &wanted,
    ]));
    std::fs::write(at.join(".complete"), "").expect("mark the venv complete");
    python
}

fn pip_version(python: &Path) -> String {
    let out = run_ok(Command::new(python).args(["-c", "import pip; print(pip.__version__)"]));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The blueprints' projects, generated with default answers.
struct Projects {
    _dir: tempfile::TempDir,
    paths: Vec<(&'static str, PathBuf)>,
}

fn projects() -> &'static Projects {
    static P: OnceLock<Projects> = OnceLock::new();
    P.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let paths = BLUEPRINTS
            .iter()
            .map(|bp| {
                let (run, _d) = Test::new()
                    .cwd(dir.path())
                    .args(["new", bp, "--defaults", "--blueprint", bp])
                    .run();
                (*bp, run.cwd.join(bp))
            })
            .collect();
        Projects { _dir: dir, paths }
    })
}

/// `{name: version}` of every pin of `project`'s requirement files that applies here, as pip
/// would read them (markers evaluated by the venv's Python).
fn locked_here(python: &Path, project: &Path) -> BTreeMap<String, String> {
    let script = r##"
import json, re, sys
from pip._vendor.packaging.requirements import Requirement
from pip._vendor.packaging.utils import canonicalize_name
out = {}
for f in sys.argv[1:]:
    text = open(f).read().replace("\\\n", " ")
    for line in text.splitlines():
        line = re.sub(r"--hash=\S+", "", line).strip()
        if not line or line.startswith(("#", "-")):
            continue
        r = Requirement(line)
        if r.marker is None or r.marker.evaluate():
            out[canonicalize_name(r.name)] = str(r.specifier).removeprefix("==")
print(json.dumps(out))
"##;
    let out = run_ok(
        Command::new(python)
            .args(["-c", script, "requirements.txt", "requirements-dev.txt"])
            .current_dir(project),
    );
    serde_json::from_slice(&out.stdout).expect("the pins as JSON")
}

/// `{name: version}` of what is installed in the venv of `python`, pip and its kin left out.
fn installed(python: &Path) -> BTreeMap<String, String> {
    let script = r#"
import json
from importlib.metadata import distributions
from pip._vendor.packaging.utils import canonicalize_name
print(json.dumps({canonicalize_name(d.metadata["Name"]): d.version for d in distributions()}))
"#;
    // With a poisoned release installed, the interpreter stops at start-up, saying so.
    let out = Command::new(python)
        .args(["-c", script])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "listing the venv failed: {}",
        text(&out)
    );
    let mut all: BTreeMap<String, String> =
        serde_json::from_slice(&out.stdout).expect("the installed set as JSON");
    for tool in ["pip", "setuptools", "wheel"] {
        all.remove(tool);
    }
    all
}

/// The local index: built once from the locked files of every blueprint and the poisoned
/// releases, served for the whole run.
struct Index {
    url: String,
    /// The paths requested so far.
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

fn index() -> &'static Index {
    static I: OnceLock<Index> = OnceLock::new();
    I.get_or_init(|| {
        let work = work();
        std::fs::create_dir_all(&work).expect("the work folder");
        let files = work.join("files");
        let downloader = venv_with_pip(&work.join(format!("pip-{NEWEST_PIP}")), NEWEST_PIP);
        let requirements: Vec<PathBuf> = projects()
            .paths
            .iter()
            .flat_map(|(_, p)| [p.join("requirements.txt"), p.join("requirements-dev.txt")])
            .collect();
        for (_, project) in &projects().paths {
            run_ok(
                Command::new(&downloader)
                    .args([
                        "-m",
                        "pip",
                        "download",
                        "--quiet",
                        "--disable-pip-version-check",
                    ])
                    .args([
                        "--no-deps",
                        "--require-hashes",
                        "-r",
                        "requirements-dev.txt",
                        "-d",
                    ])
                    .arg(&files)
                    .current_dir(project),
            );
        }
        let root = work.join("index");
        run_ok(
            Command::new("python3")
                .arg(fixture("make_index.py"))
                .arg(&files)
                .arg(&root)
                .args(&requirements),
        );
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("its address").port();
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = std::sync::Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let root = root.clone();
                let seen = std::sync::Arc::clone(&seen);
                std::thread::spawn(move || serve(stream, &root, &seen));
            }
        });
        Index {
            url: format!("http://127.0.0.1:{port}/simple/"),
            requests,
        }
    })
}

/// Answers one HTTP/1.0-style request for a file under `root` (a folder's `index.html` for a
/// path ending in `/`), then closes the connection.
fn serve(mut stream: std::net::TcpStream, root: &Path, seen: &std::sync::Mutex<Vec<String>>) {
    use std::io::{BufRead, BufReader, Write};
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut first = String::new();
    if reader.read_line(&mut first).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line.trim().is_empty() => break,
            Ok(_) => {}
        }
    }
    let path = first.split_whitespace().nth(1).unwrap_or("/").to_owned();
    seen.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(path.clone());
    let clean = path
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .trim_start_matches('/');
    let mut file = root.join(clean);
    if clean.split('/').any(|p| p == "..") {
        file = root.join("missing");
    }
    if path.ends_with('/') {
        file = file.join("index.html");
    }
    let response = match std::fs::read(&file) {
        Ok(body) => {
            let kind = if file.extension().is_some_and(|e| e == "html") {
                "text/html"
            } else {
                "application/octet-stream"
            };
            let mut r = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            r.extend(body);
            r
        }
        Err(_) => {
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
        }
    };
    let _ = stream.write_all(&response);
}

/// How a set is installed.
#[derive(Debug, Clone, Copy)]
enum Install {
    /// `pip install -r requirements-dev.txt`, as people type it.
    Plain,
    /// The Dockerfile's `pip install --no-deps --require-hashes -r requirements.txt`, then
    /// `pip check`; then the development file the same way.
    Dockerfile,
}

/// Installs `project` with the pip of `python` from the local index, by `how`, into a fresh
/// venv made from that pip's venv; checks the installed set against the pins and runs the
/// project's tests.
fn install_and_test(base: &Path, pip: &str, project: &Path, blueprint: &str, how: Install) {
    let index = index();
    let venv = tempfile::tempdir().expect("a temporary folder");
    let venv = venv.path().join("venv");
    run_ok(
        Command::new("python3")
            .args(["-m", "venv", "--without-pip"])
            .arg(&venv),
    );
    let python = venv.join("bin/python");
    // The pip under test, copied in from its own venv (the venv itself never reads PyPI).
    let site = |v: &Path| -> PathBuf {
        let out = run_ok(Command::new(v).args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('purelib'))",
        ]));
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    };
    let (from, to) = (site(base), site(&python));
    for entry in std::fs::read_dir(&from).expect("the pip venv") {
        let entry = entry.expect("an entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "pip" || (name.starts_with("pip-") && name.ends_with(".dist-info")) {
            common::copy_dir(&entry.path(), &to.join(&name));
        }
    }
    assert_eq!(pip_version(&python), pip, "the pip under test");
    let pip_run = |args: &[&str]| {
        let out = Command::new(&python)
            .args(["-m", "pip"])
            .args(args)
            .args(["--disable-pip-version-check", "--no-input"])
            .env("PIP_INDEX_URL", &index.url)
            .env("PIP_CONFIG_FILE", "/dev/null")
            .env("PIP_NO_CACHE_DIR", "1")
            .current_dir(project)
            .output()
            .expect("pip runs");
        assert!(
            out.status.success(),
            "{blueprint}: pip {pip} {args:?} ({how:?}) failed from an index that has moved on:\n{}",
            text(&out)
        );
    };
    match how {
        Install::Plain => pip_run(&["install", "-r", "requirements-dev.txt"]),
        Install::Dockerfile => {
            for file in ["requirements.txt", "requirements-dev.txt"] {
                pip_run(&["install", "--no-deps", "--require-hashes", "-r", file]);
            }
        }
    }
    pip_run(&["check"]);
    let want = locked_here(&python, project);
    let have = installed(&python);
    assert_eq!(
        have, want,
        "{blueprint}: pip {pip} ({how:?}) installed another set than the pins"
    );
    // The same versions behave the same: the project's tests run once per pip, after the
    // command people type.
    let check = match how {
        Install::Plain => vec!["-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"],
        Install::Dockerfile => vec!["-c", "import app.main"],
    };
    run_ok(Command::new(&python).args(check).current_dir(project));
}

fn poisoned_fetches(index: &Index) -> Vec<String> {
    index
        .requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|l| l.contains(&format!("-{POISON}-")))
        .cloned()
        .collect()
}

fn with_pip(version: &str, how: Install) {
    let base = venv_with_pip(&work().join(format!("pip-{version}")), version);
    let pip = pip_version(&base);
    for (bp, project) in &projects().paths {
        install_and_test(&base, &pip, project, bp, how);
    }
    let fetched = poisoned_fetches(index());
    assert!(
        fetched.is_empty(),
        "newer releases were fetched:\n{}",
        fetched.join("\n")
    );
}

#[test]
fn the_oldest_pip_installs_exactly_the_lock_by_the_plain_command() {
    with_pip(OLDEST_PIP, Install::Plain);
}

#[test]
fn the_oldest_pip_installs_exactly_the_lock_by_the_dockerfiles_command() {
    with_pip(OLDEST_PIP, Install::Dockerfile);
}

#[test]
fn the_newest_pip_installs_exactly_the_lock_by_both_commands() {
    with_pip(NEWEST_PIP, Install::Plain);
    with_pip(NEWEST_PIP, Install::Dockerfile);
}

/// Installs `project` into a fresh venv with `uv pip <args>`, checks the installed set equals
/// its pins, and runs `check` with the venv's Python in the project.
fn uv_install_matches_the_pins(bp: &str, project: &Path, args: &[&str], check: &[&str]) {
    let uv = common::uv().unwrap_or_else(|| PathBuf::from("uv"));
    let dir = tempfile::tempdir().expect("a temporary folder");
    let venv = dir.path().join("venv");
    run_ok(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    let python = venv.join("bin/python");
    let out = Command::new(&uv)
        .args(["pip", args[0], "--python"])
        .arg(&python)
        .args(&args[1..])
        .env("UV_NO_CONFIG", "1")
        .current_dir(project)
        .output()
        .expect("uv runs");
    assert!(
        out.status.success(),
        "{bp}: uv pip {args:?} failed:\n{}",
        text(&out)
    );
    assert_eq!(
        installed(&python),
        locked_here(&python, project),
        "{bp}: uv pip {args:?} installed another set than the pins"
    );
    run_ok(Command::new(&python).args(check).current_dir(project));
}

#[test]
fn uv_installs_exactly_the_lock() {
    let index = index();
    for (bp, project) in &projects().paths {
        uv_install_matches_the_pins(
            bp,
            project,
            &[
                "install",
                "--index-url",
                &index.url,
                "--no-cache",
                "-r",
                "requirements-dev.txt",
            ],
            &["-c", "import app.main"],
        );
    }
    let fetched = poisoned_fetches(index);
    assert!(
        fetched.is_empty(),
        "newer releases were fetched:\n{}",
        fetched.join("\n")
    );
}

/// The generated `pylock.toml` (PEP 751) installs exactly the pins with `uv pip sync`, from the
/// URLs it records; the app imports, and sqlite-demo's own tests pass.
#[test]
fn pylock_installs_exactly_the_lock_with_uv_sync() {
    for (bp, project) in &projects().paths {
        let check: &[&str] = if *bp == "sqlite-demo" {
            &["-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"]
        } else {
            &["-c", "import app.main"]
        };
        uv_install_matches_the_pins(bp, project, &["sync", "pylock.toml"], check);
    }
}

//! `spacegen lock`: resolve every blueprint against the matrix, pin the full transitive set
//! with hashes, and optionally prove the set works (`--verify`).
//!
//! Resolution is offline. Pip (Python's own tooling) is asked for the transitive set and its
//! hashes only when the direct pins change; otherwise the locked artifacts are kept, so
//! `spacegen lock --check` needs no network.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use crate::answers::Provided;
use crate::blueprint::{self, Blueprint, Kind};
use crate::error::{Error, Result};
use crate::lock::{self, Lock, LockedArtifact, LockedBlueprint, LockedPackage, Verification};
use crate::matrix::Matrix;
use crate::resolve::{self, Request, Requested};
use crate::source::Source;
use crate::{generate, python, write};

/// What `spacegen lock` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub blueprints: PathBuf,
    pub lock: PathBuf,
    pub check: bool,
    /// `None`: keep locked versions that still fit. `Some([])`: update everything.
    pub update: Option<Vec<String>>,
    /// `Some(None)`: verify every blueprint; `Some(Some(name))`: that one.
    pub verify: Option<Option<String>>,
}

fn progress(msg: &str) {
    eprintln!("{msg}");
}

/// Runs `spacegen lock`.
pub fn run(opts: &Options) -> Result<()> {
    let matrix = Matrix::read(&opts.blueprints)?;
    let source = Source::Disk(opts.blueprints.clone());
    let current = std::fs::read_to_string(&opts.lock).ok();
    let old = match &current {
        Some(text) => Lock::parse(text, &opts.lock.display().to_string())?,
        None => Lock {
            format: lock::FORMAT,
            ..Default::default()
        },
    };
    let mut new = Lock {
        format: lock::FORMAT,
        ..Default::default()
    };
    let mut blueprints = Vec::new();
    for name in source.names()? {
        let bp = blueprint::load(&source, &name)?;
        if bp.kind == Kind::Layer {
            continue;
        }
        let entry = lock_blueprint(&bp, &matrix, old.blueprints.get(&bp.name), opts)?;
        report_changes(&bp.name, old.blueprints.get(&bp.name), &entry);
        new.blueprints.insert(bp.name.clone(), entry);
        blueprints.push(bp);
    }
    if let Some(Some(name)) = &opts.verify {
        if !new.blueprints.contains_key(name) {
            return Err(Error::Input(vec![format!(
                "--verify {name}: no such blueprint in {}",
                opts.blueprints.display()
            )]));
        }
    }
    let text = new.to_text()?;
    if opts.check {
        return match &current {
            Some(c) if *c == text => {
                println!("{} is up to date", opts.lock.display());
                Ok(())
            }
            _ => Err(Error::Lock(format!(
                "{} is out of date: run `spacegen lock`\n{}",
                opts.lock.display(),
                diff(current.as_deref().unwrap_or(""), &text)
            ))),
        };
    }
    if let Some(which) = &opts.verify {
        for bp in &blueprints {
            if which.as_ref().is_some_and(|n| n != &bp.name) {
                continue;
            }
            let Some(entry) = new.blueprints.get(&bp.name) else {
                continue;
            };
            let evidence = verify(bp, entry)?;
            if let Some(e) = new.blueprints.get_mut(&bp.name) {
                e.verification = Some(evidence);
            }
        }
    }
    let text = new.to_text()?;
    if current.as_deref() == Some(text.as_str()) {
        println!("{} is up to date", opts.lock.display());
    } else {
        write::replace_file(&opts.lock, text.as_bytes())?;
        println!("wrote {}", opts.lock.display());
    }
    Ok(())
}

/// A unified diff of two lock texts.
fn diff(old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .header("spaces.lock (on disk)", "spaces.lock (expected)")
        .to_string()
}

fn report_changes(name: &str, old: Option<&LockedBlueprint>, new: &LockedBlueprint) {
    for (pkg, locked) in &new.packages {
        match old.and_then(|o| o.packages.get(pkg)) {
            Some(o) if o.version == locked.version => {}
            Some(o) => println!("{name}: {pkg} {} → {}", o.version, locked.version),
            None => println!("{name}: {pkg} {} (new)", locked.version),
        }
    }
}

/// The request a blueprint makes of the resolver.
pub fn request(bp: &Blueprint, preferred: BTreeMap<String, pep440_rs::Version>) -> Request {
    let requested = bp
        .dependencies
        .all()
        .map(|p| Requested {
            name: p.name(),
            extras: p
                .requirement
                .extras
                .iter()
                .map(ToString::to_string)
                .collect(),
            versions: p
                .specifiers()
                .cloned()
                .unwrap_or_else(|| pep440_rs::VersionSpecifiers::from_iter(std::iter::empty())),
        })
        .collect();
    Request {
        blueprint: bp.name.clone(),
        requested,
        uses: bp.dependencies.uses.clone(),
        preferred,
    }
}

fn lock_blueprint(
    bp: &Blueprint,
    matrix: &Matrix,
    old: Option<&LockedBlueprint>,
    opts: &Options,
) -> Result<LockedBlueprint> {
    let mut preferred = BTreeMap::new();
    if let Some(old) = old {
        for (name, p) in &old.packages {
            let updating = match &opts.update {
                None => false,
                Some(list) => list.is_empty() || list.iter().any(|u| python::normalise(u) == *name),
            };
            if let (false, Ok(v)) = (updating, pep440_rs::Version::from_str(&p.version)) {
                preferred.insert(name.clone(), v);
            }
        }
    }
    let resolution = resolve::resolve(matrix, &request(bp, preferred))
        .map_err(|f| Error::Lock(format!("cannot lock blueprint '{}':\n{f}", bp.name)))?;
    let mut packages = BTreeMap::new();
    for p in bp.dependencies.all() {
        let name = p.name();
        let version = resolution
            .versions
            .get(&name)
            .map(ToString::to_string)
            .unwrap_or_default();
        let requested = p
            .specifiers()
            .map(|s| s.to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "*".into());
        packages.insert(name, LockedPackage { requested, version });
    }
    let python = matrix.python.to_string();
    let reusable = old.filter(|o| {
        o.python == python
            && o.platform == python::TARGET_PLATFORM
            && !o.artifacts.is_empty()
            && o.packages
                .iter()
                .map(|(n, p)| (n, &p.version))
                .eq(packages.iter().map(|(n, p)| (n, &p.version)))
    });
    let artifacts = match reusable {
        Some(o) => o.artifacts.clone(),
        None if opts.check || packages.is_empty() => Vec::new(),
        None => transitive_set(bp, &packages, &python)?,
    };
    let mut entry = LockedBlueprint {
        version: bp.version.to_string(),
        content_hash: bp.content_hash.clone(),
        python,
        platform: python::TARGET_PLATFORM.to_owned(),
        rules: resolution.rules,
        packages,
        artifacts,
        verification: None,
    };
    // Evidence carries over only while everything it covered is unchanged.
    if let Some(o) = old {
        if o.content_hash == entry.content_hash
            && o.packages == entry.packages
            && o.artifacts == entry.artifacts
        {
            entry.verification = o.verification.clone();
        }
    }
    Ok(entry)
}

/// Asks pip for the full set: everything, then the runtime part alone within it.
fn transitive_set(
    bp: &Blueprint,
    packages: &BTreeMap<String, LockedPackage>,
    target: &str,
) -> Result<Vec<LockedArtifact>> {
    let python = python::interpreter();
    python::require_target(&python, target)?;
    progress(&format!(
        "{}: resolving the transitive set with pip…",
        bp.name
    ));
    let line = |p: &blueprint::Package| {
        format!("{}=={}", p.name_with_extras(), packages[&p.name()].version)
    };
    let runtime: Vec<String> = bp
        .dependencies
        .groups
        .iter()
        .flat_map(|g| &g.packages)
        .map(line)
        .collect();
    let dev: Vec<String> = bp
        .dependencies
        .dev
        .iter()
        .flat_map(|g| &g.packages)
        .map(line)
        .collect();
    let work = tempfile::tempdir()
        .map_err(|e| Error::io("create a temporary folder", std::env::temp_dir(), e))?;
    let all: Vec<String> = runtime.iter().chain(&dev).cloned().collect();
    let full = python::resolve(&python, &all, &[], work.path())?;
    let constraints: Vec<String> = full
        .iter()
        .map(|a| format!("{}=={}", a.name, a.version))
        .collect();
    let run = python::resolve(&python, &runtime, &constraints, work.path())?;
    Ok(full
        .into_iter()
        .map(|a| LockedArtifact {
            dev: !run.iter().any(|r| r.name == a.name),
            name: a.name,
            version: a.version,
            file: a.file,
            sha256: a.sha256,
        })
        .collect())
}

fn step<T>(name: &str, n: usize, total: usize, f: impl FnOnce() -> Result<T>) -> Result<T> {
    progress(&format!("  [{n}/{total}] {name}…"));
    let started = Instant::now();
    let result = f();
    match &result {
        Ok(_) => progress(&format!(
            "        ok ({:.1} s)",
            started.elapsed().as_secs_f64()
        )),
        Err(_) => progress("        FAILED"),
    }
    result
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

/// Generates `bp` with its default answers, installs the locked set with `--require-hashes`
/// into a fresh venv, runs the project's tests and boots it. The evidence is returned only if
/// every step passed.
pub fn verify(bp: &Blueprint, entry: &LockedBlueprint) -> Result<Verification> {
    progress(&format!("verifying {} …", bp.name));
    let python = python::interpreter();
    let interp = python::require_target(&python, &entry.python)?;
    let work = tempfile::tempdir()
        .map_err(|e| Error::io("create a temporary folder", std::env::temp_dir(), e))?;
    let project = work.path().join("project");
    let venv = work.path().join("venv");
    let vpy = venv.join("bin/python");
    let total = 5;
    step(
        "generate the project with default answers",
        1,
        total,
        || {
            let (plan, _) = generate::project(bp, entry, &Provided::default(), None)?;
            write::write(&plan, &project, false).map(|_| ())
        },
    )?;
    step("create a virtual environment", 2, total, || {
        run_checked(
            Command::new(&python).args(["-m", "venv"]).arg(&venv),
            "python -m venv",
        )
        .map(|_| ())
    })?;
    step(
        "pip install --require-hashes -r requirements-dev.txt",
        3,
        total,
        || {
            run_checked(
                Command::new(&vpy)
                    .args([
                        "-m",
                        "pip",
                        "install",
                        "--quiet",
                        "--disable-pip-version-check",
                        "--no-input",
                        "--require-hashes",
                        "-r",
                        "requirements-dev.txt",
                    ])
                    .current_dir(&project),
                "pip install --require-hashes",
            )
            .map(|_| ())
        },
    )?;
    let tests = step(
        "the generated project's own tests (pytest)",
        4,
        total,
        || {
            let out = run_checked(
                Command::new(&vpy)
                    .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
                    .current_dir(&project),
                "pytest",
            )?;
            let summary = out
                .lines()
                .rev()
                .find(|l| l.contains(" passed"))
                .unwrap_or("passed");
            let summary = summary.trim().trim_matches('=').trim();
            // Drop the duration ("… in 3.54s"): the evidence should not vary with machine load.
            Ok(summary
                .rsplit_once(" in ")
                .map_or(summary, |(counts, _)| counts)
                .to_owned())
        },
    )?;
    let health = step("boot with uvicorn and GET /health", 5, total, || {
        boot(&vpy, &project)
    })?;
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
        spacegen: env!("CARGO_PKG_VERSION").to_owned(),
        result: "pass".to_owned(),
        steps: vec![
            "pip install --require-hashes -r requirements-dev.txt".to_owned(),
            format!("pytest: {tests}"),
            format!("uvicorn boot: GET /health → {health}"),
        ],
    })
}

/// Starts uvicorn on a free port and waits for `/health` to answer 200.
fn boot(vpy: &Path, project: &Path) -> Result<String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Error::Other(format!("no free port: {e}")))?;
    let mut child = Command::new(vpy)
        .args([
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .current_dir(project)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Other(format!("cannot start uvicorn: {e}")))?;
    let probe = format!(
        "import urllib.request, sys\ntry:\n    r = urllib.request.urlopen('http://127.0.0.1:{port}/health', timeout=2)\n    print(r.status)\nexcept Exception as e:\n    sys.exit(1)"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let result = loop {
        if let Ok(out) = Command::new(vpy).args(["-c", &probe]).output() {
            if out.status.success() {
                break Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned());
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read as _;
                let _ = e.read_to_string(&mut err);
            }
            break Err(Error::Other(format!(
                "verification failed at: uvicorn exited with {status}\n{err}"
            )));
        }
        if Instant::now() > deadline {
            break Err(Error::Other(
                "verification failed at: /health did not answer within 60 s".into(),
            ));
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    let _ = child.kill();
    let _ = child.wait();
    result
}

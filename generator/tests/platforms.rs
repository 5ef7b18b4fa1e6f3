//! The locked sets are universal: every blueprint's `requirements.txt` installs with
//! `--require-hashes` for every supported Python on Linux (x86_64, aarch64), macOS (arm64,
//! x86_64) and Windows, and each generated project passes its own tests on every CPython this
//! machine has.
//!
//! Other platforms are checked with `pip install --dry-run --only-binary=:all: --platform …
//! --python-version …`: pip evaluates environment markers for the machine it runs on, not for
//! `--platform`, so the requirements are first filtered by their markers evaluated for the
//! target (with pip's own `packaging`). Needs PyPI (the index's metadata, no installs).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Test;

const PYTHONS: [&str; 3] = ["3.11", "3.12", "3.13"];

/// A target: a name, its `--platform` tags, and its marker environment.
struct Target {
    name: &'static str,
    tags: &'static [&'static str],
    sys_platform: &'static str,
    platform_system: &'static str,
    platform_machine: &'static str,
    os_name: &'static str,
}

const TARGETS: &[Target] = &[
    Target {
        name: "linux-aarch64",
        tags: &[
            "manylinux_2_39_aarch64",
            "manylinux_2_34_aarch64",
            "manylinux_2_31_aarch64",
            "manylinux_2_28_aarch64",
            "manylinux_2_27_aarch64",
            "manylinux_2_24_aarch64",
            "manylinux_2_17_aarch64",
            "manylinux2014_aarch64",
        ],
        sys_platform: "linux",
        platform_system: "Linux",
        platform_machine: "aarch64",
        os_name: "posix",
    },
    Target {
        name: "macos-arm64",
        tags: &["macosx_14_0_arm64"],
        sys_platform: "darwin",
        platform_system: "Darwin",
        platform_machine: "arm64",
        os_name: "posix",
    },
    Target {
        name: "macos-x86_64",
        tags: &["macosx_13_0_x86_64"],
        sys_platform: "darwin",
        platform_system: "Darwin",
        platform_machine: "x86_64",
        os_name: "posix",
    },
    Target {
        name: "windows-amd64",
        tags: &["win_amd64"],
        sys_platform: "win32",
        platform_system: "Windows",
        platform_machine: "AMD64",
        os_name: "nt",
    },
];

/// Keeps the entries of a requirements file whose marker holds in the environment given as
/// JSON; pip's own `packaging` evaluates them.
const FILTER: &str = r#"
import json, re, sys
from pip._vendor.packaging.markers import Marker
env = json.loads(sys.argv[3])
text = open(sys.argv[1], encoding="utf-8").read()
entries = re.split(r"\n(?=[A-Za-z0-9])", re.sub(r"(?m)^#.*\n?", "", text).strip())
kept = []
for entry in entries:
    head = entry.split("\\", 1)[0]
    if ";" in head:
        marker = head.split(";", 1)[1].strip()
        if not Marker(marker).evaluate(env):
            continue
    kept.append(entry.strip())
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(kept) + "\n")
"#;

fn blueprints() -> Vec<String> {
    let (run, _dir) = Test::new().args(["list"]).run();
    run.stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

fn generate(blueprint: &str) -> (tempfile::TempDir, PathBuf) {
    let (run, dir) = Test::new()
        .args(["new", "space", "--defaults", "--blueprint", blueprint])
        .run();
    (dir, run.dir.join("space"))
}

fn sh(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A current pip in a venv of its own under the target folder (the machine's may be older than
/// the `--platform` handling these checks need).
fn pip() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("platforms-pip");
    let python = venv.join("bin/python");
    if !venv.join(".complete").is_file() {
        let _ = std::fs::remove_dir_all(&venv);
        sh(
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
            "python3 -m venv",
        );
        sh(
            Command::new(&python).args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--upgrade",
                "pip>=25",
            ]),
            "upgrade pip",
        );
        std::fs::write(venv.join(".complete"), "").expect("mark");
    }
    python
}

#[test]
fn requirements_install_on_every_supported_python_and_platform() {
    let python = pip();
    for blueprint in blueprints() {
        let (_dir, project) = generate(&blueprint);
        for target in TARGETS {
            for version in PYTHONS {
                let env = serde_json::json!({
                    "sys_platform": target.sys_platform,
                    "platform_system": target.platform_system,
                    "platform_machine": target.platform_machine,
                    "os_name": target.os_name,
                    "python_version": version,
                    "python_full_version": format!("{version}.0"),
                    "implementation_name": "cpython",
                    "platform_python_implementation": "CPython",
                    "platform_release": "",
                    "platform_version": "",
                    "extra": "",
                });
                let filtered = project.join(format!("requirements-{}-{version}.txt", target.name));
                sh(
                    Command::new(&python)
                        .args(["-c", FILTER])
                        .arg(project.join("requirements.txt"))
                        .arg(&filtered)
                        .arg(env.to_string()),
                    "filter by markers",
                );
                let dry = project.join("dry");
                let mut cmd = Command::new(&python);
                cmd.args(["-m", "pip", "install", "--dry-run", "--quiet"])
                    .args(["--disable-pip-version-check", "--no-input", "--no-deps"])
                    .args([
                        "--require-hashes",
                        "--only-binary=:all:",
                        "--ignore-installed",
                    ])
                    .arg("--target")
                    .arg(&dry)
                    .args(["--python-version", version, "--implementation", "cp"]);
                for tag in target.tags {
                    cmd.args(["--platform", tag]);
                }
                cmd.arg("-r").arg(&filtered);
                sh(
                    &mut cmd,
                    &format!(
                        "{blueprint}: requirements.txt on {} with Python {version}",
                        target.name
                    ),
                );
            }
        }
        eprintln!(
            "{blueprint}: requirements.txt installs on {} × Python {}",
            TARGETS
                .iter()
                .map(|t| t.name)
                .collect::<Vec<_>>()
                .join(", "),
            PYTHONS.join(", ")
        );
    }
}

/// `python3.X` of this machine: pyenv's, or on the PATH.
fn local_python(version: &str) -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    let pyenv = home.join(".pyenv/versions");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&pyenv)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(&format!("{version}.")))
        })
        .map(|e| e.path().join("bin/python"))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.pop().or_else(|| {
        let name = format!("python{version}");
        Command::new(&name)
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|_| PathBuf::from(name))
    })
}

#[test]
fn every_project_passes_its_tests_on_every_local_python() {
    let mut ran = Vec::new();
    for version in PYTHONS {
        let Some(python) = local_python(version) else {
            eprintln!("SKIPPED: no CPython {version} on this machine (pyenv or python{version})");
            continue;
        };
        for blueprint in blueprints() {
            let (_dir, project) = generate(&blueprint);
            let venv = project.join(".venv");
            sh(
                Command::new(&python).args(["-m", "venv"]).arg(&venv),
                "venv",
            );
            sh(
                Command::new(venv.join("bin/python"))
                    .args([
                        "-m",
                        "pip",
                        "install",
                        "--quiet",
                        "--disable-pip-version-check",
                    ])
                    .args([
                        "--no-input",
                        "--require-hashes",
                        "-r",
                        "requirements-dev.txt",
                    ])
                    .current_dir(&project),
                &format!("{blueprint}: pip install --require-hashes on Python {version}"),
            );
            let out = sh(
                Command::new(venv.join("bin/python"))
                    .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
                    .current_dir(&project),
                &format!("{blueprint}: its own tests on Python {version}"),
            );
            eprintln!(
                "{blueprint} on Python {version}: {}",
                out.lines().last().unwrap_or("")
            );
        }
        ran.push(version);
    }
    assert!(!ran.is_empty(), "no supported CPython found");
}

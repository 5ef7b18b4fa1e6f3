//! Python's own tooling, used by `spacegen lock` (never by `spacegen new`): the interpreter
//! check, and pip's installation report for the full transitive set with artifact hashes.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::requirement;

/// The interpreter `spacegen lock` runs: `$SPACEGEN_PYTHON`, else `python3`.
pub(crate) fn interpreter() -> String {
    std::env::var("SPACEGEN_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// What an interpreter is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Interpreter {
    /// `3.11`
    pub minor: String,
    /// `3.11.7`
    pub full: String,
    /// `linux-x86_64`
    pub platform: String,
}

/// The target platform locks are made for.
pub(crate) const TARGET_PLATFORM: &str = "linux-x86_64";

/// Asks `python` what it is.
pub(crate) fn interpreter_info(python: &str) -> Result<Interpreter> {
    let out = Command::new(python)
        .args(["-c", "import sys, sysconfig, platform; print('%d.%d' % sys.version_info[:2]); print(platform.python_version()); print(sysconfig.get_platform()); print(platform.python_implementation())"])
        .output()
        .map_err(|e| Error::Other(format!("cannot run {python}: {e}; install Python or set SPACEGEN_PYTHON")))?;
    if !out.status.success() {
        return Err(Error::Other(format!(
            "{python} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let mut next = || lines.next().unwrap_or_default().trim().to_owned();
    let (minor, full, platform, implementation) = (next(), next(), next(), next());
    if implementation != "CPython" {
        return Err(Error::Other(format!(
            "{python} is {implementation}; locks are made with CPython"
        )));
    }
    Ok(Interpreter {
        minor,
        full,
        platform,
    })
}

/// Checks that `python` matches the lock's target, so pip picks the target's artifacts.
pub(crate) fn require_target(python: &str, target_minor: &str) -> Result<Interpreter> {
    let it = interpreter_info(python)?;
    if it.minor != target_minor || it.platform != TARGET_PLATFORM {
        return Err(Error::Other(format!(
            "{python} is CPython {} on {}, but locks are made for CPython {target_minor} on {TARGET_PLATFORM} (the Space's platform): run on such a machine or set SPACEGEN_PYTHON",
            it.full, it.platform
        )));
    }
    Ok(it)
}

/// One artifact of a resolved set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Artifact {
    pub name: String,
    pub version: String,
    pub file: String,
    pub sha256: String,
}

#[derive(Deserialize)]
struct Report {
    install: Vec<Install>,
}

#[derive(Deserialize)]
struct Install {
    metadata: Metadata,
    download_info: DownloadInfo,
}

#[derive(Deserialize)]
struct Metadata {
    name: String,
    version: String,
}

#[derive(Deserialize)]
struct DownloadInfo {
    url: String,
    archive_info: Option<ArchiveInfo>,
}

#[derive(Deserialize)]
struct ArchiveInfo {
    hashes: Option<BTreeMap<String, String>>,
}

/// Asks pip which artifacts it would install for `requirements` (and `constraints`), without
/// installing anything; returns each with its sha256.
pub(crate) fn install_report(
    python: &str,
    requirements: &[String],
    constraints: &[String],
    work: &Path,
) -> Result<Vec<Artifact>> {
    let req = work.join("requirements.in");
    let con = work.join("constraints.in");
    let report = work.join("report.json");
    std::fs::write(&req, requirements.join("\n") + "\n")
        .map_err(|e| Error::io("write", &req, e))?;
    std::fs::write(&con, constraints.join("\n") + "\n").map_err(|e| Error::io("write", &con, e))?;
    let out = Command::new(python)
        .args([
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            "--only-binary=:all:",
            "--report",
        ])
        .arg(&report)
        .arg("-r")
        .arg(&req)
        .arg("-c")
        .arg(&con)
        .env("PIP_CONFIG_FILE", "/dev/null")
        .output()
        .map_err(|e| Error::Other(format!("cannot run pip: {e}")))?;
    if !out.status.success() {
        return Err(Error::Other(format!(
            "pip could not resolve the locked set:\n{}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text = std::fs::read_to_string(&report).map_err(|e| Error::io("read", &report, e))?;
    let parsed: Report =
        serde_json::from_str(&text).map_err(|e| Error::Other(format!("pip's report: {e}")))?;
    let mut artifacts = Vec::new();
    for i in parsed.install {
        let sha256 = i
            .download_info
            .archive_info
            .and_then(|a| a.hashes)
            .and_then(|h| h.get("sha256").cloned())
            .ok_or_else(|| {
                Error::Other(format!(
                    "pip reported no sha256 for {} {}",
                    i.metadata.name, i.metadata.version
                ))
            })?;
        let file = i
            .download_info
            .url
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        artifacts.push(Artifact {
            name: requirement::normalise(&i.metadata.name).map_err(Error::Other)?,
            version: i.metadata.version,
            file,
            sha256,
        });
    }
    artifacts.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(artifacts)
}

//! The Python interpreter `spacegen lock --verify` proves a set with (never used by
//! `spacegen new`): which one, what it is, and whether the set supports it.

use std::process::Command;
use std::str::FromStr;

use crate::error::{Error, Result};

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

/// Checks that `python` is a CPython the set supports (`requires_python`, e.g. `>=3.11`).
pub(crate) fn require_supported(python: &str, requires_python: &str) -> Result<Interpreter> {
    let it = interpreter_info(python)?;
    let specifiers = pep440_rs::VersionSpecifiers::from_str(requires_python)
        .map_err(|e| Error::Other(format!("requires-python {requires_python:?}: {e}")))?;
    let version = pep440_rs::Version::from_str(&it.full)
        .map_err(|e| Error::Other(format!("{python} reports version {:?}: {e}", it.full)))?;
    if !specifiers.contains(&version) {
        return Err(Error::Other(format!(
            "{python} is CPython {}, but the set supports Python {requires_python}: run with a supported one (set SPACEGEN_PYTHON)",
            it.full
        )));
    }
    Ok(it)
}

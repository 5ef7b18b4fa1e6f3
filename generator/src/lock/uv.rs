//! `uv`, used by `spacegen lock` (never by `spacegen new`) to resolve a blueprint's full
//! transitive set once for every platform and every supported Python (`uv pip compile
//! --universal`), with every file of every pinned version and its sha256 (the PEP 751
//! `pylock.toml` it writes).

use std::path::Path;
use std::process::Command;

use serde::Deserialize;

use super::file::LockedFile;
use crate::error::{Error, Result};
use crate::requirement;

/// The `uv` program: `$SPACEGEN_UV`, else `uv` on the PATH.
pub(crate) fn program() -> String {
    std::env::var("SPACEGEN_UV").unwrap_or_else(|_| "uv".to_owned())
}

/// One distribution of a resolved set: a pinned version, the environments that install it
/// (a PEP 508 marker; none: all), and every file of that version with its sha256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Distribution {
    pub name: String,
    pub version: String,
    pub marker: Option<String>,
    /// The extras the set requests of it (`http2` of `httpx[http2]`), sorted.
    pub extras: Vec<String>,
    /// Wheels then the sdist, as the index lists them: name, URL, size and sha256.
    pub files: Vec<LockedFile>,
}

#[derive(Deserialize)]
struct PyLock {
    #[serde(default)]
    packages: Vec<PyLockPackage>,
}

#[derive(Deserialize)]
struct PyLockPackage {
    name: String,
    version: String,
    marker: Option<String>,
    sdist: Option<PyLockFile>,
    #[serde(default)]
    wheels: Vec<PyLockFile>,
}

#[derive(Deserialize)]
struct PyLockFile {
    url: Option<String>,
    name: Option<String>,
    size: Option<u64>,
    hashes: std::collections::BTreeMap<String, String>,
}

/// The moments the index is read at: everything as it was at `at`, and the packages of
/// `packages` as they were at their own (later) moment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Moments<'a> {
    pub at: &'a str,
    pub packages: &'a std::collections::BTreeMap<String, String>,
}

impl Moments<'_> {
    /// uv's arguments for them.
    fn args(&self) -> Vec<String> {
        let mut args = vec!["--exclude-newer".to_owned(), self.at.to_owned()];
        for (name, at) in self.packages {
            args.push("--exclude-newer-package".to_owned());
            args.push(format!("{name}={at}"));
        }
        args
    }
}

/// Resolves `requirements` (with `constraints`) for every platform and every Python that
/// `requires_python` admits, from what the index held at `moments`; the distributions sorted
/// by name, each with the extras the set requests of it.
pub(crate) fn compile(
    requirements: &[String],
    constraints: &[String],
    requires_python: &str,
    moments: Moments<'_>,
    work: &Path,
) -> Result<Vec<Distribution>> {
    let minimum = minimum_python(requires_python)?;
    let req = work.join("requirements.in");
    let con = work.join("constraints.in");
    let out = work.join("pylock.toml");
    let with_extras = work.join("requirements.txt");
    std::fs::write(&req, requirements.join("\n") + "\n")
        .map_err(|e| Error::io("write", &req, e))?;
    std::fs::write(&con, constraints.join("\n") + "\n").map_err(|e| Error::io("write", &con, e))?;
    let uv = program();
    let run_uv = |format: &str, extra: &[&str], output: &Path| -> Result<()> {
        let run = Command::new(&uv)
            .args(["pip", "compile", "--universal", "--quiet", "--no-header"])
            .args(["--format", format, "--python-version", &minimum])
            .args(extra)
            .args(moments.args())
            .arg("--constraints")
            .arg(&con)
            .arg("--output-file")
            .arg(output)
            .arg(&req)
            .env("UV_NO_CONFIG", "1")
            .output()
            .map_err(|e| {
                Error::Other(format!(
                    "cannot run {uv}: {e}; install uv (`pip install uv`) or set SPACEGEN_UV"
                ))
            })?;
        if !run.status.success() {
            return Err(Error::Other(format!(
                "uv could not resolve the set {} from the index as it was at {}:\n{}",
                requirements.join(", "),
                moments.at,
                String::from_utf8_lossy(&run.stderr).trim()
            )));
        }
        Ok(())
    };
    run_uv("pylock.toml", &[], &out)?;
    // The same resolution as requirement lines with the extras dependents ask for, which the
    // pylock format does not carry.
    run_uv(
        "requirements.txt",
        &["--no-strip-extras", "--no-annotate"],
        &with_extras,
    )?;
    let lines =
        std::fs::read_to_string(&with_extras).map_err(|e| Error::io("read", &with_extras, e))?;
    let text = std::fs::read_to_string(&out).map_err(|e| Error::io("read", &out, e))?;
    let mut distributions = parse(&text)?;
    let extras = extras(&lines)?;
    for d in &mut distributions {
        d.marker = d.marker.take().and_then(|m| simplify(&m, &minimum));
        if let Some(e) = extras.get(&(d.name.clone(), d.version.clone())) {
            d.extras = e.clone();
        }
    }
    Ok(distributions)
}

/// The extras of each `name==version` line of uv's requirements output (`--no-strip-extras`).
fn extras(lines: &str) -> Result<std::collections::BTreeMap<(String, String), Vec<String>>> {
    let mut out = std::collections::BTreeMap::new();
    for line in lines.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('-') {
            continue;
        }
        let spec = line.split(';').next().unwrap_or(line).trim();
        let parsed = requirement::Requirement::parse(spec)
            .map_err(|e| Error::Other(format!("uv's requirements output: {e}")))?;
        let Some(version) = spec.rsplit_once("==").map(|(_, v)| v.trim().to_owned()) else {
            continue;
        };
        let mut extras = parsed.extras;
        extras.sort();
        if !extras.is_empty() {
            out.insert((parsed.name, version), extras);
        }
    }
    Ok(out)
}

/// `marker` without the condition `python_full_version >= '<minimum>'`, which every supported
/// Python meets (uv writes it where it splits a resolution by Python version); `None` when
/// nothing else is left. An always-true term is dropped only at the start or end of the marker,
/// where `and` binds it to its neighbour alone.
fn simplify(marker: &str, minimum: &str) -> Option<String> {
    let always = [
        format!("python_full_version >= '{minimum}'"),
        format!("python_version >= '{minimum}'"),
    ];
    let mut m = marker.trim().to_owned();
    for a in &always {
        if m == *a {
            return None;
        }
        if let Some(rest) = m.strip_prefix(&format!("{a} and ")) {
            m = rest.to_owned();
        }
        if let Some(rest) = m.strip_suffix(&format!(" and {a}")) {
            m = rest.to_owned();
        }
    }
    Some(m)
}

/// The lowest `X.Y` a `>=X.Y` specifier admits (uv resolves for it and every newer Python).
fn minimum_python(requires_python: &str) -> Result<String> {
    let lower = requires_python
        .split(',')
        .map(str::trim)
        .find_map(|s| s.strip_prefix(">="))
        .map(str::trim);
    match lower {
        Some(v) if !v.is_empty() => Ok(v.to_owned()),
        _ => Err(Error::Other(format!(
            "requires-python {requires_python:?} has no lower bound (>=X.Y)"
        ))),
    }
}

/// The distributions of a `pylock.toml`.
fn parse(text: &str) -> Result<Vec<Distribution>> {
    let lock: PyLock =
        toml::from_str(text).map_err(|e| Error::Other(format!("uv's pylock.toml: {e}")))?;
    let mut out = Vec::new();
    for p in lock.packages {
        let mut files = Vec::new();
        for f in p.wheels.iter().chain(&p.sdist) {
            let file = f
                .name
                .clone()
                .or_else(|| {
                    let url = f.url.as_deref()?;
                    Some(url.rsplit('/').next()?.to_owned())
                })
                .filter(|n| !n.is_empty())
                .ok_or_else(|| {
                    Error::Other(format!(
                        "uv listed a file of {} {} without a name",
                        p.name, p.version
                    ))
                })?;
            let sha256 = f
                .hashes
                .get("sha256")
                .cloned()
                .ok_or_else(|| Error::Other(format!("uv listed {file} without a sha256")))?;
            let url = f
                .url
                .clone()
                .ok_or_else(|| Error::Other(format!("uv listed {file} without its URL")))?;
            files.push(LockedFile {
                name: file,
                url,
                size: f.size,
                sha256,
            });
        }
        if files.is_empty() {
            return Err(Error::Other(format!(
                "uv found no file of {} {} on the index",
                p.name, p.version
            )));
        }
        out.push(Distribution {
            name: requirement::normalise(&p.name).map_err(Error::Other)?,
            version: p.version,
            marker: p.marker,
            extras: Vec::new(),
            files,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.version.cmp(&b.version)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PYLOCK: &str = r#"
lock-version = "1.0"
created-by = "uv"
requires-python = ">=3.11"

[[packages]]
name = "uvloop"
version = "0.23.0"
marker = "sys_platform != 'win32'"
sdist = { url = "https://files.example/uvloop-0.23.0.tar.gz", upload-time = 2026-10-01T03:17:04Z, size = 2, hashes = { sha256 = "aa" } }
wheels = [{ url = "https://files.example/uvloop-0.23.0-cp311-cp311-manylinux_2_17_x86_64.whl", hashes = { sha256 = "bb" } }]

[[packages]]
name = "Typing_Extensions"
version = "4.15.0"
wheels = [{ name = "typing_extensions-4.15.0-py3-none-any.whl", url = "https://files.example/typing_extensions-4.15.0-py3-none-any.whl", hashes = { sha256 = "cc" } }]
"#;

    #[test]
    fn every_file_with_its_hash_and_the_marker_are_read() {
        let d = parse(PYLOCK).unwrap();
        assert_eq!(d[0].name, "typing-extensions");
        assert_eq!(d[0].marker, None);
        assert_eq!(
            d[0].files[0].name,
            "typing_extensions-4.15.0-py3-none-any.whl"
        );
        assert_eq!(d[0].files[0].sha256, "cc");
        assert_eq!(d[1].marker.as_deref(), Some("sys_platform != 'win32'"));
        let names: Vec<&str> = d[1].files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(d[1].files[1].size, Some(2));
        assert_eq!(
            names,
            [
                "uvloop-0.23.0-cp311-cp311-manylinux_2_17_x86_64.whl",
                "uvloop-0.23.0.tar.gz"
            ]
        );
    }

    #[test]
    fn the_extras_dependents_request_are_read_per_pinned_version() {
        let lines = "httpx[http2]==0.28.1\nsqlalchemy[asyncio]==2.1.9\nnumpy==2.4.6 ; python_full_version == '3.11.*'\nUvicorn[standard,Abc]==0.54.0 ; sys_platform != 'win32'\n";
        let e = extras(lines).unwrap();
        assert_eq!(e[&("httpx".into(), "0.28.1".into())], ["http2"]);
        assert_eq!(e[&("uvicorn".into(), "0.54.0".into())], ["abc", "standard"]);
        assert!(!e.contains_key(&("numpy".into(), "2.4.6".into())));
    }

    #[test]
    fn a_file_without_a_sha256_is_refused() {
        let text = "[[packages]]\nname = \"a\"\nversion = \"1\"\nwheels = [{ name = \"a-1-py3-none-any.whl\", hashes = { md5 = \"x\" } }]\n";
        assert!(parse(text)
            .unwrap_err()
            .to_string()
            .contains("without a sha256"));
    }

    #[test]
    fn a_condition_every_supported_python_meets_is_left_out() {
        let s = |m: &str| simplify(m, "3.11");
        assert_eq!(s("python_full_version >= '3.11'"), None);
        assert_eq!(
            s("python_full_version >= '3.11' and sys_platform == 'win32'").as_deref(),
            Some("sys_platform == 'win32'")
        );
        assert_eq!(
            s("python_full_version >= '3.11' and python_full_version < '3.12'").as_deref(),
            Some("python_full_version < '3.12'")
        );
        assert_eq!(
            s("sys_platform == 'linux' or python_full_version >= '3.11'").as_deref(),
            Some("sys_platform == 'linux' or python_full_version >= '3.11'"),
            "an `or` term is kept: dropping it would change the meaning"
        );
        assert_eq!(
            s("python_full_version >= '3.12'").as_deref(),
            Some("python_full_version >= '3.12'")
        );
    }

    #[test]
    fn the_minimum_python_comes_from_the_lower_bound() {
        assert_eq!(minimum_python(">=3.11").unwrap(), "3.11");
        assert_eq!(minimum_python(">=3.12, <3.15").unwrap(), "3.12");
        assert!(minimum_python("<3.14").is_err());
    }
}

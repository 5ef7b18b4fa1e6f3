//! What the package index declares about the matrix's candidates, kept in
//! `blueprints/matrix.index.toml` beside the hand-written `matrix.toml`: new candidate versions,
//! and each candidate's `Requires-Python` and (unconditional) requirements. `spacegen matrix
//! refresh` writes it; the resolver reads it, so it proposes only sets the index can install.
//!
//! The index is asked through Python (`urllib` and pip's `packaging`, the interpreter
//! `spacegen lock` already needs), from `$SPACEGEN_INDEX_URL` (PyPI's simple API by default).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::requirement;

/// File name of the machine-written part of the matrix.
pub(crate) const FILE_NAME: &str = "matrix.index.toml";

const HEADER: &str = "\
# What the package index declares about the candidates of matrix.toml: newer versions, and each
# version's Requires-Python and unconditional requirements on other matrix packages.
# Written by `spacegen matrix refresh`; do not edit (add versions and rules in matrix.toml).
";

/// A candidate's declarations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct Declared {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_python: Option<String>,
    /// PEP 508 requirements on other packages of the matrix, without markers.
    #[serde(default)]
    pub requires: Vec<String>,
}

/// `matrix.index.toml`: what the package index declares about the candidates of
/// `matrix.toml`. Written by `spacegen matrix refresh`; not edited by hand.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct Index {
    /// Versions the index has beyond those matrix.toml lists, per package.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub candidates: BTreeMap<String, Vec<String>>,
    /// Package → version → declarations.
    #[serde(default)]
    pub declared: BTreeMap<String, BTreeMap<String, Declared>>,
}

/// A declaration parsed for the resolver.
#[derive(Debug, Clone, PartialEq)]
pub struct Declaration {
    pub requires_python: Option<VersionSpecifiers>,
    pub requires: Vec<(String, VersionSpecifiers)>,
}

impl Index {
    pub(crate) fn read(dir: &Path) -> Result<Option<Index>> {
        let path = dir.join(FILE_NAME);
        if !path.exists() {
            return Ok(None);
        }
        let text = crate::error::read_text(
            &path,
            "read",
            crate::error::FileKind::Matrix,
            "run `spacegen matrix refresh` to write it anew",
        )?;
        toml::from_str(&text).map(Some).map_err(|e| {
            let d = crate::error::Diagnostic::new(
                crate::error::FileKind::Matrix,
                path.display().to_string(),
                e.message().trim_end(),
            )
            .help("run `spacegen matrix refresh` to write it anew");
            Error::from(match e.span() {
                Some(span) => d.at(text.as_str(), span),
                None => d,
            })
        })
    }

    pub(crate) fn to_text(&self) -> Result<String> {
        let body = toml::to_string_pretty(self)
            .map_err(|e| Error::Other(format!("cannot serialise {FILE_NAME}: {e}")))?;
        Ok(format!("{HEADER}\n{body}"))
    }

    /// The declarations, parsed; an entry that does not parse is an error naming it.
    pub(crate) fn declarations(&self) -> Result<BTreeMap<(String, Version), Declaration>> {
        let mut out = BTreeMap::new();
        for (name, versions) in &self.declared {
            for (version, d) in versions {
                let at = format!("{FILE_NAME}: {name} {version}");
                let v =
                    Version::from_str(version).map_err(|e| Error::Other(format!("{at}: {e}")))?;
                let requires_python = d
                    .requires_python
                    .as_deref()
                    .map(VersionSpecifiers::from_str)
                    .transpose()
                    .map_err(|e| Error::Other(format!("{at}: requires-python: {e}")))?;
                let mut requires = Vec::new();
                for r in &d.requires {
                    let req = requirement::Requirement::parse(r)
                        .map_err(|e| Error::Other(format!("{at}: {r:?}: {e}")))?;
                    requires.push((req.name.clone(), req.versions.clone()));
                }
                out.insert(
                    (name.clone(), v),
                    Declaration {
                        requires_python,
                        requires,
                    },
                );
            }
        }
        Ok(out)
    }
}

/// Asks the index about `packages` (name → the versions matrix.toml lists): each package's
/// newest final release, and for every version its `Requires-Python` and `Requires-Dist`, read
/// from the `METADATA` of its smallest wheel (the simple API, PEP 691; as pip and uv do when an
/// index serves no separate metadata files).
const FETCH: &str = r#"
import io, json, os, sys, urllib.request, zipfile
from pip._vendor.packaging.utils import parse_wheel_filename, canonicalize_version
from pip._vendor.packaging.version import Version, InvalidVersion
base = os.environ.get("SPACEGEN_INDEX_URL", "https://pypi.org/simple").rstrip("/")
def get(url, accept=None):
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.read()
wanted = json.load(sys.stdin)
out = {}
for name, versions in wanted.items():
    page = json.loads(get(f"{base}/{name}/", "application/vnd.pypi.simple.v1+json"))
    wheels = {}
    for f in page["files"]:
        if not f["filename"].endswith(".whl") or f.get("yanked"):
            continue
        try:
            _, v, _, _ = parse_wheel_filename(f["filename"])
        except Exception:
            continue
        wheels.setdefault(str(v), []).append(f)
    finals = [Version(v) for v in wheels if not Version(v).is_prerelease]
    latest = str(max(finals)) if finals else None
    entry = {"latest": latest, "declared": {}}
    for v in sorted(set(versions + ([latest] if latest else [])), key=Version):
        files = wheels.get(str(Version(v)))
        if not files:
            print(f"{name} {v}: no wheel on the index", file=sys.stderr)
            continue
        f = min(files, key=lambda f: f.get("size") or 0)
        with zipfile.ZipFile(io.BytesIO(get(f["url"]))) as wheel:
            meta = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
            lines = wheel.read(meta).decode("utf-8", "replace").split("\n\n", 1)[0].splitlines()
        entry["declared"][v] = {
            "requires_python": f.get("requires-python") or next((l.split(":", 1)[1].strip() for l in lines if l.startswith("Requires-Python:")), None),
            "requires_dist": [l.split(":", 1)[1].strip() for l in lines if l.startswith("Requires-Dist:")],
        }
    out[name] = entry
json.dump(out, sys.stdout)
"#;

#[derive(Deserialize)]
struct Fetched {
    latest: Option<String>,
    declared: BTreeMap<String, FetchedVersion>,
}

#[derive(Deserialize)]
struct FetchedVersion {
    requires_python: Option<String>,
    requires_dist: Vec<String>,
}

/// What a refresh found.
#[derive(Debug, Default)]
pub(crate) struct Refreshed {
    pub index: Index,
    /// `(package, version)` candidates the index has that were not known before.
    pub new_versions: Vec<(String, String)>,
}

/// Refreshes `packages` (all of the matrix when empty) from the index, on top of `old`.
pub(crate) fn refresh(
    python: &str,
    listed: &BTreeMap<String, Vec<Version>>,
    old: Index,
    only: &[String],
) -> Result<Refreshed> {
    let mut wanted: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, versions) in listed {
        if !only.is_empty()
            && !only
                .iter()
                .any(|o| requirement::normalise(o).is_ok_and(|n| n == *name))
        {
            continue;
        }
        let mut all: Vec<String> = versions.iter().map(ToString::to_string).collect();
        all.extend(old.candidates.get(name).cloned().unwrap_or_default());
        wanted.insert(name.clone(), all);
    }
    for o in only {
        let known = requirement::normalise(o).is_ok_and(|n| listed.contains_key(&n));
        if !known {
            return Err(Error::NotInMatrix { name: o.clone() });
        }
    }
    let input = serde_json::to_string(&wanted).map_err(|e| Error::Other(e.to_string()))?;
    let mut child = Command::new(python)
        .args(["-c", FETCH])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| {
            Error::Other(format!(
                "cannot run {python}: {e}; install Python or set SPACEGEN_PYTHON"
            ))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        stdin
            .write_all(input.as_bytes())
            .map_err(|e| Error::Other(format!("{python}: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| Error::Other(format!("{python}: {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(Error::Other(format!(
            "the package index could not be read for {}: {}",
            wanted.keys().cloned().collect::<Vec<_>>().join(", "),
            err.trim().lines().last().unwrap_or("")
        )));
    }
    let fetched: BTreeMap<String, Fetched> = serde_json::from_slice(&out.stdout)
        .map_err(|e| Error::Other(format!("the index's answer: {e}")))?;
    let mut refreshed = Refreshed {
        index: old,
        ..Refreshed::default()
    };
    for (name, f) in fetched {
        let listed_versions = &listed[&name];
        let latest = f.latest.as_deref().and_then(|l| Version::from_str(l).ok());
        let newest_listed = listed_versions.iter().max();
        let extra = refreshed.index.candidates.entry(name.clone()).or_default();
        if let (Some(latest), Some(newest)) = (&latest, newest_listed) {
            let text = latest.to_string();
            if !latest.any_prerelease() && latest > newest && !extra.contains(&text) {
                extra.push(text.clone());
                refreshed.new_versions.push((name.clone(), text));
            }
        }
        if extra.is_empty() {
            refreshed.index.candidates.remove(&name);
        }
        let declared = refreshed.index.declared.entry(name.clone()).or_default();
        for (version, v) in f.declared {
            let requires = v
                .requires_dist
                .iter()
                .filter_map(|r| requirement::Requirement::parse(r).ok().map(|p| (r, p)))
                .filter(|(r, p)| !r.contains(';') && listed.contains_key(&p.name) && p.name != name)
                .map(|(r, _)| r.trim().to_owned())
                .collect();
            declared.insert(
                version,
                Declared {
                    requires_python: v.requires_python,
                    requires,
                },
            );
        }
    }
    Ok(refreshed)
}

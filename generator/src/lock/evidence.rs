//! Evidence made elsewhere: the plan of verification jobs (blueprint × Python × runner) that
//! a CI matrix runs where one machine cannot, the evidence file each job writes, and folding
//! that evidence back into the lock. A record is folded in only when it proved exactly the set
//! the lock holds (its fingerprint), passed, and every value of it is one the lock accepts.

use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::file::{Lock, Verification};
use crate::error::{Diagnostic, Error, FileKind, Result};

/// The byte offset of 1-based `line` and `column` (serde_json's, counted in bytes) in `text`.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (start + column.saturating_sub(1)).min(text.len())
}

/// The format of evidence files this spacegen writes and reads.
pub(crate) const FORMAT: u32 = 2;

/// The GitHub Actions runners of a verification plan: Linux x86_64 and aarch64, macOS (arm64),
/// Windows.
pub(crate) const RUNNERS: [&str; 4] = [
    "ubuntu-latest",
    "ubuntu-24.04-arm",
    "macos-latest",
    "windows-latest",
];

/// One job of a verification plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Job {
    pub blueprint: String,
    pub python: &'static str,
    pub os: &'static str,
}

/// One job per blueprint of `lock` × supported Python × runner.
pub(crate) fn plan(lock: &Lock) -> Vec<Job> {
    let mut jobs = Vec::new();
    for (name, entry) in &lock.blueprints {
        for python in super::claims::pythons(&entry.requires_python) {
            for os in RUNNERS {
                jobs.push(Job {
                    blueprint: name.clone(),
                    python,
                    os,
                });
            }
        }
    }
    jobs
}

/// The evidence file `lock --verify --evidence-out` writes and `--merge-evidence` reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EvidenceFile {
    pub format: u32,
    pub evidence: Vec<Evidence>,
}

/// A verification of one blueprint's set (the set is its fingerprint).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Evidence {
    pub blueprint: String,
    pub verification: Verification,
}

/// The newest record of each of `names` in `lock` that proves its set.
pub(crate) fn collect(lock: &Lock, names: &[String]) -> EvidenceFile {
    let evidence = names
        .iter()
        .filter_map(|name| {
            let entry = lock.blueprints.get(name)?;
            let proving = super::claims::proving(entry);
            let newest = proving.into_iter().max_by_key(|v| v.date.clone())?;
            Some(Evidence {
                blueprint: name.clone(),
                verification: newest.clone(),
            })
        })
        .collect();
    EvidenceFile {
        format: FORMAT,
        evidence,
    }
}

/// Reads an evidence file.
pub(crate) fn read(path: &Path) -> Result<EvidenceFile> {
    let origin = path.display().to_string();
    let help = "give a file written by `spacegen lock --verify --evidence-out FILE`";
    let text = crate::error::read_text(path, "read evidence file", FileKind::Evidence, help)?;
    let file: EvidenceFile = serde_json::from_str(&text).map_err(|e| {
        let at = offset_of(&text, e.line(), e.column());
        Diagnostic::new(
            FileKind::Evidence,
            &origin,
            format!("not an evidence file: {e}"),
        )
        .at(text.as_str(), at..at + 1)
        .help(help)
    })?;
    if file.format != FORMAT {
        return Err(Diagnostic::new(
            FileKind::Evidence,
            origin,
            format!(
                "evidence format {} (this spacegen reads {FORMAT})",
                file.format
            ),
        )
        .help("verify again with this spacegen (`spacegen lock --verify --evidence-out FILE`)")
        .into());
    }
    Ok(file)
}

/// Checks every record of `file` against `lock` (a set it holds, this very set, a pass, values
/// the lock accepts) and returns them; the first that fails is the error, naming it.
pub(crate) fn admissible(
    lock: &Lock,
    file: EvidenceFile,
    origin: &Path,
) -> Result<Vec<(String, Verification)>> {
    let refuse = |e: &Evidence, why: String| -> Error {
        Diagnostic::new(
            FileKind::Evidence,
            origin.display().to_string(),
            format!(
                "the evidence for '{}' on Python {} ({}) {why}",
                e.blueprint, e.verification.python, e.verification.platform
            ),
        )
        .help("merge only files written by `spacegen lock --verify --evidence-out FILE` for the set this spaces.lock holds")
        .into()
    };
    let mut out = Vec::new();
    for e in file.evidence {
        let Some(entry) = lock.blueprints.get(&e.blueprint) else {
            return Err(refuse(
                &e,
                "is about a blueprint not locked here".to_owned(),
            ));
        };
        let v = &e.verification;
        if v.result != "pass" {
            return Err(refuse(&e, format!("did not pass ({})", v.result)));
        }
        if v.fingerprint != entry.fingerprint() {
            return Err(refuse(
                &e,
                "proved another set than spaces.lock holds (its fingerprint differs); verify again"
                    .to_owned(),
            ));
        }
        // The record must be one the lock file would accept, value by value.
        let mut probe = Lock::empty();
        let mut with = entry.clone();
        with.verifications = vec![v.clone()];
        probe.blueprints.insert(e.blueprint.clone(), with);
        let text = probe.to_text()?;
        if let Err(err) = Lock::parse(&text, &origin.display().to_string()) {
            return Err(refuse(
                &e,
                format!("holds a value spaces.lock refuses: {err}"),
            ));
        }
        let python_ok =
            pep440_rs::Version::from_str(&v.python).is_ok() && v.python.split('.').count() == 3;
        if !python_ok || v.platform.is_empty() || v.installers.is_empty() {
            return Err(refuse(
                &e,
                "does not say which CPython (X.Y.Z), platform and installers it ran with"
                    .to_owned(),
            ));
        }
        out.push((e.blueprint, e.verification));
    }
    Ok(out)
}

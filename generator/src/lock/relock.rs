//! Locking anew: every blueprint of a folder resolved against its matrix, the full transitive
//! set pinned with hashes, compared with the lock on disk. The result is data (the new lock, the
//! version changes, a diff); the caller decides whether to write, verify or report it.
//!
//! Resolution is offline. uv is asked for the transitive set (for every platform and every
//! Python the blueprint supports) and its hashes only when the direct pins change; otherwise
//! the locked artifacts are kept, so an offline run (the check) needs no network.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::file::{self, Lock, LockedArtifact, LockedBlueprint, LockedPackage, Verification};
use super::matrix::Matrix;
use super::resolve::{self, Request};
use super::uv;
use super::whole;
use crate::blueprint::{self, Blueprint, Kind, Source};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::requirement;

/// Which locked versions may move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Update {
    /// Keep every locked version that still fits.
    Nothing,
    /// Move every package to the newest version the matrix allows.
    All,
    /// Move these packages (names as given; normalised here).
    Only(Vec<String>),
}

/// A version that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    pub blueprint: String,
    pub package: String,
    /// `None` when the package is new to the lock.
    pub old: Option<String>,
    /// `None` when the package left the set.
    pub new: Option<String>,
    /// A dependency of the requested packages, not one the blueprint requests.
    pub transitive: bool,
}

/// What else changed about a blueprint's locked set, besides versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Note {
    /// The blueprint's files changed since it was locked.
    Content { blueprint: String },
    /// Same versions, other files or hashes (the index changed what it serves).
    Hashes {
        blueprint: String,
        packages: Vec<String>,
    },
    /// The evidence of a passing verification no longer applies and is dropped.
    EvidenceDropped { blueprint: String },
    /// The set has no evidence of a passing verification.
    Unverified { blueprint: String },
    /// The set has verification records, but none proved this exact set: `why` names what
    /// differs (a hash edited by hand, a record of another set).
    Mismatch { blueprint: String, why: String },
}

/// A requested package with a newer version among the matrix's candidates (its listed ones and
/// those `matrix refresh` found) than the lock keeps: what `lock --update` would move it to,
/// within the blueprint's requirements and the matrix's rules.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Outdated {
    pub blueprint: String,
    pub package: String,
    pub locked: String,
    pub newest: String,
}

/// A lock made anew, beside the one on disk.
#[derive(Debug, Clone)]
pub(crate) struct Relocked {
    /// The lock file.
    pub path: PathBuf,
    /// Its text on disk, if there was one.
    pub current: Option<String>,
    pub lock: Lock,
    /// The blueprints that were locked (layers are not), in name order.
    pub blueprints: Vec<Blueprint>,
    pub changes: Vec<Change>,
    pub notes: Vec<Note>,
    /// Requested packages the matrix has newer candidates of.
    pub outdated: Vec<Outdated>,
}

/// Resolves every blueprint in `blueprints_dir` against its matrix, keeping the versions of the
/// lock at `lock_path` as `update` allows. `offline` never asks pip; a set whose direct pins
/// changed then has no artifacts (and differs from the lock on disk).
pub(crate) fn relock(
    blueprints_dir: &Path,
    lock_path: &Path,
    update: &Update,
    offline: bool,
    progress: &mut dyn Progress,
) -> Result<Relocked> {
    let matrix = Matrix::read(blueprints_dir)?;
    let source = Source::Disk(blueprints_dir.to_path_buf());
    let current = if lock_path.exists() {
        Some(crate::error::read_text(
            lock_path,
            "read",
            crate::error::FileKind::Lock,
            "save it as UTF-8, or restore it from version control (`spacegen lock` writes it anew)",
        )?)
    } else {
        None
    };
    let (old, upgraded) = match &current {
        // Format 2 is brought to this one; older formats are written anew.
        Some(text) if file::format_of(text).is_some_and(|f| f < 2) => (Lock::empty(), false),
        Some(text) => Lock::parse_to_relock(text, &lock_path.display().to_string())?,
        None => (Lock::empty(), false),
    };
    let now = jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .map_err(|e| Error::Other(format!("the clock: {e}")))?
        .to_string();
    let mut relocked = Relocked {
        path: lock_path.to_path_buf(),
        current,
        lock: Lock::empty(),
        blueprints: Vec::new(),
        changes: Vec::new(),
        notes: Vec::new(),
        outdated: Vec::new(),
    };
    for name in source.names()? {
        let bp = blueprint::load(&source, &name)?;
        if bp.kind == Kind::Layer {
            continue;
        }
        let previous = old.blueprints.get(&bp.name);
        let how = How {
            update,
            offline,
            reuse: !upgraded,
            now: &now,
        };
        let entry = lock_blueprint(&bp, &matrix, previous, &how, progress)?;
        relocked.outdated.extend(outdated(&bp, &matrix, &entry));
        relocked.changes.extend(changes(&bp.name, previous, &entry));
        relocked.notes.extend(notes(&bp.name, previous, &entry));
        relocked.lock.blueprints.insert(bp.name.clone(), entry);
        relocked.blueprints.push(bp);
    }
    if let Update::Only(list) = update {
        let locked = |name: &str| {
            old.blueprints
                .values()
                .chain(relocked.lock.blueprints.values())
                .any(|e| {
                    e.packages.contains_key(name) || e.artifacts.iter().any(|a| a.name == name)
                })
        };
        for given in list {
            let known = requirement::normalise(given).is_ok_and(|n| locked(&n));
            if !known {
                return Err(Error::UnknownPackage {
                    name: given.clone(),
                });
            }
        }
    }
    Ok(relocked)
}

impl Relocked {
    /// The canonical text of the new lock.
    pub(crate) fn text(&self) -> Result<String> {
        self.lock.to_text()
    }

    /// Whether the lock on disk is exactly the new one.
    pub(crate) fn is_current(&self) -> Result<bool> {
        Ok(self.current.as_deref() == Some(self.text()?.as_str()))
    }

    /// A unified diff from the lock on disk to the new one.
    pub(crate) fn diff(&self) -> Result<String> {
        let new = self.text()?;
        Ok(
            similar::TextDiff::from_lines(self.current.as_deref().unwrap_or(""), &new)
                .unified_diff()
                .context_radius(2)
                .header("spaces.lock (on disk)", "spaces.lock (expected)")
                .to_string(),
        )
    }

    /// The locked blueprint `name`, if it was locked.
    pub(crate) fn blueprint(&self, name: &str) -> Option<(&Blueprint, &LockedBlueprint)> {
        let bp = self.blueprints.iter().find(|b| b.name == name)?;
        Some((bp, self.lock.blueprints.get(name)?))
    }

    /// Records the evidence of a passing verification of blueprint `name`.
    pub(crate) fn record(&mut self, name: &str, evidence: Verification) {
        if let Some(entry) = self.lock.blueprints.get_mut(name) {
            entry.record(evidence);
            self.notes.retain(|n| {
                !matches!(n, Note::EvidenceDropped { blueprint } | Note::Unverified { blueprint } | Note::Mismatch { blueprint, .. } if blueprint == name)
            });
        }
    }

    /// Writes the new lock unless the file already holds it; says whether it wrote. Under an
    /// advisory lock (a `.spaces.lock.lock` file beside it, held only while it reads, merges
    /// and writes), the file is read again: what another run wrote there since this one read
    /// it is merged, not lost ([`merge`]).
    pub(crate) fn save(&self) -> Result<bool> {
        let _held = hold(&self.path)?;
        let now = match std::fs::read_to_string(&self.path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io("read", &self.path, e)),
        };
        let text = if now == self.current {
            self.text()?
        } else {
            let origin = self.path.display().to_string();
            let parse = |t: &Option<String>| -> Result<Lock> {
                match t {
                    Some(t) => Lock::parse_to_relock(t, &origin).map(|(l, _)| l),
                    None => Ok(Lock::empty()),
                }
            };
            merge(&parse(&self.current)?, &parse(&now)?, &self.lock).to_text()?
        };
        if now.as_deref() == Some(text.as_str()) {
            return Ok(false);
        }
        file::replace(&self.path, text.as_bytes())?;
        Ok(true)
    }
}

/// An advisory lock on `path`'s folder for this process (released on drop).
fn hold(path: &Path) -> Result<std::fs::File> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let guard = dir.join(".spaces.lock.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&guard)
        .map_err(|e| Error::io("open", &guard, e))?;
    file.lock().map_err(|e| Error::io("lock", &guard, e))?;
    Ok(file)
}

/// The lock to write when the file changed between this run's read (`start`) and its write
/// (`disk`): the file as it is now, with each blueprint this run made (`ours`) taking the
/// place of an entry nobody else changed; where another run changed an entry, that entry
/// stays, gaining this run's new evidence only if it proved that very set.
fn merge(start: &Lock, disk: &Lock, ours: &Lock) -> Lock {
    let mut merged = disk.clone();
    for (name, entry) in &ours.blueprints {
        let before = start.blueprints.get(name);
        match disk.blueprints.get(name) {
            now if now == before => {
                merged.blueprints.insert(name.clone(), entry.clone());
            }
            Some(now) => {
                let fresh = entry
                    .verifications
                    .iter()
                    .filter(|v| before.is_none_or(|b| !b.verifications.contains(v)))
                    .filter(|v| v.fingerprint == now.fingerprint());
                let mut kept = now.clone();
                for v in fresh {
                    kept.record(v.clone());
                }
                merged.blueprints.insert(name.clone(), kept);
            }
            // Removed by another run since: it stays removed.
            None => {}
        }
    }
    merged
}

/// The versions of every package of a set: the requested ones, and each distribution of the
/// transitive set (a package pinned per Python version shows each, `2.4.6, 2.5.5`).
fn versions(entry: &LockedBlueprint) -> BTreeMap<String, (String, bool)> {
    let mut out: BTreeMap<String, (String, bool)> = BTreeMap::new();
    for a in &entry.artifacts {
        let slot = out.entry(a.name.clone()).or_insert((String::new(), true));
        if !slot.0.split(", ").any(|v| v == a.version) {
            if !slot.0.is_empty() {
                slot.0.push_str(", ");
            }
            slot.0.push_str(&a.version);
        }
    }
    for (name, p) in &entry.packages {
        out.insert(name.clone(), (p.version.clone(), false));
    }
    out
}

fn changes(name: &str, old: Option<&LockedBlueprint>, new: &LockedBlueprint) -> Vec<Change> {
    let before = old.map(versions).unwrap_or_default();
    let after = versions(new);
    // Without artifacts (an offline run), transitive packages are unknown, not removed.
    let compare_transitive = !new.artifacts.is_empty();
    let mut out = Vec::new();
    for (pkg, (version, transitive)) in &after {
        let was = before.get(pkg).map(|(v, _)| v);
        if was != Some(version) {
            out.push(Change {
                blueprint: name.to_owned(),
                package: pkg.clone(),
                old: was.cloned(),
                new: Some(version.clone()),
                transitive: *transitive,
            });
        }
    }
    for (pkg, (version, transitive)) in &before {
        if !after.contains_key(pkg) && (compare_transitive || !transitive) {
            out.push(Change {
                blueprint: name.to_owned(),
                package: pkg.clone(),
                old: Some(version.clone()),
                new: None,
                transitive: *transitive,
            });
        }
    }
    out.sort_by(|a, b| (a.transitive, &a.package).cmp(&(b.transitive, &b.package)));
    out
}

fn notes(name: &str, old: Option<&LockedBlueprint>, new: &LockedBlueprint) -> Vec<Note> {
    let blueprint = name.to_owned();
    let mut out = Vec::new();
    if let Some(o) = old {
        if o.content_hash != new.content_hash {
            out.push(Note::Content {
                blueprint: blueprint.clone(),
            });
        }
        let rehashed: Vec<String> = new
            .artifacts
            .iter()
            .filter(|a| {
                o.artifacts
                    .iter()
                    .any(|b| b.name == a.name && b.version == a.version && b.files != a.files)
            })
            .map(|a| format!("{} {}", a.name, a.version))
            .collect();
        if !rehashed.is_empty() {
            out.push(Note::Hashes {
                blueprint: blueprint.clone(),
                packages: rehashed,
            });
        }
        if !o.verifications.is_empty() && new.verifications.is_empty() {
            out.push(Note::EvidenceDropped {
                blueprint: blueprint.clone(),
            });
        }
    }
    if let Some(why) = new.evidence_mismatch() {
        out.push(Note::Mismatch { blueprint, why });
    } else if !new.verified()
        && !out
            .iter()
            .any(|n| matches!(n, Note::EvidenceDropped { .. }))
    {
        out.push(Note::Unverified { blueprint });
    }
    out
}

/// Whether `update` names `name` (or everything).
fn updating(update: &Update, name: &str) -> bool {
    match update {
        Update::Nothing => false,
        Update::All => true,
        Update::Only(list) => list
            .iter()
            .any(|u| requirement::normalise(u).is_ok_and(|n| n == name)),
    }
}

/// Whether `update` moves anything of the locked set `entry`, transitive packages included.
fn touches(update: &Update, entry: &LockedBlueprint) -> bool {
    entry.packages.keys().any(|n| updating(update, n))
        || entry.artifacts.iter().any(|a| updating(update, &a.name))
}

/// How a blueprint is locked in this run.
#[derive(Clone, Copy)]
struct How<'a> {
    update: &'a Update,
    /// Never ask uv: keep what the lock holds.
    offline: bool,
    /// Whether the old lock's transitive set may be kept as it is (not for an upgraded format).
    reuse: bool,
    /// This run's moment, for what it reads from the index.
    now: &'a str,
}

/// Every version of the set: the requested pins and every distribution.
fn whole_set(
    packages: &BTreeMap<String, LockedPackage>,
    artifacts: &[LockedArtifact],
) -> whole::Versions {
    whole::versions(
        packages
            .iter()
            .map(|(n, p)| (n.as_str(), p.version.as_str()))
            .chain(
                artifacts
                    .iter()
                    .map(|a| (a.name.as_str(), a.version.as_str())),
            ),
    )
}

/// Transitive pins of `artifacts` the matrix does not admit, with why: a rule forbids them, or
/// the matrix lists the package and not that version among its candidates.
fn misfits(
    matrix: &Matrix,
    packages: &BTreeMap<String, LockedPackage>,
    artifacts: &[LockedArtifact],
    uses: &[String],
) -> Vec<(String, String)> {
    let (violations, _) = whole::check(matrix, &whole_set(packages, artifacts), uses);
    let mut out: Vec<(String, String)> = violations
        .into_iter()
        .filter_map(|v| {
            let target = matrix.rule(&v.rule)?.effect.target().to_owned();
            (!packages.contains_key(&target)).then_some((target, v.message))
        })
        .collect();
    out.extend(outside_candidates(matrix, packages, artifacts));
    out
}

/// Transitive pins of packages the matrix lists, at a version it does not list.
fn outside_candidates(
    matrix: &Matrix,
    packages: &BTreeMap<String, LockedPackage>,
    artifacts: &[LockedArtifact],
) -> Vec<(String, String)> {
    artifacts
        .iter()
        .filter(|a| !packages.contains_key(&a.name))
        .filter_map(|a| {
            let candidates = matrix.packages.get(&a.name)?;
            let version = pep440_rs::Version::from_str(&a.version).ok()?;
            (!candidates.contains(&version)).then(|| {
                let listed: Vec<String> = candidates.iter().map(ToString::to_string).collect();
                (
                    a.name.clone(),
                    format!(
                        "the set has {} {}, which is not among the matrix's candidates ({})",
                        a.name,
                        a.version,
                        listed.join(", ")
                    ),
                )
            })
        })
        .collect()
}

/// `set`, with every transitive package the matrix lists moved to one of its candidates: each
/// outside them is pinned to its candidates in turn, newest first, until uv resolves.
fn within_candidates(
    matrix: &Matrix,
    packages: &BTreeMap<String, LockedPackage>,
    mut set: Vec<LockedArtifact>,
    mut constraints: Vec<String>,
    resolve: &dyn Fn(&[String]) -> Result<Vec<LockedArtifact>>,
) -> Result<Vec<LockedArtifact>> {
    let mut tried = std::collections::BTreeSet::new();
    while let Some((name, why)) = outside_candidates(matrix, packages, &set)
        .into_iter()
        .next()
    {
        if !tried.insert(name.clone()) {
            return Err(Error::Other(format!(
                "{why}, and uv cannot resolve the set with any of them"
            )));
        }
        let candidates = matrix.packages.get(&name).cloned().unwrap_or_default();
        let mut found = None;
        for candidate in candidates.iter().rev() {
            let mut with: Vec<String> = constraints
                .iter()
                .filter(|c| {
                    requirement::Requirement::parse(c.split(';').next().unwrap_or(c).trim())
                        .map_or(true, |r| r.name != name)
                })
                .cloned()
                .collect();
            with.push(format!("{name}=={candidate}"));
            if let Ok(s) = resolve(&with) {
                found = Some((s, with));
                break;
            }
        }
        let Some((s, with)) = found else {
            return Err(Error::Other(format!(
                "{why}, and uv cannot resolve the set with any of them"
            )));
        };
        set = s;
        constraints = with;
    }
    Ok(set)
}

/// What `lock --update` would move the requested packages of `entry` to.
fn outdated(bp: &Blueprint, matrix: &Matrix, entry: &LockedBlueprint) -> Vec<Outdated> {
    let Ok(newest) = resolve::resolve(matrix, &request(bp, BTreeMap::new())) else {
        return Vec::new();
    };
    entry
        .packages
        .iter()
        .filter_map(|(name, p)| {
            let locked = pep440_rs::Version::from_str(&p.version).ok()?;
            let best = newest.versions.get(name)?;
            (*best > locked).then(|| Outdated {
                blueprint: bp.name.clone(),
                package: name.clone(),
                locked: p.version.clone(),
                newest: best.to_string(),
            })
        })
        .collect()
}

/// The request a blueprint makes of the resolver.
pub fn request(bp: &Blueprint, preferred: BTreeMap<String, pep440_rs::Version>) -> Request {
    Request {
        blueprint: bp.name.clone(),
        requested: bp
            .dependencies
            .all()
            .map(|p| p.requirement.clone())
            .collect(),
        uses: bp.dependencies.uses.clone(),
        preferred,
    }
}

/// The locked versions to keep: all but those being updated.
fn preferred(
    old: Option<&LockedBlueprint>,
    update: &Update,
) -> BTreeMap<String, pep440_rs::Version> {
    let updating = |name: &str| match update {
        Update::Nothing => false,
        Update::All => true,
        Update::Only(list) => list
            .iter()
            .any(|u| requirement::normalise(u).is_ok_and(|n| n == name)),
    };
    old.map(|o| &o.packages)
        .into_iter()
        .flatten()
        .filter(|(name, _)| !updating(name))
        .filter_map(|(name, p)| {
            let version = pep440_rs::Version::from_str(&p.version).ok()?;
            Some((name.clone(), version))
        })
        .collect()
}

fn lock_blueprint(
    bp: &Blueprint,
    matrix: &Matrix,
    old: Option<&LockedBlueprint>,
    how: &How<'_>,
    progress: &mut dyn Progress,
) -> Result<LockedBlueprint> {
    let How {
        update,
        offline,
        reuse,
        now,
    } = *how;
    let resolution =
        resolve::resolve(matrix, &request(bp, preferred(old, update))).map_err(|f| {
            Error::Unresolvable {
                blueprint: bp.name.clone(),
                file: format!("{}/blueprint.toml", bp.origin),
                explanation: f.to_string(),
            }
        })?;
    let packages: BTreeMap<String, LockedPackage> = bp
        .dependencies
        .all()
        .map(|p| {
            let version = resolution
                .versions
                .get(p.name())
                .map(ToString::to_string)
                .unwrap_or_default();
            let requested = p.requirement.requested();
            (p.name().to_owned(), LockedPackage { requested, version })
        })
        .collect();
    let python = matrix.python.to_string();
    let requires_python = bp.requires_python.clone();
    let reusable = old.filter(|o| {
        o.python == python
            && o.requires_python == requires_python
            && !o.artifacts.is_empty()
            && o.packages
                .iter()
                .map(|(n, p)| (n, &p.version))
                .eq(packages.iter().map(|(n, p)| (n, &p.version)))
            // The set holds the files of each pinned version (not of another one).
            && packages.iter().all(|(n, p)| {
                o.artifacts
                    .iter()
                    .any(|a| a.name == *n && a.version == p.version)
            })
    });
    // Transitive pins the matrix no longer admits (a new rule forbids them, or they are not
    // among its candidates) are resolved anew; offline, the check below reports them.
    let misfit = old.map(|o| misfits(matrix, &packages, &o.artifacts, &bp.dependencies.uses));
    let misfit: Vec<(String, String)> = misfit.unwrap_or_default();
    // A set written before the files' URLs were recorded is resolved anew to learn them.
    let complete = |o: &LockedBlueprint| {
        o.artifacts
            .iter()
            .all(|a| a.files.iter().all(|f| !f.url.is_empty()))
    };
    let reusable = reusable
        .filter(|o| reuse && !touches(update, o) && (offline || misfit.is_empty()) && complete(o));
    // The moments the index is read at stay as they are unless the set is resolved anew.
    let (mut exclude_newer, mut exclude_newer_package) = match old {
        Some(o) => (o.exclude_newer.clone(), o.exclude_newer_package.clone()),
        None => (now.to_owned(), BTreeMap::new()),
    };
    let artifacts = match reusable {
        Some(o) => o.artifacts.clone(),
        None if offline || packages.is_empty() => Vec::new(),
        None => {
            (exclude_newer, exclude_newer_package) = moments(old, update, &packages, now);
            progress.resolving(&bp.name);
            let started = std::time::Instant::now();
            // Transitive packages keep their locked versions unless they are being updated
            // (or the new direct pins leave them no choice).
            let keep: Vec<String> = old
                .filter(|_| *update != Update::All)
                .map(|o| {
                    o.artifacts
                        .iter()
                        .filter(|a| !o.packages.contains_key(&a.name))
                        .filter(|a| !updating(update, &a.name))
                        .filter(|a| !misfit.iter().any(|(n, _)| *n == a.name))
                        .map(|a| match &a.marker {
                            Some(m) => format!("{}=={} ; {m}", a.name, a.version),
                            None => format!("{}=={}", a.name, a.version),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let direct = whole::versions(
                packages
                    .iter()
                    .map(|(n, p)| (n.as_str(), p.version.as_str())),
            );
            let rules = whole::constraints(matrix, &direct, &bp.dependencies.uses);
            let with_keep: Vec<String> = rules.iter().cloned().chain(keep).collect();
            let moments = uv::Moments {
                at: &exclude_newer,
                packages: &exclude_newer_package,
            };
            let resolve = |constraints: &[String]| {
                transitive_set(bp, &packages, &requires_python, constraints, moments)
            };
            let set = match resolve(&with_keep) {
                Ok(set) => Ok((set, with_keep)),
                Err(_) if with_keep.len() > rules.len() => resolve(&rules).map(|s| (s, rules)),
                Err(e) => Err(e),
            }
            .and_then(|(set, constraints)| {
                within_candidates(matrix, &packages, set, constraints, &resolve)
            });
            progress.resolved(set.as_ref().ok().map(|_| started.elapsed()));
            set?
        }
    };
    let mut rules = resolution.rules;
    if !artifacts.is_empty() {
        let set = whole_set(&packages, &artifacts);
        let (violations, applied) = whole::check(matrix, &set, &bp.dependencies.uses);
        let outside = outside_candidates(matrix, &packages, &artifacts);
        if !violations.is_empty() || !outside.is_empty() {
            let explanation: Vec<String> = violations
                .iter()
                .map(|v| format!("  - {}", v.message))
                .chain(outside.iter().map(|(_, why)| format!("  - {why}")))
                .collect();
            return Err(Error::Unresolvable {
                blueprint: bp.name.clone(),
                file: format!("{}/blueprint.toml", bp.origin),
                explanation: format!(
                    "The locked set breaks the matrix's rules:\n{}",
                    explanation.join("\n")
                ),
            });
        }
        rules.extend(applied);
        rules.sort();
        rules.dedup();
    }
    let mut entry = LockedBlueprint {
        version: bp.version.to_string(),
        content_hash: bp.content_hash.clone(),
        python,
        requires_python,
        exclude_newer,
        exclude_newer_package,
        rules,
        verified_set: Vec::new(),
        packages,
        artifacts,
        verifications: Vec::new(),
    };
    // Evidence carries over only while everything it covered is unchanged (and is then
    // checked against the fingerprint it records).
    if let Some(o) = old {
        if o.content_hash == entry.content_hash
            && o.packages == entry.packages
            && o.artifacts == entry.artifacts
        {
            entry.verifications = o.verifications.clone();
            entry.verified_set = o.verified_set.clone();
        }
    }
    Ok(entry)
}

/// The moments a set resolved anew reads the index at: `now` for everything when every
/// package moves (or on the first lock); otherwise the recorded moment, with `now` for the
/// packages being updated and for requested packages whose pinned version changed (the
/// matrix chose a release the recorded moment may not know). Later moments that the general
/// one has caught up with are dropped.
fn moments(
    old: Option<&LockedBlueprint>,
    update: &Update,
    packages: &BTreeMap<String, LockedPackage>,
    now: &str,
) -> (String, BTreeMap<String, String>) {
    let Some(o) = old.filter(|_| *update != Update::All) else {
        return (now.to_owned(), BTreeMap::new());
    };
    let mut later = o.exclude_newer_package.clone();
    for (name, p) in packages {
        let moved = o.packages.get(name).is_none_or(|l| l.version != p.version);
        if moved || updating(update, name) {
            later.insert(name.clone(), now.to_owned());
        }
    }
    for a in &o.artifacts {
        if updating(update, &a.name) {
            later.insert(a.name.clone(), now.to_owned());
        }
    }
    let at = o.exclude_newer.clone();
    let after = |m: &str| match (jiff::Timestamp::from_str(m), jiff::Timestamp::from_str(&at)) {
        (Ok(m), Ok(a)) => m > a,
        _ => true,
    };
    later.retain(|_, m| after(m));
    (at, later)
}

/// Asks uv for the full set (everything, then the runtime part alone within it), for every
/// platform and every Python `requires_python` admits.
fn transitive_set(
    bp: &Blueprint,
    packages: &BTreeMap<String, LockedPackage>,
    requires_python: &str,
    keep: &[String],
    moments: uv::Moments<'_>,
) -> Result<Vec<LockedArtifact>> {
    let pinned = |dev: bool| -> Vec<String> {
        bp.dependencies
            .of(dev)
            .map(|p| {
                let version = packages.get(p.name()).map_or("", |l| l.version.as_str());
                format!("{}=={version}", p.requirement.name_with_extras())
            })
            .collect()
    };
    let runtime = pinned(false);
    let all: Vec<String> = runtime.iter().cloned().chain(pinned(true)).collect();
    let work = tempfile::tempdir()
        .map_err(|e| Error::io("create a temporary folder", std::env::temp_dir(), e))?;
    let full = uv::compile(&all, keep, requires_python, moments, work.path())?;
    // With their markers: a package may be pinned to two versions for two sets of Pythons.
    let constraints: Vec<String> = full
        .iter()
        .map(|d| match &d.marker {
            Some(marker) => format!("{}=={} ; {marker}", d.name, d.version),
            None => format!("{}=={}", d.name, d.version),
        })
        .collect();
    let run = uv::compile(
        &runtime,
        &constraints,
        requires_python,
        moments,
        work.path(),
    )?;
    // One line per distribution serves both files: the runtime set must ask the same extras
    // of a package as the whole set does.
    for r in &run {
        let whole = full
            .iter()
            .find(|d| d.name == r.name && d.version == r.version);
        if let Some(d) = whole.filter(|d| d.extras != r.extras) {
            return Err(Error::Other(format!(
                "blueprint '{}': the runtime set asks {} {} with extras [{}], the development set with [{}]; request the extras in the blueprint's runtime group",
                bp.name,
                d.name,
                d.version,
                r.extras.join(","),
                d.extras.join(",")
            )));
        }
    }
    Ok(full
        .into_iter()
        .map(|d| LockedArtifact {
            dev: !run
                .iter()
                .any(|r| r.name == d.name && r.version == d.version),
            extras: d.extras,
            files: d.files,
            name: d.name,
            version: d.version,
            marker: d.marker,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// Records what it is told.
    #[derive(Default)]
    struct Seen(Vec<String>);

    impl Progress for Seen {
        fn resolving(&mut self, blueprint: &str) {
            self.0.push(format!("resolving {blueprint}"));
        }
        fn resolved(&mut self, elapsed: Option<std::time::Duration>) {
            self.0.push(format!("resolved: {}", elapsed.is_some()));
        }
    }

    /// A folder with a matrix, a layer and one blueprint requesting `demo-pkg>=1`.
    fn workspace() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let write = |rel: &str, text: &str| {
            let path = dir.path().join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        };
        write(
            "matrix.toml",
            "[python]\ntarget = \"3.11\"\n[packages]\nDemo_Pkg = [\"1.0\", \"1.5\", \"2.0\"]\n",
        );
        write(
            "lay/blueprint.toml",
            "[blueprint]\nname = \"lay\"\nversion = \"1.0.0\"\ndescription = \"\"\nkind = \"layer\"\n",
        );
        write(
            "bp/blueprint.toml",
            "[blueprint]\nname = \"bp\"\nversion = \"1.0.0\"\ndescription = \"\"\nextends = \"lay\"\n\n[dependencies]\ngroups = [{ name = \"g\", comment = \"c\", packages = [\"demo-pkg>=1\"] }]\n",
        );
        dir
    }

    fn run(dir: &Path, update: &Update) -> Relocked {
        let lock = dir.join("spaces.lock");
        relock(dir, &lock, update, true, &mut Seen::default()).unwrap()
    }

    /// A passing record of `entry` on CPython `python` (Linux x86_64).
    fn passed(python: &str, entry: &LockedBlueprint) -> Verification {
        Verification {
            date: "2026-01-01".into(),
            python: python.into(),
            platform: "linux-x86_64".into(),
            spacegen: "0".into(),
            installers: vec!["pip 22.3".into()],
            fingerprint: entry.fingerprint(),
            result: "pass".into(),
            steps: vec![],
        }
    }

    fn locked_version(r: &Relocked) -> &str {
        &r.lock.blueprints["bp"].packages["demo-pkg"].version
    }

    #[test]
    fn a_first_lock_pins_the_newest_and_reports_it_as_new() {
        let dir = workspace();
        let r = run(dir.path(), &Update::Nothing);
        assert_eq!(
            r.lock.blueprints.keys().collect::<Vec<_>>(),
            vec!["bp"],
            "layers are not locked"
        );
        assert_eq!(locked_version(&r), "2.0");
        assert_eq!(
            r.lock.blueprints["bp"].packages["demo-pkg"].requested,
            ">=1"
        );
        assert_eq!(
            r.changes,
            vec![Change {
                blueprint: "bp".into(),
                package: "demo-pkg".into(),
                old: None,
                new: Some("2.0".into()),
                transitive: false,
            }]
        );
        assert!(!r.is_current().unwrap());
        assert!(r.diff().unwrap().contains("+[blueprints.bp]"));
        assert!(r.save().unwrap());
        let again = run(dir.path(), &Update::Nothing);
        assert!(again.is_current().unwrap() && again.changes.is_empty());
        assert!(!again.save().unwrap(), "an unchanged lock is not rewritten");
    }

    #[test]
    fn locked_versions_stay_until_an_update_names_them() {
        let dir = workspace();
        let first = run(dir.path(), &Update::Nothing);
        let older = first
            .text()
            .unwrap()
            .replace("version = \"2.0\"", "version = \"1.5\"");
        fs::write(dir.path().join("spaces.lock"), older).unwrap();
        assert_eq!(locked_version(&run(dir.path(), &Update::Nothing)), "1.5");
        // A name no blueprint locks is an error, not a silent no-op.
        let other = Update::Only(vec!["unrelated".into()]);
        let lock = dir.path().join("spaces.lock");
        let err = relock(dir.path(), &lock, &other, true, &mut Seen::default()).unwrap_err();
        assert!(matches!(err, Error::UnknownPackage { ref name } if name == "unrelated"));
        // Named as the user types it, normalised as the index does.
        let named = run(dir.path(), &Update::Only(vec!["DEMO.pkg".into()]));
        assert_eq!(locked_version(&named), "2.0");
        assert_eq!(named.changes[0].old.as_deref(), Some("1.5"));
        assert_eq!(locked_version(&run(dir.path(), &Update::All)), "2.0");
    }

    #[test]
    fn evidence_is_recorded_and_kept_only_for_the_set_it_covered() {
        let dir = workspace();
        let mut r = run(dir.path(), &Update::Nothing);
        let evidence = passed("3.11.7", &r.lock.blueprints["bp"]);
        r.record("bp", evidence.clone());
        r.save().unwrap();
        let kept = run(dir.path(), &Update::Nothing);
        assert_eq!(kept.lock.blueprints["bp"].verifications, vec![evidence]);
        let text = kept
            .text()
            .unwrap()
            .replace("version = \"2.0\"", "version = \"1.5\"");
        fs::write(dir.path().join("spaces.lock"), text).unwrap();
        let moved = run(dir.path(), &Update::All);
        assert!(moved.lock.blueprints["bp"].verifications.is_empty());
    }

    #[test]
    fn a_save_keeps_what_another_run_wrote_since_this_one_read() {
        let dir = workspace();
        run(dir.path(), &Update::Nothing).save().unwrap();
        let mut mine = run(dir.path(), &Update::Nothing);
        // Meanwhile another run adds a blueprint to the file.
        let mut theirs = mine.lock.clone();
        let added = theirs.blueprints["bp"].clone();
        theirs.blueprints.insert("added".into(), added);
        let path = dir.path().join("spaces.lock");
        fs::write(&path, theirs.to_text().unwrap()).unwrap();
        let evidence = passed("3.12.1", &mine.lock.blueprints["bp"]);
        mine.record("bp", evidence.clone());
        assert!(mine.save().unwrap());
        let written = fs::read_to_string(&path).unwrap();
        let (lock, _) = Lock::parse_to_relock(&written, "t").unwrap();
        assert!(lock.blueprints.contains_key("added"), "{written}");
        assert_eq!(lock.blueprints["bp"].verifications, vec![evidence]);
    }

    #[test]
    fn an_offline_run_never_asks_pip() {
        let dir = workspace();
        let mut seen = Seen::default();
        let lock = dir.path().join("spaces.lock");
        let r = relock(dir.path(), &lock, &Update::Nothing, true, &mut seen).unwrap();
        assert!(seen.0.is_empty(), "{:?}", seen.0);
        assert!(r.lock.blueprints["bp"].artifacts.is_empty());
    }
}

//! Pins for generation: a blueprint's locked entry, checked against the blueprint, turned into
//! the requirement lines its templates write (with `--hash` for every artifact).

use std::str::FromStr;

use super::file::{Field, LoadedLock, LockedBlueprint};
use crate::blueprint::{Blueprint, Group, Package};
use crate::error::{Diagnostic, Error, FileKind, Result};
pub(crate) use crate::template::context::{Pin, PinnedGroup};

/// The fix for every stale or incomplete entry.
const RELOCK: &str = "run `spacegen lock` in the folder holding the blueprints and spaces.lock";

/// The comment above the transitive packages.
const TRANSITIVE: &str = "Dependencies of the packages above, pinned by spaces.lock";

impl LockedBlueprint {
    /// `name[extras]==version`, with the environment marker and a `--hash` per file of the
    /// version when the lock has them (pip picks the file that fits the machine, and checks
    /// it). The extras are those `requested` beside those the set's packages ask of it: a pin
    /// without `httpx[http2]` leaves pips before 23.3 to resolve that extra on their own, from
    /// the newest release on the index, which `--require-hashes` then refuses.
    fn line(&self, name: &str, requested: &[String], version: &str) -> String {
        let artifact = self
            .artifacts
            .iter()
            .find(|a| a.name == name && a.version == version);
        let mut extras: Vec<&str> = requested
            .iter()
            .chain(artifact.into_iter().flat_map(|a| &a.extras))
            .map(String::as_str)
            .collect();
        extras.sort_unstable();
        extras.dedup();
        let mut line = if extras.is_empty() {
            format!("{name}=={version}")
        } else {
            format!("{name}[{}]=={version}", extras.join(","))
        };
        let Some(artifact) = artifact else {
            return line;
        };
        if let Some(marker) = &artifact.marker {
            line.push_str(" ; ");
            line.push_str(marker);
        }
        for hash in artifact.hashes() {
            line.push_str(" \\\n    --hash=sha256:");
            line.push_str(hash);
        }
        line
    }

    /// The artifacts of the runtime set (`dev == false`) or the development-only ones that
    /// none of `direct` (packages of the blueprint's groups of that kind) names.
    pub(crate) fn transitive(&self, dev: bool, direct: &[&str]) -> Vec<Pin> {
        self.artifacts
            .iter()
            .filter(|a| a.dev == dev && !direct.contains(&a.name.as_str()))
            .map(|a| Pin {
                name: a.name.clone(),
                version: a.version.clone(),
                line: self.line(&a.name, &[], &a.version),
            })
            .collect()
    }

    /// Whether the runtime set installs `name` (so `requirements.txt` pins it).
    fn at_runtime(&self, name: &str) -> bool {
        self.artifacts.iter().any(|a| a.name == name && !a.dev)
    }

    /// The pin of `package`, which the entry must hold (see [`LoadedLock::entry_for`]).
    pub(crate) fn pin(&self, package: &Package) -> Result<Pin> {
        let name = package.name();
        let locked = self.packages.get(name).ok_or_else(|| {
            Error::lock("spaces.lock", format!("no pin for '{name}'")).with_help(RELOCK)
        })?;
        Ok(Pin {
            line: self.line(name, &package.requirement.extras, &locked.version),
            name: name.to_owned(),
            version: locked.version.clone(),
        })
    }

    /// Runtime (`dev == false`) or development requirements of `bp`: the `included` groups
    /// with their pins, then the transitive packages. A runtime file pins everything the
    /// application needs at run time, a package a test group names included (the OpenAI SDK
    /// needs httpx2, which the tests use too); the development file, which includes the runtime
    /// file, leaves out what that already pins.
    pub(crate) fn requirements(
        &self,
        bp: &Blueprint,
        included: &[&Group],
        dev: bool,
    ) -> Result<Vec<PinnedGroup>> {
        let all = if dev {
            &bp.dependencies.dev
        } else {
            &bp.dependencies.groups
        };
        let direct: Vec<&str> = all
            .iter()
            .flat_map(|g| &g.packages)
            .map(Package::name)
            .collect();
        let mut out = Vec::new();
        for group in included {
            let pins = group
                .packages
                .iter()
                .filter(|p| !(dev && self.at_runtime(p.name())))
                .map(|p| self.pin(p))
                .collect::<Result<Vec<_>>>()?;
            if !pins.is_empty() {
                out.push(PinnedGroup {
                    name: group.name.clone(),
                    comment: group.comment.clone(),
                    pins,
                });
            }
        }
        let transitive = self.transitive(dev, &direct);
        if !transitive.is_empty() {
            out.push(PinnedGroup {
                name: "transitive".to_owned(),
                comment: TRANSITIVE.to_owned(),
                pins: transitive,
            });
        }
        Ok(out)
    }
}

impl LoadedLock {
    /// The locked entry of `bp`, checked: the blueprint must not have changed since it was
    /// locked, and every package it requests must be pinned to a version it allows.
    pub(crate) fn entry_for(&self, bp: &Blueprint) -> Result<&LockedBlueprint> {
        let stale = |message: String, field: Option<Field<'_>>| -> Error {
            let position = field.and_then(|f| self.position(&bp.name, f));
            Diagnostic::new(FileKind::Lock, self.origin.clone(), message)
                .at_position(position)
                .help(RELOCK)
                .into()
        };
        let Some(entry) = self.lock.blueprints.get(&bp.name) else {
            return Err(stale(format!("no entry for blueprint '{}'", bp.name), None));
        };
        if entry.content_hash != bp.content_hash {
            return Err(stale(format!(
                "blueprint '{}' changed since it was locked (the lock records {}, its files hash to {})",
                bp.name, entry.content_hash, bp.content_hash
            ), Some(Field::ContentHash)));
        }
        if entry.version != bp.version.to_string() {
            return Err(stale(
                format!(
                    "blueprint '{}' is version {}, but the lock has version {}",
                    bp.name, bp.version, entry.version
                ),
                Some(Field::Version),
            ));
        }
        if let Some(why) = entry.evidence_mismatch() {
            return Err(Error::EvidenceMismatch {
                origin: self.origin.clone(),
                blueprint: bp.name.clone(),
                why,
            });
        }
        for package in bp.dependencies.all() {
            let name = package.name();
            let Some(locked) = entry.packages.get(name) else {
                return Err(stale(
                    format!(
                        "no version of '{name}' is pinned for blueprint '{}'",
                        bp.name
                    ),
                    None,
                ));
            };
            let version = pep440_rs::Version::from_str(&locked.version).map_err(|e| {
                stale(
                    format!("{name} version {:?} is not a version: {e}", locked.version),
                    Some(Field::PackageVersion(name)),
                )
            })?;
            if !package.requirement.allows(&version) {
                return Err(stale(
                    format!(
                        "pins {name} {version}, which blueprint '{}' does not allow ({})",
                        bp.name, package.spec
                    ),
                    Some(Field::PackageVersion(name)),
                ));
            }
        }
        Ok(entry)
    }
}

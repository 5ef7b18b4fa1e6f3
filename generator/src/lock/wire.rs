//! spaces.lock as it is written: every value with its span ([`toml::Spanned`]), converted into
//! the domain [`Lock`] only once each value is what its field allows (a version, a specifier,
//! a marker, a digest, a moment, one line), so a bad value is an error that points at the
//! very place it is written (file:line:column, with a caret), never at another occurrence of
//! the same text.

use std::collections::BTreeMap;
use std::ops::Range;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use serde::Deserialize;
use toml::Spanned;

use super::model::{
    Lock, LockedArtifact, LockedBlueprint, LockedFile, LockedPackage, Verification,
};
use crate::error::{Diagnostic, Error, FileKind, Result};

type S = Spanned<String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LockWire {
    format: u32,
    #[serde(default)]
    blueprints: BTreeMap<String, Spanned<BlueprintWire>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct BlueprintWire {
    version: S,
    content_hash: S,
    python: S,
    requires_python: S,
    exclude_newer: S,
    #[serde(default)]
    exclude_newer_package: BTreeMap<String, S>,
    #[serde(default)]
    rules: Vec<S>,
    #[serde(default)]
    verified_set: Vec<S>,
    packages: BTreeMap<String, PackageWire>,
    #[serde(default)]
    artifacts: Vec<Spanned<ArtifactWire>>,
    #[serde(default)]
    verifications: Vec<VerificationWire>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PackageWire {
    requested: S,
    version: S,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArtifactWire {
    name: S,
    version: S,
    #[serde(default)]
    extras: Vec<S>,
    marker: Option<S>,
    #[serde(default)]
    dev: bool,
    files: Spanned<Vec<Spanned<FileWire>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileWire {
    name: S,
    /// Absent only in a lock written before URLs were recorded, which `spacegen lock` resolves
    /// anew; generation needs it.
    url: Option<S>,
    size: Option<u64>,
    sha256: S,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerificationWire {
    date: S,
    python: S,
    platform: S,
    spacegen: S,
    installers: Vec<S>,
    fingerprint: S,
    result: S,
    steps: Vec<S>,
}

/// Builds the located errors of one file.
struct Errors<'a> {
    text: &'a str,
    origin: &'a str,
}

impl Errors<'_> {
    fn at(&self, span: Range<usize>, field: &str, value: &str, why: &str) -> Error {
        Diagnostic::new(
            FileKind::Lock,
            self.origin,
            format!("{field} {value:?}: {why}"),
        )
        .at(self.text, span)
        .help("run `spacegen lock` to write it anew; spaces.lock is not edited by hand")
        .into()
    }

    /// `value` must pass `check`, else the error points at it.
    fn value(
        &self,
        value: &S,
        field: &str,
        check: impl FnOnce(&str) -> std::result::Result<(), String>,
    ) -> Result<String> {
        match check(value.get_ref()) {
            Ok(()) => Ok(value.get_ref().clone()),
            Err(why) => Err(self.at(value.span(), field, value.get_ref(), &why)),
        }
    }
}

impl LockWire {
    /// The lock, once every value is what its field allows; `complete` also requires an
    /// artifact for every pin (what generation needs).
    pub(super) fn into_lock(self, text: &str, origin: &str, complete: bool) -> Result<Lock> {
        let errors = Errors { text, origin };
        let mut blueprints = BTreeMap::new();
        for (name, entry) in self.blueprints {
            let locked = entry.into_inner().into_entry(&name, &errors, complete)?;
            blueprints.insert(name, locked);
        }
        Ok(Lock {
            format: self.format,
            blueprints,
        })
    }
}

impl BlueprintWire {
    fn into_entry(self, bp: &str, e: &Errors<'_>, complete: bool) -> Result<LockedBlueprint> {
        let at = |f: &str| format!("blueprints.{bp}.{f}");
        let version = e.value(&self.version, &at("version"), |v| {
            semver::Version::parse(v)
                .map(drop)
                .map_err(|_| "not a semantic version".to_owned())
        })?;
        let content_hash = e.value(&self.content_hash, &at("content-hash"), digest)?;
        let requires_python = e.value(&self.requires_python, &at("requires-python"), |v| {
            one_line(v)?;
            VersionSpecifiers::from_str(v)
                .map(drop)
                .map_err(|_| "not a PEP 440 specifier".to_owned())
        })?;
        let supported = VersionSpecifiers::from_str(&requires_python)
            .map_err(|err| Error::Other(err.to_string()))?;
        let python = e.value(&self.python, &at("python"), |v| {
            if !is_minor_version(v) {
                return Err("not a Python version of the form 3.X".to_owned());
            }
            match Version::from_str(v) {
                Ok(version) if supported.contains(&version) => Ok(()),
                _ => Err(format!(
                    "not a Python the set supports (requires-python {requires_python})"
                )),
            }
        })?;
        let exclude_newer = e.value(&self.exclude_newer, &at("exclude-newer"), moment)?;
        let mut exclude_newer_package = BTreeMap::new();
        for (name, when) in &self.exclude_newer_package {
            let field = at(&format!("exclude-newer-package.{name}"));
            e.value(when, &field, |_| normalised_name(name))?;
            let when = e.value(when, &field, moment)?;
            exclude_newer_package.insert(name.clone(), when);
        }
        let mut rules = Vec::new();
        for id in &self.rules {
            rules.push(e.value(id, &at("rules"), rule_id)?);
        }
        let verified_set = self
            .verified_set
            .iter()
            .map(|l| e.value(l, &at("verified-set"), one_line))
            .collect::<Result<Vec<_>>>()?;
        let mut artifacts = Vec::new();
        for a in self.artifacts {
            let span = a.span();
            artifacts.push(a.into_inner().into_artifact(bp, span, e, complete)?);
        }
        let mut packages = BTreeMap::new();
        for (name, p) in &self.packages {
            let field = at(&format!("packages.{name}"));
            e.value(&p.version, &field, |_| normalised_name(name))?;
            let version = e.value(&p.version, &format!("{field}.version"), pep440_version)?;
            let requested = e.value(&p.requested, &format!("{field}.requested"), |v| {
                if v == "*" {
                    return Ok(());
                }
                one_line(v)?;
                VersionSpecifiers::from_str(v)
                    .map(drop)
                    .map_err(|_| "not a PEP 440 specifier".to_owned())
            })?;
            let pinned = artifacts
                .iter()
                .any(|a: &LockedArtifact| a.name == *name && a.version == version);
            if complete && !pinned {
                return Err(e.at(
                    p.version.span(),
                    &format!("{field}.version"),
                    &version,
                    &format!(
                        "no artifact of {name} {version} (no file, no hash to install it from)"
                    ),
                ));
            }
            packages.insert(name.clone(), LockedPackage { requested, version });
        }
        let mut verifications = Vec::new();
        for v in self.verifications {
            verifications.push(v.into_verification(&at("verifications"), e)?);
        }
        Ok(LockedBlueprint {
            version,
            content_hash,
            python,
            requires_python,
            exclude_newer,
            exclude_newer_package,
            rules,
            verified_set,
            packages,
            artifacts,
            verifications,
        })
    }
}

impl ArtifactWire {
    fn into_artifact(
        self,
        bp: &str,
        span: Range<usize>,
        e: &Errors<'_>,
        complete: bool,
    ) -> Result<LockedArtifact> {
        let here = |f: &str| format!("blueprints.{bp}.artifacts.{}.{f}", self.name.get_ref());
        let name = e.value(&self.name, &here("name"), normalised_name)?;
        let version = e.value(&self.version, &here("version"), pep440_version)?;
        let extras = self
            .extras
            .iter()
            .map(|x| e.value(x, &here("extras"), normalised_name))
            .collect::<Result<Vec<_>>>()?;
        let marker = match &self.marker {
            Some(m) => Some(e.value(m, &here("marker"), |v| {
                one_line(v)?;
                pep508_rs::MarkerTree::from_str(v)
                    .map(drop)
                    .map_err(|_| "not a PEP 508 environment marker".to_owned())
            })?),
            None => None,
        };
        if self.files.get_ref().is_empty() {
            let span = if self.files.span().is_empty() {
                span
            } else {
                self.files.span()
            };
            return Err(e.at(span, &here("files"), &name, "no file"));
        }
        let mut files = Vec::new();
        for f in self.files.into_inner() {
            let span = f.span();
            let f = f.into_inner();
            let file = e.value(&f.name, &here("files.name"), |v| {
                one_line(v)?;
                if belongs_to(v, &name, &version) {
                    Ok(())
                } else {
                    Err(format!("not a file name that belongs to {name} {version}"))
                }
            })?;
            let url = match &f.url {
                Some(url) => e.value(url, &here("files.url"), |v| file_url(v, &file))?,
                None if complete => {
                    return Err(e.at(span, &here("files.url"), &file, "no URL to fetch it from"))
                }
                None => String::new(),
            };
            let sha256 = e.value(&f.sha256, &here("files.sha256"), |v| {
                if is_hex_digest(v) {
                    Ok(())
                } else {
                    Err("not a sha256 digest (64 hex digits)".to_owned())
                }
            })?;
            files.push(LockedFile {
                name: file,
                url,
                size: f.size,
                sha256,
            });
        }
        Ok(LockedArtifact {
            name,
            version,
            extras,
            marker,
            dev: self.dev,
            files,
        })
    }
}

impl VerificationWire {
    fn into_verification(self, at: &str, e: &Errors<'_>) -> Result<Verification> {
        let field = |f: &str| format!("{at}.{f}");
        let line = |s: &S, f: &str| e.value(s, &field(f), one_line);
        Ok(Verification {
            date: e.value(&self.date, &field("date"), |v| {
                v.parse::<jiff::civil::Date>()
                    .map(drop)
                    .map_err(|_| "not a date of the form 2026-12-06".to_owned())
            })?,
            python: e.value(&self.python, &field("python"), |v| {
                one_line(v)?;
                match Version::from_str(v) {
                    Ok(_) if v.split('.').count() == 3 => Ok(()),
                    _ => Err("not a CPython version of the form 3.X.Y".to_owned()),
                }
            })?,
            platform: line(&self.platform, "platform")?,
            spacegen: line(&self.spacegen, "spacegen")?,
            installers: self
                .installers
                .iter()
                .map(|i| line(i, "installers"))
                .collect::<Result<Vec<_>>>()?,
            fingerprint: e.value(&self.fingerprint, &field("fingerprint"), digest)?,
            result: line(&self.result, "result")?,
            steps: self
                .steps
                .iter()
                .map(|s| line(s, "steps"))
                .collect::<Result<Vec<_>>>()?,
        })
    }
}

/// Where rule `id` of blueprint `bp` is written in `text`.
pub(super) fn rule_span(text: &str, bp: &str, id: &str) -> Option<Range<usize>> {
    #[derive(Deserialize)]
    struct Rules {
        #[serde(default)]
        blueprints: BTreeMap<String, Entry>,
    }
    #[derive(Deserialize)]
    struct Entry {
        #[serde(default)]
        rules: Vec<S>,
    }
    let rules: Rules = toml::from_str(text).ok()?;
    let entry = rules.blueprints.get(bp)?;
    entry
        .rules
        .iter()
        .find(|r| r.get_ref() == id)
        .map(Spanned::span)
}

fn one_line(value: &str) -> std::result::Result<(), String> {
    if value.chars().any(char::is_control) {
        Err("holds a line break or control character".to_owned())
    } else {
        Ok(())
    }
}

/// `sha256:<64 lowercase hex digits>`.
fn digest(value: &str) -> std::result::Result<(), String> {
    match value.strip_prefix("sha256:") {
        Some(hex) if is_hex_digest(hex) => Ok(()),
        _ => Err("not sha256:<64 hex digits>".to_owned()),
    }
}

pub(super) fn is_hex_digest(hex: &str) -> bool {
    hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn is_minor_version(v: &str) -> bool {
    let Some((major, minor)) = v.split_once('.') else {
        return false;
    };
    major == "3"
        && !minor.is_empty()
        && minor.len() <= 2
        && minor.bytes().all(|b| b.is_ascii_digit())
}

/// An RFC 3339 moment, as uv's `--exclude-newer` takes it.
fn moment(value: &str) -> std::result::Result<(), String> {
    one_line(value)?;
    jiff::Timestamp::from_str(value)
        .map(drop)
        .map_err(|_| "not an RFC 3339 moment such as 2026-11-27T00:00:00Z".to_owned())
}

fn rule_id(id: &str) -> std::result::Result<(), String> {
    let valid = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    if valid {
        Ok(())
    } else {
        Err("not a rule id".to_owned())
    }
}

/// A normalised package (or extra) name (PEP 503).
fn normalised_name(name: &str) -> std::result::Result<(), String> {
    one_line(name)?;
    match crate::requirement::normalise(name) {
        Ok(n) if n == name => Ok(()),
        _ => Err("not a normalised package name".to_owned()),
    }
}

fn pep440_version(version: &str) -> std::result::Result<(), String> {
    one_line(version)?;
    Version::from_str(version)
        .map(drop)
        .map_err(|_| "not a PEP 440 version".to_owned())
}

/// An https URL of a host, whose path ends in the file `name`: no space, quote, fragment or
/// query that could carry anything else into a generated file.
fn file_url(value: &str, name: &str) -> std::result::Result<(), String> {
    one_line(value)?;
    let plain = value
        .chars()
        .all(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\'' | '\\' | '#' | '?' | '<' | '>'));
    let host = value
        .strip_prefix("https://")
        .and_then(|rest| rest.split('/').next())
        .is_some_and(|h| !h.is_empty());
    if !plain || !host || !value.ends_with(&format!("/{name}")) {
        return Err(format!("not an https URL of the file {name}"));
    }
    Ok(())
}

/// Whether `file` is a wheel or an sdist of `name` at `version`, named as the index names them
/// (the distribution name with `-`, `_` and `.` alike; tags of letters, digits, `_` and `.`).
fn belongs_to(file: &str, name: &str, version: &str) -> bool {
    let same_name = |n: &str| crate::requirement::normalise(n).is_ok_and(|n| n == name);
    let same_version = |v: &str| {
        matches!(
            (Version::from_str(v), Version::from_str(version)),
            (Ok(a), Ok(b)) if a == b
        )
    };
    let tag_ok = |t: &str| {
        !t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'))
    };
    if let Some(stem) = file.strip_suffix(".whl") {
        let parts: Vec<&str> = stem.split('-').collect();
        return matches!(parts.len(), 5 | 6)
            && same_name(parts[0])
            && same_version(parts[1])
            && parts[2..].iter().all(|t| tag_ok(t));
    }
    for ext in [".tar.gz", ".zip"] {
        if let Some(stem) = file.strip_suffix(ext) {
            return stem
                .rsplit_once('-')
                .is_some_and(|(n, v)| same_name(n) && same_version(v));
        }
    }
    false
}

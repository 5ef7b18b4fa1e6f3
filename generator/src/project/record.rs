//! The record a generated project keeps of how it was made: `.spacegen/answers.toml`.
//!
//! It holds the blueprint (name, version, content hash), the spacegen version, the non-secret
//! answers and the sha256 of every generated file: enough to regenerate the project byte for
//! byte (`spacegen new --answers .spacegen/answers.toml`) and to tell the user's edits apart
//! from generated content later. No timestamps, so it is deterministic too.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::plan::{Plan, PlannedFile, RECORD_DIR};
use crate::answers::Answers;
use crate::blueprint::hash::sha256;
use crate::blueprint::Blueprint;
use crate::error::{Diagnostic, Error, FileKind, Result};

/// Path of the record inside a project.
pub(crate) fn path() -> String {
    format!("{RECORD_DIR}/answers.toml")
}

#[derive(Serialize)]
struct Record<'a> {
    generator: Generator,
    blueprint: BlueprintInfo<'a>,
    answers: toml::Table,
    files: BTreeMap<&'a str, String>,
}

#[derive(Serialize)]
struct Generator {
    spacegen: &'static str,
}

#[derive(Serialize)]
struct BlueprintInfo<'a> {
    name: &'a str,
    version: String,
    content_hash: &'a str,
}

const HEADER: &str = "\
# Written by spacegen: how this project was generated.
# Regenerate it with `spacegen new --answers .spacegen/answers.toml`.
";

/// Adds the record to `plan`.
pub(crate) fn add(plan: &mut Plan, bp: &Blueprint, answers: &Answers) -> Result<()> {
    let record = Record {
        generator: Generator {
            spacegen: env!("CARGO_PKG_VERSION"),
        },
        blueprint: BlueprintInfo {
            name: &bp.name,
            version: bp.version.to_string(),
            content_hash: &bp.content_hash,
        },
        answers: answers
            .public()
            .map(|(n, v)| (n.to_owned(), v.to_toml()))
            .collect(),
        files: plan
            .files()
            .iter()
            .map(|(p, f)| (p.as_str(), sha256(&f.contents)))
            .collect(),
    };
    let body = toml::to_string(&record)
        .map_err(|e| Error::Other(format!("cannot serialise the project record: {e}")))?;
    let file = PlannedFile {
        contents: format!("{HEADER}\n{body}").into_bytes().into(),
        executable: false,
    };
    plan.insert(path(), file, "spacegen")
}

/// A record as read back from a project: how it was generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Recorded {
    /// The spacegen version that wrote it.
    pub spacegen: String,
    pub blueprint: String,
    pub version: semver::Version,
    pub content_hash: String,
    /// The sha256 of every generated file, by path.
    pub files: BTreeMap<String, String>,
}

/// The record's shape on disk.
#[derive(Deserialize)]
struct RecordWire {
    generator: GeneratorWire,
    blueprint: BlueprintWire,
    #[serde(default)]
    files: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct GeneratorWire {
    spacegen: String,
}

#[derive(Deserialize)]
struct BlueprintWire {
    name: String,
    version: String,
    content_hash: String,
}

/// Reads a record's `text`, which came from `origin`; the answers are read as an answers file
/// is ([`crate::answers::Provided::add_text`]).
pub(crate) fn parse(text: &str, origin: &str) -> Result<Recorded> {
    let wire: RecordWire = toml::from_str(text).map_err(|e| {
        let d = Diagnostic::new(FileKind::Answers, origin, e.message().trim_end())
            .help("the record is written by spacegen; regenerate the project, or restore the file from version control");
        match e.span() {
            Some(span) => d.at(text, span),
            None => d,
        }
    })?;
    let version = semver::Version::parse(&wire.blueprint.version).map_err(|e| {
        Diagnostic::new(
            FileKind::Answers,
            origin,
            format!(
                "blueprint.version '{}' is not a version: {e}",
                wire.blueprint.version
            ),
        )
    })?;
    Ok(Recorded {
        spacegen: wire.generator.spacegen,
        blueprint: wire.blueprint.name,
        version,
        content_hash: wire.blueprint.content_hash,
        files: wire.files,
    })
}

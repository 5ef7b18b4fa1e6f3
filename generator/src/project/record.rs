//! The record a generated project keeps of how it was made: `.spacegen/answers.toml`.
//!
//! It holds the blueprint (name, version, content hash), the spacegen version, the non-secret
//! answers and the sha256 of every generated file: enough to regenerate the project byte for
//! byte (`spacegen new --answers .spacegen/answers.toml`) and to tell the user's edits apart
//! from generated content later. No timestamps, so it is deterministic too.

use serde::Serialize;
use std::collections::BTreeMap;

use super::plan::{Plan, PlannedFile, RECORD_DIR};
use crate::answers::Answers;
use crate::blueprint::hash::sha256;
use crate::blueprint::Blueprint;
use crate::error::{Error, Result};

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

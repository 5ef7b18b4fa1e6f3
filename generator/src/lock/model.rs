//! The types of `spaces.lock`: what a lock holds once read (through [`super::wire`], which
//! checks every value where it is written) and what `spacegen lock` writes (canonical TOML,
//! in `file.rs`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[cfg_attr(test, derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Lock {
    pub format: u32,
    #[serde(default)]
    pub blueprints: BTreeMap<String, LockedBlueprint>,
}

/// One blueprint's locked set: intent (`requested`) beside resolution (`version`), the rules
/// that applied, the full transitive set with hashes, and the evidence that it works.
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct LockedBlueprint {
    pub version: String,
    pub content_hash: String,
    /// The oldest CPython minor version the set supports, e.g. `3.11` (the Docker base image).
    pub python: String,
    /// The Pythons the set is resolved for (the blueprint's `requires_python`); which
    /// platforms its files install on, and from which glibc or macOS, is
    /// [`super::platforms`]'s to say.
    pub requires_python: String,
    /// The moment the package index was read (RFC 3339, UTC): the transitive set is resolved
    /// from what the index held then (uv's `--exclude-newer`), so locking again next month
    /// gives the same set. It moves only when `lock --update` is asked to move everything.
    pub exclude_newer: String,
    /// Later moments for the packages `lock --update NAME` moved, or whose pinned version
    /// changed: only these see what the index published after `exclude-newer`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub exclude_newer_package: BTreeMap<String, String>,
    /// Ids of the matrix rules that applied to the chosen versions.
    #[serde(default)]
    pub rules: Vec<String>,
    /// What the verifications proved, as [`LockedBlueprint::covered`] lists it: when the set
    /// no longer matches their fingerprint, this names the package that differs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verified_set: Vec<String>,
    pub packages: BTreeMap<String, LockedPackage>,
    /// Every distribution of the set, with every file of its version and their sha256.
    #[serde(default)]
    pub artifacts: Vec<LockedArtifact>,
    /// The passing runs of `spacegen lock --verify` that still apply, one per Python and
    /// platform (this machine's, and those merged from CI with `--merge-evidence`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verifications: Vec<Verification>,
}

#[cfg_attr(test, derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LockedPackage {
    /// What the blueprint asks for (`>=0.160`, or `*` for any version).
    pub requested: String,
    /// The locked version.
    pub version: String,
}

/// A pinned distribution: installed where `marker` holds (everywhere without one), from one of
/// `files`, each with the URL the index serves it at, its size and its sha256.
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LockedArtifact {
    pub name: String,
    pub version: String,
    /// The extras the packages that depend on it request (`httpx[http2]`): the pin line
    /// carries them, so every pip installs the locked set without re-resolving an extra.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extras: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    /// Only the development (test) requirements need it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dev: bool,
    pub files: Vec<LockedFile>,
}

/// A wheel or sdist of a pinned distribution, as the index serves it.
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LockedFile {
    /// The file name (`httpx-0.28.1-py3-none-any.whl`).
    pub name: String,
    /// Where the index serves it (https).
    pub url: String,
    /// Its size in bytes, where the index says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Its sha256, 64 hex digits.
    pub sha256: String,
}

/// Evidence that a locked set installs, passes the generated project's tests and boots.
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Verification {
    pub date: String,
    /// The full CPython version, e.g. `3.11.7`.
    pub python: String,
    /// Where it ran, as Python names it: `linux-x86_64`, `macosx-14.0-arm64`, `win-amd64`.
    pub platform: String,
    pub spacegen: String,
    /// The installers that installed the set, e.g. `pip 22.3`, `pip 25.3`.
    pub installers: Vec<String>,
    /// The fingerprint of the exact set it proved ([`LockedBlueprint::fingerprint`]).
    pub fingerprint: String,
    pub result: String,
    pub steps: Vec<String>,
}

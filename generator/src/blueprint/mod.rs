//! Blueprints: where they come from ([`source`]), how their manifest is written
//! ([`manifest`]), their variables ([`variable`]), and how a blueprint and its layers become one
//! [`Blueprint`] ([`merge`]).
//!
//! A blueprint is resolved once: layers merged (a blueprint's file replaces a layer's file at
//! the same output path; a blueprint's variable replaces a layer's variable of the same name),
//! every manifest field checked, every requirement parsed. Later stages never look at the
//! manifest again. Nothing here writes to the disk.

pub(crate) mod hash;
pub(crate) mod manifest;
mod merge;
pub(crate) mod source;
pub(crate) mod variable;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::GlobMatcher;
use serde::Deserialize;

use crate::error::{Error, Position, Result};
use crate::requirement::Requirement;
use manifest::{Manifest, MANIFEST};
pub use source::Source;
pub(crate) use variable::{DefaultSpec, Value, VarType, Variable};

/// The default blueprint of `spacegen new`.
pub(crate) const DEFAULT_BLUEPRINT: &str = "sqlite-demo";

/// How deep `extends` may go before it is taken for a cycle.
const MAX_LAYERS: usize = 8;

/// Whether a folder can be generated on its own or only serves as a shared layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    #[default]
    Blueprint,
    Layer,
}

/// A liquid condition over the answers (`github_sync`, `db == "postgres"`), with where it is
/// written, for errors.
#[derive(Debug, Clone)]
pub struct Condition {
    pub expr: String,
    /// The manifest that declared it.
    pub file: String,
    pub position: Option<Position>,
}

/// A rule over template files, matched against output paths.
#[derive(Debug, Clone)]
pub struct FileRule {
    pub pattern: String,
    matcher: GlobMatcher,
    /// The file is written only when this holds.
    pub when: Option<Condition>,
    pub raw: bool,
}

/// A message for the user after generation, shown when its condition holds.
#[derive(Debug, Clone)]
pub struct Note {
    pub text: String,
    pub when: Option<Condition>,
}

impl FileRule {
    pub fn matches(&self, output_path: &str) -> bool {
        self.matcher.is_match(output_path)
    }
}

/// A Python requirement of a blueprint.
#[derive(Debug, Clone)]
pub struct Package {
    /// As written in `blueprint.toml`.
    pub spec: String,
    pub requirement: Requirement,
}

impl Package {
    /// The normalised distribution name, e.g. `pydantic-settings`.
    pub fn name(&self) -> &str {
        &self.requirement.name
    }
}

/// A named group of requirements, written as one commented block of `requirements.txt`.
#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub comment: String,
    pub packages: Vec<Package>,
    /// Written into the requirements only when this holds; locked either way.
    pub when: Option<Condition>,
}

/// The requirements of a blueprint: runtime groups and development (test) groups.
#[derive(Debug, Clone, Default)]
pub struct Dependencies {
    pub groups: Vec<Group>,
    pub dev: Vec<Group>,
    /// APIs the blueprint's code uses, for the matrix's `if-uses` rules.
    pub uses: Vec<String>,
}

impl Dependencies {
    /// Every package, runtime first.
    pub fn all(&self) -> impl Iterator<Item = &Package> {
        self.groups
            .iter()
            .chain(&self.dev)
            .flat_map(|g| &g.packages)
    }

    /// The runtime packages (`dev == false`) or the development ones.
    pub fn of(&self, dev: bool) -> impl Iterator<Item = &Package> {
        let groups = if dev { &self.dev } else { &self.groups };
        groups.iter().flat_map(|g| &g.packages)
    }
}

/// A template file of the blueprint, keyed by its output path (templated, before rendering).
#[derive(Debug, Clone)]
pub struct Template {
    /// Path inside its blueprint folder, for messages: `sqlite-demo/template/app/config.py.liquid`.
    pub source: String,
    /// Shared with the blueprint's file and, when copied as is, with the plan.
    pub contents: std::sync::Arc<[u8]>,
    pub executable: bool,
    /// `.liquid` files are rendered; everything else is copied.
    pub render: bool,
}

/// A loaded blueprint with its layers merged.
#[derive(Debug, Clone)]
pub struct Blueprint {
    pub name: String,
    pub version: semver::Version,
    pub description: String,
    pub kind: Kind,
    /// The Pythons the generated project supports (`>=3.11`), the set is locked for.
    pub requires_python: String,
    /// Layers this blueprint extends, outermost first.
    pub layers: Vec<String>,
    pub variables: Vec<Variable>,
    pub rules: Vec<FileRule>,
    pub dependencies: Dependencies,
    /// Output path (possibly templated) → template.
    pub templates: BTreeMap<String, Template>,
    /// Partial name (`readme/header`) → source.
    pub partials: BTreeMap<String, String>,
    /// Shown after generation.
    pub notes: Vec<Note>,
    /// Content hash over this blueprint's folder and its layers' folders.
    pub content_hash: String,
    /// Where it was loaded from, for messages.
    pub origin: String,
}

impl Blueprint {
    pub fn variable(&self, name: &str) -> Option<&Variable> {
        self.variables.iter().find(|v| v.name() == name)
    }
}

/// One folder of a blueprint's chain: its parsed manifest with its files.
struct Folder {
    name: String,
    origin: String,
    manifest: Manifest,
    files: source::FileTree,
}

/// Where a blueprint named by the user lives: an embedded name, or a folder path
/// (`./my-bp`, `a/b`). Only something that looks like a path is one: a bare name always means
/// an embedded blueprint, whatever folders happen to sit in the working directory.
pub(crate) fn locate(spec: &str) -> Result<(Source, String)> {
    let looks_like_path = spec.contains('/') || spec.contains('\\') || spec.starts_with('.');
    if !looks_like_path {
        return Ok((Source::Embedded, spec.to_owned()));
    }
    let path = Path::new(spec);
    if !path.join(MANIFEST).is_file() {
        return Err(Error::NotABlueprint(path.to_path_buf()));
    }
    let abs = std::fs::canonicalize(path).map_err(|e| Error::io("open", path, e))?;
    let name = abs
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned();
    let parent = abs
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));
    Ok((Source::Disk(parent), name))
}

/// Loads blueprint `name` from `source`. Layers are looked up in the same source first and then
/// among the embedded blueprints.
pub fn load(source: &Source, name: &str) -> Result<Blueprint> {
    let mut chain: Vec<Folder> = Vec::new();
    let mut next = Some((source.clone(), name.to_owned()));
    while let Some((src, folder_name)) = next.take() {
        check_chain(&chain, source, name, &folder_name)?;
        let (src, files) = match src.read(&folder_name)? {
            Some(files) => (src, files),
            None => match (&src, Source::Embedded.read(&folder_name)?) {
                (Source::Disk(_), Some(files)) if !chain.is_empty() => (Source::Embedded, files),
                _ => return Err(not_found(&folder_name, chain.last())),
            },
        };
        let origin = src.describe(&folder_name);
        let manifest = Manifest::parse(&origin, files.get(MANIFEST).map(|f| &f.contents[..]))?;
        if let Some(parent) = &manifest.wire.blueprint.extends {
            check_extends(&manifest, parent)?;
        }
        next = manifest
            .wire
            .blueprint
            .extends
            .as_ref()
            .map(|parent| (src.clone(), parent.get_ref().clone()));
        chain.push(Folder {
            name: folder_name,
            origin,
            manifest,
            files,
        });
    }
    chain.reverse();
    merge::merge(chain)
}

/// Refuses an `extends` that is not the name of a folder of the same blueprint set: a path
/// (`../other`, `/abs`, `a/b`, `..\\x`) could reach a folder outside it.
fn check_extends(m: &Manifest, parent: &toml::Spanned<String>) -> Result<()> {
    let name = parent.get_ref();
    if merge::is_name(name) {
        return Ok(());
    }
    let last = name
        .rsplit(['/', '\\'])
        .find(|s| merge::is_name(s))
        .unwrap_or("base");
    let what = if name.contains(['/', '\\', '.']) {
        "is a path"
    } else {
        "is not a name"
    };
    Err(m
        .error(
            parent.span(),
            format!("blueprint.extends {name:?} {what}; it names a layer of the same blueprint set"),
        )
        .help(format!(
            "put the layer's folder next to this blueprint's and write its name: extends = \"{last}\" (lowercase letters, digits and '-')"
        ))
        .into())
}

/// Refuses an `extends` chain that is too deep or comes back on itself.
fn check_chain(chain: &[Folder], source: &Source, name: &str, next: &str) -> Result<()> {
    let file = || format!("{}/{MANIFEST}", source.describe(name));
    if chain.len() >= MAX_LAYERS {
        return Err(Error::blueprint(
            file(),
            format!("more than {MAX_LAYERS} layers of `extends`; is there a cycle?"),
        ));
    }
    if chain.iter().any(|f| f.name == next) {
        let names: Vec<&str> = chain.iter().map(|f| f.name.as_str()).collect();
        return Err(Error::blueprint(
            file(),
            format!("`extends` forms a cycle: {} → {next}", names.join(" → ")),
        ));
    }
    Ok(())
}

fn not_found(name: &str, child: Option<&Folder>) -> Error {
    match child {
        Some(child) => {
            let span = child
                .manifest
                .wire
                .blueprint
                .extends
                .as_ref()
                .map_or(0..0, |e| e.span());
            child
                .manifest
                .error(
                    span,
                    format!("extends \"{name}\", but no blueprint or layer of that name exists"),
                )
                .into()
        }
        None => Error::UnknownBlueprint {
            name: name.to_owned(),
            // Layers cannot be generated: they are not offered.
            known: Source::Embedded
                .names()
                .unwrap_or_default()
                .into_iter()
                .filter(|n| load(&Source::Embedded, n).is_ok_and(|b| b.kind != Kind::Layer))
                .collect(),
            place: None,
        },
    }
}

#[cfg(test)]
mod tests;

//! `blueprint.toml` as written on disk: the wire types, parsed with the span of every value
//! that is checked later, so an error can point at it.

use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use super::variable::VariableWire;
use super::Kind;
use crate::error::{Diagnostic, Error, FileKind, Result};

/// The manifest's file name inside a blueprint folder.
pub(crate) const MANIFEST: &str = "blueprint.toml";

/// A spacegen blueprint's manifest (`blueprint.toml`): what the blueprint is, its variables,
/// the files it renders and the packages it depends on.
#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(test, schemars(title = "blueprint.toml"))]
pub(crate) struct ManifestWire {
    pub blueprint: MetaWire,
    #[serde(default)]
    pub variables: Vec<VariableWire>,
    #[serde(default)]
    pub files: Vec<FileRuleWire>,
    #[serde(default)]
    pub dependencies: DependenciesWire,
    #[serde(default)]
    pub notes: Vec<NoteWire>,
}

/// A message shown after generation, when its condition holds.
#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct NoteWire {
    #[cfg_attr(test, schemars(with = "Option<String>"))]
    pub when: Option<Spanned<String>>,
    pub text: String,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct MetaWire {
    #[cfg_attr(test, schemars(with = "String"))]
    pub name: Spanned<String>,
    #[cfg_attr(test, schemars(with = "String"))]
    pub version: Spanned<String>,
    pub description: String,
    #[cfg_attr(test, schemars(with = "Option<String>"))]
    pub min_spacegen: Option<Spanned<String>>,
    /// The Pythons the project supports, a PEP 440 specifier with a lower bound (`>=3.11`);
    /// a blueprint without one takes its layer's.
    #[cfg_attr(test, schemars(with = "Option<String>"))]
    pub requires_python: Option<Spanned<String>>,
    #[cfg_attr(test, schemars(with = "Option<String>"))]
    pub extends: Option<Spanned<String>>,
    #[cfg_attr(test, schemars(with = "Option<Kind>"))]
    pub kind: Option<Spanned<Kind>>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct FileRuleWire {
    #[cfg_attr(test, schemars(with = "String"))]
    pub path: Spanned<String>,
    #[cfg_attr(test, schemars(with = "Option<String>"))]
    pub when: Option<Spanned<String>>,
    #[serde(default)]
    pub raw: bool,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct DependenciesWire {
    #[serde(default)]
    pub groups: Vec<GroupWire>,
    #[serde(default)]
    pub dev: Vec<GroupWire>,
    /// APIs the blueprint's code uses, for the matrix's `if-uses` rules.
    #[serde(default)]
    pub uses: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct GroupWire {
    pub name: String,
    pub comment: String,
    #[cfg_attr(test, schemars(with = "Vec<String>"))]
    pub packages: Vec<Spanned<String>>,
    /// A condition over the answers: the group is written only when it holds (it is locked
    /// either way).
    #[cfg_attr(test, schemars(with = "Option<String>"))]
    pub when: Option<Spanned<String>>,
}

/// A parsed manifest with its text, so that later checks can point into it.
#[derive(Debug)]
pub(crate) struct Manifest {
    pub wire: ManifestWire,
    /// The file, for messages: `<blueprint origin>/blueprint.toml`.
    pub file: String,
    text: Arc<str>,
}

impl Manifest {
    /// Parses the manifest `text` of the blueprint folder described by `origin`.
    pub(crate) fn parse(origin: &str, bytes: Option<&[u8]>) -> Result<Manifest> {
        let file = format!("{origin}/{MANIFEST}");
        let Some(bytes) = bytes else {
            return Err(Error::blueprint(file, "missing"));
        };
        let Ok(text) = std::str::from_utf8(bytes) else {
            return Err(Error::blueprint(file, "not valid UTF-8"));
        };
        let text: Arc<str> = Arc::from(text);
        match toml::from_str(&text) {
            Ok(wire) => Ok(Manifest { wire, file, text }),
            Err(e) => {
                let d = Diagnostic::new(FileKind::Blueprint, file, e.message().trim_end());
                Err(match e.span() {
                    Some(span) => d.at(text, span),
                    None => d,
                }
                .into())
            }
        }
    }

    /// An error about the value at `span`.
    pub(crate) fn error(
        &self,
        span: std::ops::Range<usize>,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::new(FileKind::Blueprint, self.file.clone(), message).at(self.text.clone(), span)
    }

    /// The position of `span`, for errors found later (when a condition is evaluated).
    pub(crate) fn position(&self, span: std::ops::Range<usize>) -> crate::error::Position {
        crate::error::Position::new(self.text.clone(), span)
    }
}

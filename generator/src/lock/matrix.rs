//! The dependency matrix (`blueprints/matrix.toml`): candidate versions per package and the
//! incompatibility rules every blueprint is resolved under.

use std::collections::BTreeMap;
use std::ops::Range;
use std::str::FromStr;
use std::sync::Arc;

use pep440_rs::{Version, VersionSpecifiers};
use serde::Deserialize;
use toml::Spanned;

use crate::error::{Diagnostic, Error, FileKind, Result};
use crate::requirement::{self, Requirement};

/// File name of the matrix, beside the blueprint folders.
pub(crate) const FILE_NAME: &str = "matrix.toml";

/// spacegen's own matrix and what the index declares, for blueprint folders without one.
const EMBEDDED: &str = include_str!(concat!(env!("SPACEGEN_BLUEPRINTS_DIR"), "/matrix.toml"));
const EMBEDDED_INDEX: &str = include_str!(concat!(
    env!("SPACEGEN_BLUEPRINTS_DIR"),
    "/matrix.index.toml"
));

/// The name rules use for the interpreter.
pub(crate) const PYTHON: &str = "python";

/// The dependency matrix (`matrix.toml`): the candidate versions of every package a blueprint
/// may use, and the incompatibility rules every blueprint is resolved under.
#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(test, schemars(title = "matrix.toml"))]
pub(crate) struct MatrixWire {
    python: PythonWire,
    /// Candidate versions per package name.
    #[cfg_attr(test, schemars(with = "BTreeMap<String, Vec<String>>"))]
    packages: BTreeMap<Spanned<String>, Vec<Spanned<String>>>,
    #[serde(default)]
    rules: Vec<RuleWire>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct PythonWire {
    /// The CPython version locks are made for (`3.11`).
    #[cfg_attr(test, schemars(with = "String"))]
    target: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RuleWire {
    #[cfg_attr(test, schemars(with = "String"))]
    id: Spanned<String>,
    #[serde(rename = "if")]
    #[cfg_attr(test, schemars(with = "Option<String>"))]
    if_: Option<Spanned<String>>,
    if_uses: Option<String>,
    #[cfg_attr(test, schemars(with = "Option<String>"))]
    then: Option<Spanned<String>>,
    #[cfg_attr(test, schemars(with = "Option<String>"))]
    then_not: Option<Spanned<String>>,
    #[cfg_attr(test, schemars(with = "String"))]
    reason: Spanned<String>,
    #[cfg_attr(test, schemars(with = "String"))]
    evidence: Spanned<String>,
}

/// When a rule applies.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// A version of `name` within `versions` is chosen.
    Package {
        name: String,
        versions: VersionSpecifiers,
    },
    /// The blueprint declares that its code uses this API.
    Uses(String),
}

/// What a rule demands when it applies.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// `name` must be within `versions`.
    Requires {
        name: String,
        versions: VersionSpecifiers,
    },
    /// `name` must not be within `versions`.
    Forbids {
        name: String,
        versions: VersionSpecifiers,
    },
    /// `name` must be requested with `extra`.
    Extra { name: String, extra: String },
}

impl Effect {
    /// The package the effect constrains.
    pub fn target(&self) -> &str {
        match self {
            Effect::Requires { name, .. }
            | Effect::Forbids { name, .. }
            | Effect::Extra { name, .. } => name,
        }
    }
}

/// One incompatibility rule, with why it exists.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    pub condition: Condition,
    pub effect: Effect,
    pub reason: String,
    pub evidence: String,
}

/// The parsed matrix.
#[derive(Debug, Clone)]
pub struct Matrix {
    /// The CPython version locks are made for, e.g. `3.11`.
    pub python: Version,
    /// Candidate versions per normalised package name, ascending.
    pub packages: BTreeMap<String, Vec<Version>>,
    pub rules: Vec<Rule>,
    /// What the index declares about candidates (`matrix.index.toml`): their Python bound and
    /// requirements on other packages of the matrix.
    pub declared: BTreeMap<(String, Version), super::index::Declaration>,
}

/// Parses matrix text, pointing errors at the value they are about.
struct Parser<'a> {
    text: Arc<str>,
    origin: &'a str,
}

impl Parser<'_> {
    fn error(&self, span: Range<usize>, message: impl Into<String>) -> Error {
        Diagnostic::new(FileKind::Matrix, self.origin, message)
            .at(self.text.clone(), span)
            .into()
    }

    fn requirement(&self, id: &str, key: &str, value: &Spanned<String>) -> Result<Requirement> {
        Requirement::parse(value.get_ref())
            .map_err(|e| self.error(value.span(), format!("rule '{id}': {key}: {e}")))
    }

    fn packages(&self, wire: &MatrixWire) -> Result<BTreeMap<String, Vec<Version>>> {
        let mut packages = BTreeMap::new();
        for (name, versions) in &wire.packages {
            let normal =
                requirement::normalise(name.get_ref()).map_err(|e| self.error(name.span(), e))?;
            let mut parsed = versions
                .iter()
                .map(|v| {
                    Version::from_str(v.get_ref()).map_err(|e| {
                        self.error(
                            v.span(),
                            format!("packages.{}: {:?}: {e}", name.get_ref(), v.get_ref()),
                        )
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            parsed.sort();
            parsed.dedup();
            if parsed.is_empty() {
                return Err(self.error(
                    name.span(),
                    format!("packages.{}: no versions listed", name.get_ref()),
                ));
            }
            if packages.insert(normal.clone(), parsed).is_some() {
                return Err(self.error(
                    name.span(),
                    format!("packages.{}: '{normal}' is listed twice", name.get_ref()),
                ));
            }
        }
        Ok(packages)
    }

    fn condition(&self, r: &RuleWire) -> Result<Condition> {
        let id = r.id.get_ref();
        match (&r.if_, &r.if_uses) {
            (Some(text), None) => {
                let req = self.requirement(id, "if", text)?;
                Ok(Condition::Package {
                    name: req.name,
                    versions: req.versions,
                })
            }
            (None, Some(api)) => Ok(Condition::Uses(api.clone())),
            _ => Err(self.error(
                r.id.span(),
                format!("rule '{id}': give exactly one of `if` and `if-uses`"),
            )),
        }
    }

    fn effect(&self, r: &RuleWire) -> Result<Effect> {
        let id = r.id.get_ref();
        match (&r.then, &r.then_not) {
            (Some(text), None) => {
                let req = self.requirement(id, "then", text)?;
                match req.extras.as_slice() {
                    [] => Ok(Effect::Requires {
                        name: req.name,
                        versions: req.versions,
                    }),
                    [extra] if req.versions.is_empty() => Ok(Effect::Extra {
                        name: req.name,
                        extra: extra.clone(),
                    }),
                    _ => Err(self.error(
                        text.span(),
                        format!("rule '{id}': `then` takes one extra and no versions, or versions and no extra"),
                    )),
                }
            }
            (None, Some(text)) => {
                let req = self.requirement(id, "then-not", text)?;
                Ok(Effect::Forbids {
                    name: req.name,
                    versions: req.versions,
                })
            }
            _ => Err(self.error(
                r.id.span(),
                format!("rule '{id}': give exactly one of `then` and `then-not`"),
            )),
        }
    }

    fn rule(&self, r: RuleWire, packages: &BTreeMap<String, Vec<Version>>) -> Result<Rule> {
        let id = r.id.get_ref().clone();
        let condition = self.condition(&r)?;
        let effect = self.effect(&r)?;
        let condition_name = match &condition {
            Condition::Package { name, .. } => Some(name.as_str()),
            Condition::Uses(_) => None,
        };
        for name in [effect.target()].into_iter().chain(condition_name) {
            if name != PYTHON && !packages.contains_key(name) {
                return Err(self.error(
                    r.id.span(),
                    format!("rule '{id}' names '{name}', which has no entry under [packages]"),
                ));
            }
        }
        for field in [&r.reason, &r.evidence] {
            if field.get_ref().trim().is_empty() {
                return Err(self.error(
                    field.span(),
                    format!("rule '{id}': reason and evidence must not be empty"),
                ));
            }
        }
        Ok(Rule {
            id,
            condition,
            effect,
            reason: r.reason.into_inner(),
            evidence: r.evidence.into_inner(),
        })
    }
}

/// The text of the matrix at `path`: bytes that are not UTF-8 are an error in the matrix.
pub(crate) fn read(path: &std::path::Path) -> Result<String> {
    crate::error::read_text(
        path,
        "read",
        FileKind::Matrix,
        "save matrix.toml as UTF-8 (its history is in version control)",
    )
}

impl Matrix {
    /// Parses matrix text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Matrix> {
        let p = Parser {
            text: Arc::from(text),
            origin,
        };
        let wire: MatrixWire = toml::from_str(text).map_err(|e| {
            let d = Diagnostic::new(FileKind::Matrix, origin, e.message().trim_end());
            Error::from(match e.span() {
                Some(span) => d.at(text, span),
                None => d,
            })
        })?;
        let python = Version::from_str(wire.python.target.get_ref())
            .map_err(|e| p.error(wire.python.target.span(), format!("python.target: {e}")))?;
        let packages = p.packages(&wire)?;
        let mut rules: Vec<Rule> = Vec::new();
        for r in wire.rules {
            if rules.iter().any(|known| known.id == *r.id.get_ref()) {
                return Err(p.error(
                    r.id.span(),
                    format!("rule id '{}' is used twice", r.id.get_ref()),
                ));
            }
            rules.push(p.rule(r, &packages)?);
        }
        Ok(Matrix {
            python,
            packages,
            rules,
            declared: BTreeMap::new(),
        })
    }

    /// spacegen's own matrix as written (candidates and rules, without the index: the one the
    /// embedded lock was made from), for auditing projects spacegen did not make.
    pub(crate) fn embedded() -> Result<Matrix> {
        Matrix::parse(EMBEDDED, "the embedded matrix.toml")
    }

    /// Reads the matrix beside the blueprint folders in `dir`, with what the index declares
    /// (`matrix.index.toml`, when there is one): its candidates join the listed ones.
    /// A folder of blueprints of one's own without a matrix.toml uses spacegen's own (the
    /// embedded one, with what the index declares).
    pub fn read(dir: &std::path::Path) -> Result<Matrix> {
        let path = dir.join(FILE_NAME);
        if !path.is_file() {
            let mut matrix = Matrix::parse(EMBEDDED, "the embedded matrix.toml")?;
            let index: super::index::Index = toml::from_str(EMBEDDED_INDEX)
                .map_err(|e| Error::Other(format!("the embedded matrix.index.toml: {e}")))?;
            matrix.add_index(&index)?;
            return Ok(matrix);
        }
        let text = read(&path)?;
        let mut matrix = Matrix::parse(&text, &path.display().to_string())?;
        if let Some(index) = super::index::Index::read(dir)? {
            matrix.add_index(&index)?;
        }
        Ok(matrix)
    }

    /// Adds the index's candidates (of listed packages) and declarations.
    pub(crate) fn add_index(&mut self, index: &super::index::Index) -> Result<()> {
        for (name, versions) in &index.candidates {
            let Some(listed) = self.packages.get_mut(name) else {
                continue;
            };
            for v in versions {
                let v = Version::from_str(v).map_err(|e| {
                    Error::Other(format!("{}: {name} {v}: {e}", super::index::FILE_NAME))
                })?;
                if !listed.contains(&v) {
                    listed.push(v);
                }
            }
            listed.sort();
        }
        self.declared = index.declarations()?;
        Ok(())
    }

    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_matrix_parses() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../blueprints/matrix.toml"
        ))
        .unwrap();
        let m = Matrix::parse(&text, "matrix.toml").unwrap();
        assert_eq!(m.python.to_string(), "3.11");
        let rule = m.rule("sqlmodel-pydantic-2.10.0").unwrap();
        assert_eq!(
            rule.effect,
            Effect::Forbids {
                name: "pydantic".into(),
                versions: VersionSpecifiers::from_str("==2.10.0").unwrap()
            }
        );
        assert!(matches!(
            m.rule("sqlalchemy-2.1-asyncio-extra").unwrap().effect,
            Effect::Extra { .. }
        ));
    }

    #[test]
    fn the_seeds_wrong_pydantic_claim_is_not_encoded() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../blueprints/matrix.toml"
        ))
        .unwrap();
        let m = Matrix::parse(&text, "matrix.toml").unwrap();
        for v in ["2.10.1", "2.10.6", "2.14.4"] {
            let v = Version::from_str(v).unwrap();
            let forbidden = m.rules.iter().any(|r| matches!(&r.effect, Effect::Forbids { name, versions } if name == "pydantic" && versions.contains(&v)));
            assert!(!forbidden, "pydantic {v} is forbidden by a rule");
        }
    }

    #[test]
    fn rules_must_name_known_packages_and_have_evidence() {
        let base = "[python]\ntarget = \"3.11\"\n[packages]\na = [\"1.0\"]\n";
        let err = Matrix::parse(&format!("{base}[[rules]]\nid = \"x\"\nif = \"a\"\nthen = \"zz>=1\"\nreason = \"r\"\nevidence = \"e\"\n"), "m").unwrap_err();
        assert!(
            err.to_string().starts_with("m:6:6: rule 'x' names 'zz'"),
            "{err}"
        );
        let err = Matrix::parse(&format!("{base}[[rules]]\nid = \"x\"\nif = \"a\"\nthen = \"a>=1\"\nreason = \"\"\nevidence = \"e\"\n"), "m").unwrap_err();
        assert!(err.to_string().contains("must not be empty"), "{err}");
        let err = Matrix::parse(&format!("{base}[[rules]]\nid = \"x\"\nif = \"a\"\nthen = \"a>=1\"\nthen-not = \"a<1\"\nreason = \"r\"\nevidence = \"e\"\n"), "m").unwrap_err();
        assert!(err.to_string().contains("exactly one of `then`"), "{err}");
    }
}

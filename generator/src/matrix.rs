//! The dependency matrix (`blueprints/matrix.toml`): candidate versions per package and the
//! incompatibility rules every blueprint is resolved under.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{Requirement, VersionOrUrl};
use serde::Deserialize;

use crate::error::{Error, Result};

/// File name of the matrix, beside the blueprint folders.
pub const FILE_NAME: &str = "matrix.toml";

/// The name rules use for the interpreter.
pub const PYTHON: &str = "python";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MatrixDef {
    python: PythonDef,
    packages: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    rules: Vec<RuleDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PythonDef {
    target: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RuleDef {
    id: String,
    #[serde(rename = "if")]
    if_: Option<String>,
    if_uses: Option<String>,
    then: Option<String>,
    then_not: Option<String>,
    reason: String,
    evidence: String,
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
}

fn normalise(name: &str) -> String {
    name.to_ascii_lowercase().replace(['_', '.'], "-")
}

fn requirement(
    origin: &str,
    id: &str,
    key: &str,
    text: &str,
) -> Result<(String, Vec<String>, VersionSpecifiers)> {
    let req = Requirement::<pep508_rs::VerbatimUrl>::from_str(text).map_err(|e| {
        Error::blueprint(
            origin,
            format!("rule '{id}': {key} = {text:?} is not a valid requirement: {e}"),
        )
    })?;
    let versions = match req.version_or_url {
        Some(VersionOrUrl::VersionSpecifier(s)) => s,
        Some(VersionOrUrl::Url(_)) => {
            return Err(Error::blueprint(
                origin,
                format!("rule '{id}': {key} cannot be a URL"),
            ))
        }
        None => VersionSpecifiers::from_iter(std::iter::empty()),
    };
    let extras = req.extras.iter().map(ToString::to_string).collect();
    Ok((req.name.to_string(), extras, versions))
}

impl Matrix {
    /// Parses matrix text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Matrix> {
        let def: MatrixDef =
            toml::from_str(text).map_err(|e| Error::blueprint(origin, e.to_string().trim_end()))?;
        let python = Version::from_str(&def.python.target)
            .map_err(|e| Error::blueprint(origin, format!("python.target: {e}")))?;
        let mut packages = BTreeMap::new();
        for (name, versions) in &def.packages {
            let mut parsed = versions
                .iter()
                .map(|v| {
                    Version::from_str(v).map_err(|e| {
                        Error::blueprint(origin, format!("packages.{name}: {v:?}: {e}"))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            parsed.sort();
            parsed.dedup();
            if parsed.is_empty() {
                return Err(Error::blueprint(
                    origin,
                    format!("packages.{name}: no versions listed"),
                ));
            }
            packages.insert(normalise(name), parsed);
        }
        let mut ids = BTreeSet::new();
        let mut rules = Vec::new();
        for r in def.rules {
            if !ids.insert(r.id.clone()) {
                return Err(Error::blueprint(
                    origin,
                    format!("rule id '{}' is used twice", r.id),
                ));
            }
            let condition = match (&r.if_, &r.if_uses) {
                (Some(text), None) => {
                    let (name, _, versions) = requirement(origin, &r.id, "if", text)?;
                    Condition::Package { name, versions }
                }
                (None, Some(api)) => Condition::Uses(api.clone()),
                _ => {
                    return Err(Error::blueprint(
                        origin,
                        format!("rule '{}': give exactly one of `if` and `if-uses`", r.id),
                    ))
                }
            };
            let effect = match (&r.then, &r.then_not) {
                (Some(text), None) => {
                    let (name, extras, versions) = requirement(origin, &r.id, "then", text)?;
                    match extras.as_slice() {
                        [] => Effect::Requires { name, versions },
                        [extra] if versions.is_empty() => Effect::Extra { name, extra: extra.clone() },
                        _ => {
                            return Err(Error::blueprint(origin, format!("rule '{}': `then` takes one extra and no versions, or versions and no extra", r.id)))
                        }
                    }
                }
                (None, Some(text)) => {
                    let (name, _, versions) = requirement(origin, &r.id, "then-not", text)?;
                    Effect::Forbids { name, versions }
                }
                _ => {
                    return Err(Error::blueprint(
                        origin,
                        format!("rule '{}': give exactly one of `then` and `then-not`", r.id),
                    ))
                }
            };
            for name in [effect.target()].into_iter().chain(match &condition {
                Condition::Package { name, .. } => Some(name.as_str()),
                Condition::Uses(_) => None,
            }) {
                if name != PYTHON && !packages.contains_key(name) {
                    return Err(Error::blueprint(
                        origin,
                        format!(
                            "rule '{}' names '{name}', which has no entry under [packages]",
                            r.id
                        ),
                    ));
                }
            }
            if r.reason.trim().is_empty() || r.evidence.trim().is_empty() {
                return Err(Error::blueprint(
                    origin,
                    format!("rule '{}': reason and evidence must not be empty", r.id),
                ));
            }
            rules.push(Rule {
                id: r.id,
                condition,
                effect,
                reason: r.reason,
                evidence: r.evidence,
            });
        }
        Ok(Matrix {
            python,
            packages,
            rules,
        })
    }

    /// Reads the matrix beside the blueprint folders in `dir`.
    pub fn read(dir: &std::path::Path) -> Result<Matrix> {
        let path = dir.join(FILE_NAME);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
        Matrix::parse(&text, &path.display().to_string())
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
        assert!(err.to_string().contains("names 'zz'"), "{err}");
        let err = Matrix::parse(&format!("{base}[[rules]]\nid = \"x\"\nif = \"a\"\nthen = \"a>=1\"\nreason = \"\"\nevidence = \"e\"\n"), "m").unwrap_err();
        assert!(err.to_string().contains("must not be empty"), "{err}");
        let err = Matrix::parse(&format!("{base}[[rules]]\nid = \"x\"\nif = \"a\"\nthen = \"a>=1\"\nthen-not = \"a<1\"\nreason = \"r\"\nevidence = \"e\"\n"), "m").unwrap_err();
        assert!(err.to_string().contains("exactly one of `then`"), "{err}");
    }
}

//! The matrix's rules over a whole locked set: the resolver applies them to the packages a
//! blueprint requests; here they are turned into constraints for the transitive resolution
//! (so uv avoids what a rule forbids) and checked against every resolved version, direct or
//! transitive, so a rule about a dependency is enforced and explained like any other.

use std::collections::BTreeMap;
use std::str::FromStr;

use pep440_rs::{Operator, Version, VersionSpecifier, VersionSpecifiers};

use super::matrix::{Condition, Effect, Matrix, Rule, PYTHON};

/// Every version of every package of a set (a package may be pinned per Python version).
pub(crate) type Versions = BTreeMap<String, Vec<Version>>;

/// A rule the set breaks, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    pub rule: String,
    pub message: String,
}

fn holds(condition: &Condition, versions: &Versions, uses: &[String]) -> bool {
    match condition {
        Condition::Package {
            name,
            versions: spec,
        } => versions
            .get(name)
            .is_some_and(|vs| vs.iter().any(|v| spec.contains(v))),
        Condition::Uses(api) => uses.iter().any(|u| u == api),
    }
}

/// `spec` negated, where one specifier can say it (`==2.10.0` → `!=2.10.0`, `>=1.16` → `<1.16`).
fn negated(spec: &VersionSpecifiers) -> Option<VersionSpecifier> {
    let [one] = spec.iter().collect::<Vec<_>>()[..] else {
        return None;
    };
    let operator = match one.operator() {
        Operator::Equal => Operator::NotEqual,
        Operator::NotEqual => Operator::Equal,
        Operator::GreaterThanEqual => Operator::LessThan,
        Operator::LessThan => Operator::GreaterThanEqual,
        Operator::LessThanEqual => Operator::GreaterThan,
        Operator::GreaterThan => Operator::LessThanEqual,
        _ => return None,
    };
    VersionSpecifier::from_version(operator, one.version().clone()).ok()
}

/// Constraint lines (`pydantic!=2.10.0`) for the rules that apply to the requested packages
/// `direct`, so the transitive resolution avoids what they forbid.
pub(crate) fn constraints(matrix: &Matrix, direct: &Versions, uses: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for rule in &matrix.rules {
        if !holds(&rule.condition, direct, uses) {
            continue;
        }
        match &rule.effect {
            Effect::Requires { name, versions } if name != PYTHON => {
                out.push(format!("{name}{versions}"));
            }
            Effect::Forbids { name, versions } if name != PYTHON => {
                if let Some(not) = negated(versions) {
                    out.push(format!("{name}{not}"));
                }
            }
            _ => {}
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The rules the whole set breaks, and the ids of those that apply to it.
pub(crate) fn check(
    matrix: &Matrix,
    versions: &Versions,
    uses: &[String],
) -> (Vec<Violation>, Vec<String>) {
    let mut violations = Vec::new();
    let mut applied = Vec::new();
    for rule in &matrix.rules {
        if !holds(&rule.condition, versions, uses) {
            continue;
        }
        let Some(found) = versions.get(rule.effect.target()) else {
            continue;
        };
        applied.push(rule.id.clone());
        if let Some(message) = broken(rule, found) {
            violations.push(Violation {
                rule: rule.id.clone(),
                message,
            });
        }
    }
    (violations, applied)
}

fn broken(rule: &Rule, found: &[Version]) -> Option<String> {
    let (name, bad): (&str, Vec<&Version>) = match &rule.effect {
        Effect::Requires { name, versions } => (
            name,
            found.iter().filter(|v| !versions.contains(v)).collect(),
        ),
        Effect::Forbids { name, versions } => (
            name,
            found.iter().filter(|v| versions.contains(v)).collect(),
        ),
        Effect::Extra { .. } => return None,
    };
    if bad.is_empty() {
        return None;
    }
    let list: Vec<String> = bad.iter().map(ToString::to_string).collect();
    Some(format!(
        "the set has {name} {}, which rule {} forbids: {} (evidence: {})",
        list.join(", "),
        rule.id,
        rule.reason,
        rule.evidence
    ))
}

/// The versions of `pins` (`name`, `version`) as a [`Versions`] map; unparsable ones are left out
/// (the lock's own checks refuse them).
pub(crate) fn versions<'a>(pins: impl IntoIterator<Item = (&'a str, &'a str)>) -> Versions {
    let mut out: Versions = BTreeMap::new();
    for (name, version) in pins {
        if let Ok(v) = Version::from_str(version) {
            let slot = out.entry(name.to_owned()).or_default();
            if !slot.contains(&v) {
                slot.push(v);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix() -> Matrix {
        Matrix::parse(
            r#"
[python]
target = "3.11"

[packages]
sqlmodel = ["0.0.22"]
pydantic = ["2.10.0", "2.10.1"]
fastapi = ["0.115.0"]
starlette = ["0.38.6", "1.10.0"]

[[rules]]
id = "sqlmodel-pydantic-2.10.0"
if = "sqlmodel"
then-not = "pydantic==2.10.0"
reason = "breaks default_factory"
evidence = "https://example.org/1"

[[rules]]
id = "fastapi-starlette"
if = "fastapi"
then = "starlette>=0.40"
reason = "needs a newer starlette"
evidence = "https://example.org/2"
"#,
            "matrix.toml",
        )
        .unwrap()
    }

    #[test]
    fn a_rule_about_a_transitive_package_is_enforced() {
        let m = matrix();
        let set = versions([("fastapi", "0.115.0"), ("starlette", "0.38.6")]);
        let (violations, applied) = check(&m, &set, &[]);
        assert_eq!(applied, ["fastapi-starlette"]);
        assert_eq!(violations.len(), 1);
        assert!(
            violations[0].message.contains("starlette 0.38.6"),
            "{violations:?}"
        );
        assert!(violations[0].message.contains("needs a newer starlette"));
        let fine = versions([("fastapi", "0.115.0"), ("starlette", "1.10.0")]);
        assert!(check(&m, &fine, &[]).0.is_empty());
    }

    #[test]
    fn forbidding_rules_become_constraints_for_the_resolution() {
        let m = matrix();
        let direct = versions([("sqlmodel", "0.0.22"), ("fastapi", "0.115.0")]);
        assert_eq!(
            constraints(&m, &direct, &[]),
            ["pydantic!=2.10.0", "starlette>=0.40"]
        );
        let set = versions([("sqlmodel", "0.0.22"), ("pydantic", "2.10.0")]);
        assert_eq!(check(&m, &set, &[]).0[0].rule, "sqlmodel-pydantic-2.10.0");
    }
}

//! What a deployment installs: every requirements file's pins, against each other and against
//! the incompatibility rules of spacegen's matrix (`blueprints/matrix.toml`, the same rules the
//! lock obeys). A Space rebuilds from scratch; an unpinned package is whatever the index
//! offers that day.

use std::collections::BTreeMap;

use super::super::requirements::{entries, Entry};
use super::super::{Finding, Rule, Severity};
use super::Facts;
use crate::lock::matrix::{self, Condition, Effect};

pub(crate) static UNPINNED: Rule = Rule {
    id: "SG401",
    name: "requirement-unpinned",
    severity: Severity::Warning,
    why: "every rebuild of the Space installs whatever version is newest that day: a release can break it without a commit",
    fix: "pin every package with `==` (a lock such as `pip-compile` or `uv pip compile` writes the whole set, hashes included)",
    explanation: "A Space is rebuilt from the Dockerfile on every push, restart of the builder or factory reboot. A requirement without `==` resolves to the newest release at that moment, so the same commit can build a working Space one day and a broken one the next (FastAPI, pydantic and SQLAlchemy have all shipped breaking releases). Pin exact versions, ideally with `--hash` so the install is verified.",
};

pub(crate) static CONFLICT: Rule = Rule {
    id: "SG402",
    name: "requirement-conflict",
    severity: Severity::Error,
    why: "the same package pinned to two versions cannot be installed: pip stops with ResolutionImpossible",
    fix: "pin the package to one version everywhere (requirements files that include each other must agree)",
    explanation: "When two requirements files (or two lines of one) pin the same package to different versions, `pip install -r` of both fails with 'Cannot install … because these package versions have conflicting dependencies', and the image build stops.",
};

pub(crate) static DUPLICATE: Rule = Rule {
    id: "SG403",
    name: "requirement-duplicate",
    severity: Severity::Warning,
    why: "a package listed twice in one file drifts: the next edit changes one line and not the other",
    fix: "keep one line per package",
    explanation: "pip accepts the same requirement twice when the two agree, but the second copy is what gets forgotten when the pin is bumped, and the file then fails to install (see SG402).",
};

pub(crate) static KNOWN_BAD: Rule = Rule {
    id: "SG404",
    name: "requirement-known-bad",
    severity: Severity::Error,
    why: "the pinned set contains a combination known to fail at install or at import",
    fix: "change the pins as the rule's reason says (`spacegen show` lists a known-good set)",
    explanation: "spacegen's matrix (`blueprints/matrix.toml`) records combinations that install but fail at run time, or that need an extra, each with the reason and the evidence: pydantic 2.10.0 with SQLModel, sentence-transformers 2.2.2 or older with huggingface_hub 0.26 or newer (cached_download), SQLAlchemy 2.1 without the `asyncio` extra in code that imports `sqlalchemy.ext.asyncio`, and others. The finding quotes the rule's reason.",
};

pub(crate) static RULES: &[&Rule] = &[&UNPINNED, &CONFLICT, &DUPLICATE, &KNOWN_BAD];

/// Checks the requirements files of `project`.
pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    let project = facts.project;
    let mut all: BTreeMap<(String, String), Vec<(&str, Entry)>> = BTreeMap::new();
    for (file, text) in project.requirements() {
        let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
        for entry in entries(text) {
            let name = entry.requirement.name.clone();
            let key = (name.clone(), entry.marker.clone());
            if let Some(first) = seen.insert(key.clone(), entry.line) {
                findings.push(Finding::new(
                    &DUPLICATE,
                    file,
                    entry.line,
                    format!("{name} is listed again (first on line {first})"),
                ));
            }
            if entry.pinned().is_none() {
                findings.push(Finding::new(
                    &UNPINNED,
                    file,
                    entry.line,
                    format!("`{}` does not pin one version", entry.text),
                ));
            }
            all.entry(key).or_default().push((file, entry));
        }
    }
    conflicts(&all, findings);
    known_bad(&all, facts, findings);
}

/// Every requirement by package and marker, with its file.
type Pins<'a> = BTreeMap<(String, String), Vec<(&'a str, Entry)>>;

/// Packages pinned to different versions under the same marker.
fn conflicts(all: &Pins<'_>, findings: &mut Vec<Finding>) {
    for ((name, _), entries) in all {
        let pinned: Vec<_> = entries
            .iter()
            .filter_map(|(f, e)| e.pinned().map(|v| (f, e, v)))
            .collect();
        let Some((first_file, first, version)) = pinned.first() else {
            continue;
        };
        for (file, entry, other) in &pinned[1..] {
            if other != version {
                findings.push(Finding::new(
                    &CONFLICT,
                    **file,
                    entry.line,
                    format!(
                        "{name}=={other} here, {name}=={version} in {first_file}:{}",
                        first.line
                    ),
                ));
            }
        }
    }
}

/// The matrix's rules over the pinned versions.
fn known_bad(all: &Pins<'_>, facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    let Ok(rules) = matrix::Matrix::embedded_rules() else {
        return;
    };
    // Rules are checked against the pins that hold everywhere (no marker).
    let unmarked = |name: &str| all.get(&(name.to_owned(), String::new()));
    let pin = |name: &str| {
        unmarked(name).and_then(|es| es.iter().find_map(|(f, e)| e.pinned().map(|v| (*f, e, v))))
    };
    for rule in rules {
        let Condition::Package { name, versions } = &rule.condition else {
            continue;
        };
        let Some((file, entry, version)) = pin(name) else {
            continue;
        };
        if !versions.contains(&version) {
            continue;
        }
        let broken = match &rule.effect {
            Effect::Requires { name, versions } => {
                pin(name).filter(|(_, _, v)| !versions.contains(v))
            }
            Effect::Forbids { name, versions } => {
                pin(name).filter(|(_, _, v)| versions.contains(v))
            }
            Effect::Extra { name, extra } if uses_extra(facts, extra) => {
                unmarked(name).and_then(|es| {
                    let has = es.iter().any(|(_, e)| e.requirement.extras.contains(extra));
                    (!has).then(|| (file, entry, version.clone()))
                })
            }
            Effect::Extra { .. } => None,
        };
        if let Some((at_file, at, _)) = broken {
            findings.push(Finding::new(
                &KNOWN_BAD,
                at_file,
                at.line,
                format!("{} ({}): {}", rule.id, rule.evidence, rule.reason),
            ));
        }
    }
}

/// Whether the code imports what an extra provides: a module with a path segment named after
/// it below another package (`sqlalchemy.ext.asyncio`, `sqlmodel.ext.asyncio.session`), not
/// the standard library's `asyncio` itself.
fn uses_extra(facts: &Facts<'_>, extra: &str) -> bool {
    facts.python.iter().any(|(_, module)| {
        module.imports.iter().any(|import| {
            let mut segments = import.module.split('.');
            let root = segments.next();
            root != Some(extra) && segments.any(|s| s == extra)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Project;

    fn found(files: &[(&str, &str)]) -> Vec<(&'static str, String, usize)> {
        let mut out = Vec::new();
        check(&Facts::of(&Project::from_files(files)), &mut out);
        let mut out: Vec<_> = out
            .into_iter()
            .map(|f| (f.rule.id, f.file, f.line))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn pinned_consistent_sets_pass() {
        let reqs = "fastapi==0.165.0\nsqlalchemy[asyncio]==2.1.9\n";
        let dev = "-r requirements.txt\npytest==9.0.0\nfastapi==0.165.0\n";
        assert_eq!(
            found(&[("requirements.txt", reqs), ("requirements-dev.txt", dev)]),
            vec![]
        );
    }

    #[test]
    fn loose_duplicate_and_conflicting_pins_are_found() {
        let reqs = "fastapi>=0.100\nuvicorn==0.30.0\nuvicorn==0.30.0\n";
        let dev = "uvicorn==0.31.0\n";
        assert_eq!(
            found(&[("requirements.txt", reqs), ("requirements-dev.txt", dev)]),
            vec![
                ("SG401", "requirements.txt".into(), 1),
                ("SG402", "requirements.txt".into(), 2),
                ("SG402", "requirements.txt".into(), 3),
                ("SG403", "requirements.txt".into(), 3),
            ]
        );
    }

    #[test]
    fn one_pin_per_environment_marker_is_not_a_conflict() {
        let reqs = "numpy==2.4.6 ; python_full_version == '3.11.*'\nnumpy==2.5.5 ; python_full_version >= '3.12'\n";
        assert_eq!(found(&[("requirements.txt", reqs)]), vec![]);
    }

    #[test]
    fn the_matrix_rules_apply_to_pins() {
        let reqs = "sqlmodel==0.0.22\npydantic==2.10.0\nsqlalchemy==2.1.9\n";
        let code = "from sqlalchemy.ext.asyncio import create_async_engine\n";
        let ids: Vec<_> = found(&[("requirements.txt", reqs), ("app/db.py", code)])
            .into_iter()
            .map(|(id, _, line)| (id, line))
            .collect();
        assert!(ids.contains(&("SG404", 2)), "{ids:?}");
        assert!(ids.contains(&("SG404", 3)), "{ids:?}");
    }

    #[test]
    fn an_extra_is_required_only_where_the_code_uses_it() {
        let reqs = "sqlalchemy==2.1.9\n";
        let sync = "from sqlalchemy import create_engine\nimport asyncio\n";
        assert_eq!(
            found(&[("requirements.txt", reqs), ("app/db.py", sync)]),
            vec![]
        );
    }
}

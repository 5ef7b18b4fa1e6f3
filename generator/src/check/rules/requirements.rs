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
    why: "the requirements install a combination known to fail at install or at import",
    fix: "change the pins as the rule's reason says (`spacegen show` lists a known-good set)",
    explanation: "spacegen's matrix (`blueprints/matrix.toml`) records combinations that install but fail at run time, or that need an extra, each with the reason and the evidence: pydantic 2.10.0 with SQLModel, sentence-transformers 2.2.2 or older with huggingface_hub 0.26 or newer (cached_download), SQLAlchemy 2.1 without the `asyncio` extra in code that imports `sqlalchemy.ext.asyncio`, code importing `HfFolder` with huggingface_hub 1.0 or newer, and others. A rule applies when its package is pinned within its versions or the code imports the API it names; it is broken by a pin, or by a requirement with no upper bound (`huggingface-hub>=0.20`, or the bare name) when pip's choice, the newest release, is certain to be one the rule forbids. The finding quotes the rule's reason.",
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

/// The matrix's rules over the requirements: a rule applies when its package is pinned within
/// its versions, or when the code imports the API it names (`from huggingface_hub import
/// HfFolder`); it is broken by a pin of the package it constrains, or by a requirement on that
/// package with no upper bound when the newest release pip then picks must be one it forbids.
fn known_bad(all: &Pins<'_>, facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    let Ok(matrix) = matrix::Matrix::embedded() else {
        return;
    };
    // Rules are checked against the requirements that hold everywhere (no marker).
    let unmarked = |name: &str| all.get(&(name.to_owned(), String::new()));
    let pin = |name: &str| {
        unmarked(name).and_then(|es| es.iter().find_map(|(f, e)| e.pinned().map(|v| (*f, e, v))))
    };
    for rule in &matrix.rules {
        let (applies, pinned_here) = match &rule.condition {
            Condition::Package { name, versions } => match pin(name) {
                Some((file, entry, version)) if versions.contains(&version) => {
                    (true, Some((file, entry)))
                }
                _ => (false, None),
            },
            Condition::Uses(api) => (imports(facts, api), None),
        };
        if !applies {
            continue;
        }
        let reason = format!("{} ({}): {}", rule.id, rule.evidence, rule.reason);
        let broken = match &rule.effect {
            Effect::Requires { name, versions } => pin(name)
                .filter(|(_, _, v)| !versions.contains(v))
                .map(|(f, e, _)| (f, e, reason.clone())),
            Effect::Forbids { name, versions } => match pin(name) {
                Some((f, e, v)) => versions.contains(&v).then(|| (f, e, reason.clone())),
                None => newest_forbidden(unmarked(name), &matrix, name, versions).map(|(f, e)| {
                    let spec = e.requirement.versions.to_string();
                    let spec = if spec.is_empty() {
                        "any version".to_owned()
                    } else {
                        spec
                    };
                    (
                        f,
                        e,
                        format!("{name} is not pinned ({spec}), so pip installs its newest release, which breaks: {reason}"),
                    )
                }),
            },
            Effect::Extra { name, extra } if uses_extra(facts, extra) => {
                let (file, entry) = pinned_here.unzip();
                unmarked(name).and_then(|es| {
                    let has = es.iter().any(|(_, e)| e.requirement.extras.contains(extra));
                    (!has).then_some((file?, entry?, reason.clone()))
                })
            }
            Effect::Extra { .. } => None,
        };
        if let Some((at_file, at, message)) = broken {
            findings.push(Finding::new(&KNOWN_BAD, at_file, at.line, message));
        }
    }
}

/// Whether the code imports the class or function `api` names (`module.Name`) by name.
fn imports(facts: &Facts<'_>, api: &str) -> bool {
    let Some((module, name)) = api.rsplit_once('.') else {
        return false;
    };
    facts.python.iter().any(|(_, m)| {
        m.imports
            .iter()
            .any(|i| i.module == module && i.name.as_deref() == Some(name))
    })
}

/// The requirement on `name` that lets pip install a version `forbidden` excludes, when that
/// is certain: it has no upper bound, the forbidden range has none either, and a known release
/// of `name` lies in both (so the newest release pip picks does too).
fn newest_forbidden<'a>(
    entries: Option<&'a Vec<(&'a str, Entry)>>,
    matrix: &matrix::Matrix,
    name: &str,
    forbidden: &pep440_rs::VersionSpecifiers,
) -> Option<(&'a str, &'a Entry)> {
    let (file, entry) = entries?.first()?;
    let open = |specifiers: &pep440_rs::VersionSpecifiers| {
        specifiers.iter().all(|s| {
            matches!(
                s.operator(),
                pep440_rs::Operator::GreaterThan
                    | pep440_rs::Operator::GreaterThanEqual
                    | pep440_rs::Operator::NotEqual
                    | pep440_rs::Operator::NotEqualStar
            )
        })
    };
    let allowed = &entry.requirement.versions;
    let known = matrix.packages.get(name)?;
    (open(allowed)
        && open(forbidden)
        && known
            .iter()
            .any(|v| allowed.contains(v) && forbidden.contains(v)))
    .then_some((*file, entry))
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

    /// The SG404 messages for `reqs` with `code` in app/main.py, by line.
    fn known_bad_of(reqs: &str, code: &str) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        let project = Project::from_files(&[("requirements.txt", reqs), ("app/main.py", code)]);
        check(&Facts::of(&project), &mut out);
        out.into_iter()
            .filter(|f| f.rule.id == "SG404")
            .map(|f| (f.line, f.message))
            .collect()
    }

    #[test]
    fn an_unbounded_requirement_gets_the_newest_release_a_rule_forbids() {
        for reqs in [
            "sentence-transformers==2.2.2\nhuggingface-hub>=0.20\n",
            "sentence-transformers==2.2.2\nhuggingface-hub\n",
            "sentence-transformers==2.2.2\nhuggingface_hub!=0.30.0\n",
        ] {
            let found = known_bad_of(reqs, "");
            assert_eq!(found.len(), 1, "{reqs}: {found:?}");
            assert_eq!(found[0].0, 2, "{reqs}");
            assert!(
                found[0].1.starts_with("huggingface-hub is not pinned (")
                    && found[0].1.contains("sentence-transformers-cached-download"),
                "{}",
                found[0].1
            );
        }
        assert!(
            known_bad_of("sentence-transformers==2.2.2\nhuggingface-hub\n", "")[0]
                .1
                .contains("(any version)")
        );
        for fine in [
            "sentence-transformers==2.2.2\nhuggingface-hub<0.26\n",
            "sentence-transformers==2.2.2\nhuggingface-hub~=0.25.0\n",
            "sentence-transformers==2.2.2\nhuggingface-hub==0.25.2\n",
            "sentence-transformers==3.0.1\nhuggingface-hub\n",
            "sentence-transformers>=2.0\nhuggingface-hub\n",
            // A forbidden range with an upper bound may be skipped by the newest release.
            "sqlmodel==0.0.22\npydantic>=2.0\n",
        ] {
            assert_eq!(known_bad_of(fine, ""), vec![], "{fine}");
        }
    }

    #[test]
    fn a_rule_about_an_api_applies_where_the_code_imports_it() {
        let code = "from huggingface_hub import HfFolder\n\ntoken = HfFolder.get_token()\n";
        let pinned = known_bad_of("fastapi==0.165.0\nhuggingface-hub==1.0.0\n", code);
        assert_eq!(pinned.len(), 1, "{pinned:?}");
        assert_eq!(pinned[0].0, 2);
        assert!(pinned[0].1.starts_with("huggingface-hub-1.0-hffolder ("));
        let open = known_bad_of("huggingface-hub>=0.20\n", code);
        assert!(
            open[0]
                .1
                .starts_with("huggingface-hub is not pinned (>=0.20)"),
            "{open:?}"
        );
        assert_eq!(known_bad_of("huggingface-hub==0.36.2\n", code), vec![]);
        assert_eq!(
            known_bad_of("huggingface-hub==1.0.0\n", "import huggingface_hub\n"),
            vec![]
        );
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

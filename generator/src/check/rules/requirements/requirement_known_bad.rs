use super::{Pins, Requirements};
use crate::check::finding::rule;
use crate::check::requirements::Entry;
use crate::check::rules::Facts;
use crate::check::Finding;
use crate::lock::matrix::{self, Condition, Effect};

rule! {
    /// ## What it does
    /// Reports requirements that install a combination spacegen's matrix
    /// (`blueprints/matrix.toml`) records as failing. The matrix records combinations that
    /// install but fail at run time, or that need an extra, each with the reason and the
    /// evidence: pydantic 2.10.0 with SQLModel, sentence-transformers 2.2.2 or older with
    /// huggingface_hub 0.26 or newer (`cached_download`), SQLAlchemy 2.1 without the `asyncio`
    /// extra in code that imports `sqlalchemy.ext.asyncio`, code importing `HfFolder` with
    /// huggingface_hub 1.0 or newer, and others.
    ///
    /// A rule applies when its package is pinned within its versions or the code imports the
    /// API it names; it is broken by a pin, or by a requirement with no upper bound
    /// (`huggingface-hub>=0.20`, or the bare name) when pip's choice, the newest release, is
    /// certain to be one the rule forbids. The finding quotes the rule's reason.
    ///
    /// ## Why it breaks a Space
    /// Each of these combinations fails at install, which stops the image build, or at
    /// import, which stops the app: sentence-transformers 2.2.2 imports `cached_download`,
    /// which huggingface_hub 0.26 no longer has, so the Space fails with
    /// `ImportError: cannot import name 'cached_download'` before it serves anything. With a
    /// requirement that has no upper bound, a rebuild picks the newest release and the Space
    /// breaks without a commit.
    ///
    /// ## Example
    /// ```sh
    /// # requirements.txt
    /// sentence-transformers==2.2.2
    /// huggingface-hub>=0.20
    /// ```
    ///
    /// ## Fix
    /// Change the pins as the rule's reason says (`spacegen show` lists a known-good set):
    /// ```sh
    /// # requirements.txt
    /// sentence-transformers==2.2.2
    /// huggingface-hub==0.25.2
    /// ```
    ///
    /// ## References
    /// - pip, dependency resolution: <https://pip.pypa.io/en/stable/topics/dependency-resolution/>
    /// - PEP 440, version specifiers: <https://peps.python.org/pep-0440/>
    pub(crate) static RULE = "SG404", "requirement-known-bad", Error;
    why: "the requirements install a combination known to fail at install or at import";
    fix: "change the pins as the rule's reason says (`spacegen show` lists a known-good set)";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    known_bad(&Requirements::of(facts).all, facts, findings);
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
            findings.push(Finding::new(&RULE, at_file, at.line, message));
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

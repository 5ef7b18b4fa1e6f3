//! Every rule: one file per rule, in the folder of its family (`postgres/`,
//! `env/`, …), listed once in [`registry`]. A rule's file holds a [`rule!`](super::finding::rule)
//! whose doc comment is the explanation and the one function that reports it; what several
//! rules read is gathered once, in [`Facts`] or in the family's `mod.rs`. Each rule has a
//! failing and a passing fixture under `generator/tests/fixtures/check/`.

mod app;
mod cors;
pub(crate) mod docker;
mod env;
mod postgres;
mod readme;
pub(crate) mod registry;
mod requirements;
mod schema;
mod secrets;
pub(crate) mod served;
mod stale;

use super::{installs, python, settings::Settings, Finding, Project, Rule};
use crate::check::readme::Readme;

/// Every rule, in id order.
pub(crate) fn all() -> Vec<&'static Rule> {
    registry::RULES.iter().map(|e| e.rule).collect()
}

/// The rule with `id` (or name), if there is one.
pub(crate) fn find(id: &str) -> Option<&'static Rule> {
    all()
        .into_iter()
        .find(|r| r.id.eq_ignore_ascii_case(id) || r.name == id)
}

/// What the rules look at: the project, and its Python files parsed once for every family.
pub(crate) struct Facts<'a> {
    pub project: &'a Project,
    /// Every Python file that parses, with what it holds.
    pub python: Vec<(&'a str, python::Module)>,
    /// The settings classes of that Python and what their fields default to.
    pub settings: Settings,
    /// What the Dockerfiles install.
    pub installs: installs::Installs,
    /// Which of them the Space serves.
    pub served: served::Served,
    /// Every `Dockerfile`, parsed, with what surrounds it.
    pub dockerfiles: Vec<docker::Context<'a>>,
    /// `README.md`, with its header parsed once for every rule that reads it.
    pub readme: Option<Readme<'a>>,
}

impl<'a> Facts<'a> {
    pub(crate) fn of(project: &'a Project) -> Facts<'a> {
        let python = python::modules(project);
        let settings = Settings::of(&python);
        let served = served::Served::of(project, &python);
        Facts {
            project,
            python,
            settings,
            installs: installs::of(project),
            served,
            dockerfiles: docker::contexts(project),
            readme: Readme::of(project),
        }
    }
}

/// Runs every family over `project`.
pub(crate) fn run(project: &Project) -> Vec<Finding> {
    let facts = Facts::of(project);
    let mut findings = Vec::new();
    for entry in registry::RULES {
        (entry.check)(&facts, &mut findings);
    }
    findings
}

/// Test code, which the Space does not serve.
pub(crate) fn is_test(file: &str) -> bool {
    let name = file.rsplit('/').next().unwrap_or(file);
    file.starts_with("tests/")
        || file.starts_with("test/")
        || file.contains("/tests/")
        || file.contains("/test/")
        || name.starts_with("test_")
        || name.ends_with("_test.py")
        || name == "conftest.py"
}

/// What the rules of `family` find in a project of `files`, as (rule, line), in the order the
/// registry lists them: for the families' tests.
#[cfg(test)]
fn found_by(family: &str, files: &[(&str, &str)]) -> Vec<(&'static str, usize)> {
    let project = Project::from_files(files);
    let facts = Facts::of(&project);
    let mut findings = Vec::new();
    for entry in registry::RULES.iter().filter(|e| e.family == family) {
        (entry.check)(&facts, &mut findings);
    }
    findings.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.rule.id).cmp(&(&b.file, b.line, b.column, b.rule.id))
    });
    findings.iter().map(|f| (f.rule.id, f.line)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_are_unique_and_well_formed() {
        let rules = all();
        let mut ids: Vec<&str> = rules.iter().map(|r| r.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), rules.len(), "an id is used twice");
        let mut names: Vec<&str> = rules.iter().map(|r| r.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), rules.len(), "a name is used twice");
        for r in rules {
            assert!(r.id.len() == 5 && r.id.starts_with("SG"), "{}", r.id);
            assert!(!r.why.is_empty() && !r.fix.is_empty() && !r.explanation().is_empty());
        }
    }
}

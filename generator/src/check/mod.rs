//! `spacegen check`: audits a folder meant to become a Hugging Face Docker Space backend and
//! reports every deployment defect it can prove from the files, each with its place, what goes
//! wrong on a Space and the fix. The [`project`] is read once (skipping `.git`, virtual
//! environments and `node_modules`), the [`rules`] look at it, and the [`finding`]s come back
//! sorted by file and line. Nothing here writes or prints.

pub(crate) mod dockerfile;
pub(crate) mod finding;
pub(crate) mod ignore_file;
pub(crate) mod pins;
pub(crate) mod project;
pub(crate) mod python;
pub(crate) mod readme;
pub(crate) mod requirements;
pub(crate) mod rules;

use std::path::Path;

use crate::error::Result;
pub(crate) use finding::{Finding, Rule, Severity};
pub(crate) use project::Project;

/// What a check found.
#[derive(Debug)]
pub(crate) struct Report {
    pub findings: Vec<Finding>,
    /// How many files were read.
    pub files: usize,
}

/// Checks the project in `root`.
pub(crate) fn check(root: &Path) -> Result<Report> {
    let project = Project::read(root)?;
    let mut findings = rules::run(&project);
    findings.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.rule.id).cmp(&(&b.file, b.line, b.column, b.rule.id))
    });
    Ok(Report {
        findings,
        files: project.len(),
    })
}

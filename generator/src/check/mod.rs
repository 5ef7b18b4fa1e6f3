//! `spacegen check`: audits a folder meant to become a Hugging Face Docker Space backend and
//! reports every deployment defect it can prove from the files, each with its place, what goes
//! wrong on a Space and the fix. The [`project`] is read once (skipping `.git`, virtual
//! environments and `node_modules`), the [`rules`] look at it, and the [`finding`]s come back
//! sorted by file and line, with the files left out of the check and why. Python larger than
//! [`MAX_PYTHON`], past [`MAX_PYTHON_TOTAL`] or nested beyond [`nesting::MAX_DEPTH`] is left
//! out before it is parsed. Nothing here writes or prints.

pub(crate) mod dockerfile;
pub(crate) mod finding;
pub(crate) mod fs_path;
pub(crate) mod git;
pub(crate) mod ignore_file;
pub(crate) mod installs;
pub(crate) mod nesting;
pub(crate) mod not_read;
pub(crate) mod pins;
pub(crate) mod project;
pub(crate) mod python;
pub(crate) mod readme;
pub(crate) mod readme_body;
pub(crate) mod requirements;
pub(crate) mod rules;
pub(crate) mod secret;
pub(crate) mod settings;

use std::path::Path;

use crate::error::Result;
pub(crate) use finding::{Finding, Rule, Severity};
pub(crate) use not_read::NotRead;
pub(crate) use project::Project;

/// What a check found.
#[derive(Debug)]
pub(crate) struct Report {
    pub findings: Vec<Finding>,
    /// How many files were read.
    pub files: usize,
    /// The files left out, wholly or in part, by file.
    pub not_read: Vec<NotRead>,
}

/// The most Python parsed from one file: its tree takes over fifty times its size, and code
/// this large is data. With [`MAX_PYTHON_TOTAL`], a check stays under 100 MB (`bench/check.py`).
pub(crate) const MAX_PYTHON: usize = 512 << 10;

/// The most Python parsed from one project: the facts kept from each file add up.
pub(crate) const MAX_PYTHON_TOTAL: usize = 2 << 20;

/// Leaves out the Python files too large or too deeply nested to parse within the budgets.
fn leave_out_unparsable_python(project: &mut Project) {
    let mut total = 0;
    let refused: Vec<(String, usize, String)> = project
        .python()
        .filter_map(|(path, text)| {
            if text.len() <= MAX_PYTHON && total + text.len() > MAX_PYTHON_TOTAL {
                let reason = format!(
                    "not checked: the check parses at most {} of Python",
                    not_read::human_size(MAX_PYTHON_TOTAL as u64)
                );
                return Some((path.to_owned(), 0, reason));
            }
            if text.len() > MAX_PYTHON {
                let reason = format!(
                    "not checked: Python larger than {} ({}) is not parsed",
                    not_read::human_size(MAX_PYTHON as u64),
                    not_read::human_size(text.len() as u64)
                );
                return Some((path.to_owned(), 0, reason));
            }
            let Err(deep) = nesting::within_budget(text) else {
                total += text.len();
                return None;
            };
            let reason = format!(
                "not checked: nested deeper than {} levels by this line",
                nesting::MAX_DEPTH
            );
            Some((path.to_owned(), deep.line, reason))
        })
        .collect();
    for (path, line, reason) in refused {
        project.leave_out(&path, line, reason);
    }
}

/// Checks the project in `root`.
pub(crate) fn check(root: &Path) -> Result<Report> {
    let mut project = Project::read(root)?;
    leave_out_unparsable_python(&mut project);
    let mut findings = rules::run(&project);
    findings.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.rule.id).cmp(&(&b.file, b.line, b.column, b.rule.id))
    });
    let mut not_read = project.not_read().to_vec();
    not_read.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    Ok(Report {
        findings,
        files: project.len(),
        not_read,
    })
}

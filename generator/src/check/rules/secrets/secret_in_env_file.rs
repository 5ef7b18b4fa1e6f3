use globset::Glob;

use crate::check::finding::rule;
use crate::check::rules::Facts;
use crate::check::secret::{env_line, is_env_file};
use crate::check::{Finding, Project};

rule! {
    /// ## What it does
    /// Reports the credentials in a `.env` file (`.env`, `.env.local`, `.env.production`,
    /// `.env.test`, …; not the examples) that is or will be published: git tracks it (its
    /// index lists the file, whatever `.gitignore` says), or the top-level `.gitignore` does
    /// not list it (the next `git add .` commits it).
    ///
    /// ## Why it breaks a Space
    /// A `.env` file in the repository is uploaded with the Space, whose files are public unless
    /// the Space is private, and git history keeps it after deletion. Adding `.env` to
    /// `.gitignore` later does not help: ignore rules apply only to files git does not track
    /// yet, so a committed `.env` stays in every following commit and push.
    ///
    /// ## Example
    /// ```sh
    /// $ cat .gitignore
    /// .env
    /// $ git ls-files .env     # committed before .gitignore listed it
    /// .env
    /// ```
    ///
    /// ## Fix
    /// Revoke what was published, stop tracking the file, and set the values as secrets in the
    /// Space's settings; keep only a `.env.example` with placeholders in the repository:
    /// ```sh
    /// git rm --cached .env
    /// echo .env >> .gitignore
    /// git commit -m "Stop tracking .env"
    /// ```
    ///
    /// ## References
    /// - git, gitignore ("files already tracked by Git are not affected"): <https://git-scm.com/docs/gitignore>
    /// - Hugging Face, Spaces secrets and variables: <https://huggingface.co/docs/hub/spaces-overview#managing-secrets>
    pub(crate) static RULE = "SG208", "secret-in-env-file", Error;
    why: "a .env file with real credentials is in the repository: it is published with the Space";
    fix: "revoke the credentials, delete the file, add `.env` to .gitignore, and set the values as Space secrets";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    let project = facts.project;
    let ignored = ignore_globs(project);
    for (file, text) in project.named(is_env_file) {
        let name = file.rsplit('/').next().unwrap_or(file);
        let listed = ignored.iter().any(|g| g.is_match(file) || g.is_match(name));
        let why = match (project.is_tracked(file), listed) {
            (Some(true), true) => {
                "in a .env file that git tracks although .gitignore lists it (`git rm --cached` it)"
            }
            (Some(true), false) => "in a .env file that git tracks",
            (Some(false) | None, true) => continue,
            (Some(false) | None, false) => "in a .env file that is not git-ignored",
        };
        for (i, line) in text.lines().enumerate() {
            if let Some(what) = env_line(line) {
                findings.push(Finding::new(&RULE, file, i + 1, format!("{what} {why}")));
            }
        }
    }
}

/// The patterns of the project's top-level `.gitignore`.
fn ignore_globs(project: &Project) -> Vec<globset::GlobMatcher> {
    let Some(text) = project.text(".gitignore") else {
        return Vec::new();
    };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('!'))
        .map(|l| l.trim_start_matches('/').trim_end_matches('/'))
        .filter_map(|l| Glob::new(l).ok())
        .map(|g| g.compile_matcher())
        .collect()
}

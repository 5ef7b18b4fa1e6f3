use crate::check::finding::rule;
use crate::check::rules::Facts;
use crate::check::secret::credential;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a provider key or a database URL with a password (the same ones as SG207;
    /// placeholders and local databases are not reported) in a Python comment or in a
    /// documentation file (`.md`, `.markdown`, `.rst`, `.adoc`, and `.txt` other than
    /// requirements and constraints files).
    ///
    /// ## Why it breaks a Space
    /// Deployment notes, READMEs and commented-out lines are published with the Space like the
    /// code, and git history keeps them after they are edited. A key pasted into `DEPLOY.md`
    /// "for the next person", or a connection string left in a comment, is as exposed as one in
    /// the code.
    ///
    /// ## Example
    /// ```python
    /// # OPENROUTER_API_KEY = "sk-or-v1-…"   (the real key, commented out)
    /// ```
    ///
    /// ## Fix
    /// Revoke the key at the provider and write a placeholder in its place; keep the real value
    /// only in the Space's secrets:
    /// ```sh
    /// # OPENROUTER_API_KEY=sk-or-v1-...   # set it as a Space secret
    /// ```
    ///
    /// ## References
    /// - Hugging Face, Spaces secrets and variables: <https://huggingface.co/docs/hub/spaces-overview#managing-secrets>
    /// - GitHub, removing sensitive data from a repository: <https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/removing-sensitive-data-from-a-repository>
    pub(crate) static RULE = "SG222", "secret-in-docs", Error;
    why: "a real API key or database password is written in a comment or in the documentation: it is published with the Space";
    fix: "revoke the key, replace it with a placeholder (`sk-...`, `<password>`), and keep the real value only in the Space's secrets";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    for (file, module) in &facts.python {
        for (place, what) in &module.comment_secrets {
            findings.push(
                Finding::new(
                    &RULE,
                    *file,
                    place.line,
                    format!("{what} is written in a comment"),
                )
                .at_column(place.column),
            );
        }
    }
    for (file, text) in facts.project.named(is_documentation) {
        for (i, line) in text.lines().enumerate() {
            if let Some(what) = credential(line) {
                findings.push(Finding::new(
                    &RULE,
                    file,
                    i + 1,
                    format!("{what} is written in the documentation"),
                ));
            }
        }
    }
}

/// Documentation: Markdown, reStructuredText, AsciiDoc and plain text other than requirements.
fn is_documentation(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".md", ".markdown", ".rst", ".adoc"]
        .iter()
        .any(|e| lower.ends_with(e))
        || (lower.ends_with(".txt")
            && !lower.contains("requirements")
            && !lower.contains("constraints"))
}

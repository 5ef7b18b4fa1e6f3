use crate::check::finding::rule;
use crate::check::rules::Facts;
use crate::check::secret::{credential, is_env_example};
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a provider key or a database URL with a password (the ones SG207 finds;
    /// placeholders and local databases are not reported) in an example environment file:
    /// `.env.example`, `.env.sample`, `.env.template`, `.env.dist`, `.env.defaults` or
    /// `example.env`. Commented lines count too.
    ///
    /// ## Why it breaks a Space
    /// The example is the environment file meant to be committed: `.gitignore` never lists it,
    /// so a real key copied into it "to show the format" is published with the Space and kept
    /// by git history after it is replaced.
    ///
    /// ## Example
    /// ```sh
    /// OPENAI_API_KEY=sk-proj-…   # the real key
    /// ```
    ///
    /// ## Fix
    /// Revoke the key at the provider and leave a placeholder; the real value is a Space
    /// secret:
    /// ```sh
    /// OPENAI_API_KEY=sk-...
    /// ```
    ///
    /// ## References
    /// - Hugging Face, Spaces secrets and variables: <https://huggingface.co/docs/hub/spaces-overview#managing-secrets>
    pub(crate) static RULE = "SG223", "secret-in-env-example", Error;
    why: "the example environment file is committed for everyone to read, and it holds a real key or password";
    fix: "revoke the key, write a placeholder in the example (`OPENAI_API_KEY=sk-...`), and set the real value as a Space secret";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    for (file, text) in facts.project.named(is_env_example) {
        for (i, line) in text.lines().enumerate() {
            let value = line.split_once('=').map_or(line, |(_, value)| value);
            if let Some(what) = credential(value) {
                let message = format!("{what} is written in {file}, which is published");
                findings.push(Finding::new(&RULE, file, i + 1, message));
            }
        }
    }
}

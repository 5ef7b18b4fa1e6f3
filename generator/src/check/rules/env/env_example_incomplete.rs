use std::collections::BTreeSet;

use super::{documented, os_reads, provided, settings_reads, Read, PROVIDED_PREFIXES};
use crate::check::finding::rule;
use crate::check::python::Module;
use crate::check::rules::{is_test, Facts};
use crate::check::secret::is_env_example;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports an environment variable the served code reads that no `.env.example` lists,
    /// and a project whose code reads variables but has no `.env.example` at all (then the
    /// finding is at `.env.example`, line 0, and names the first read).
    ///
    /// Read: `os.environ["X"]`, `os.environ.get("X")`, `os.getenv("X")`, `environ[...]` and
    /// `environ.get(...)` after `from os import environ`, `getenv(...)` after
    /// `from os import getenv`, with a literal name, and every field of a pydantic
    /// `BaseSettings` class: its name with `env_prefix` (compared without case unless
    /// `case_sensitive=True`), or its `alias` / `validation_alias` (one name of
    /// `AliasChoices(...)` is enough). A nested settings field is documented by any
    /// `FIELD<env_nested_delimiter>…` line. Code under `tests/` does not count.
    ///
    /// Documented: `.env.example`, `.env.sample`, `.env.template`, `.env.dist`,
    /// `.env.defaults` or `example.env`, with
    /// `NAME=…`, `export NAME=…` or a commented `# NAME=…` line. Not required: the variables
    /// Hugging Face sets in every Space (`SPACE_ID`, `SPACE_HOST`, `SPACE_AUTHOR_NAME`, …),
    /// `PORT`, `HOST`, `HOME`, `PATH`, `PYTHONPATH`, `HF_HOME`, the variables other hosts set
    /// to say where the code runs (`RENDER`, `VERCEL_URL`, `DYNO`, `K_SERVICE`, …), and
    /// anything the Dockerfile sets with `ENV`.
    ///
    /// ## Why it breaks a Space
    /// A Space's configuration lives in its settings ("Variables and secrets"), which the
    /// container receives as environment variables. The only place a second engineer, or the
    /// owner a month later, learns which ones exist is `.env.example`: a variable the code
    /// reads but no example lists is found when the Space fails or silently falls back to a
    /// default.
    ///
    /// ## Example
    /// ```python
    /// JWT_SECRET = os.environ["JWT_SECRET"]  # .env.example lists only OPENAI_API_KEY
    /// ```
    ///
    /// ## Fix
    /// List every variable in `.env.example`, with a placeholder or as a comment when it is
    /// optional:
    /// ```sh
    /// OPENAI_API_KEY=
    /// JWT_SECRET=   # a long random string; set it as a Space secret
    /// ```
    ///
    /// ## References
    /// - Hugging Face, Spaces secrets and variables: <https://huggingface.co/docs/hub/spaces-overview#managing-secrets>
    /// - pydantic-settings, environment variable names: <https://docs.pydantic.dev/latest/concepts/pydantic_settings/#environment-variable-names>
    pub(crate) static RULE = "SG220", "env-example-incomplete", Warning;
    why: "the code reads an environment variable that no `.env.example` documents: whoever deploys the Space next does not know to set it";
    fix: "list every variable the code reads in `.env.example` (`NAME=` with a placeholder, or `# NAME=` when it is optional)";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    let served: Vec<(&str, &Module)> = facts
        .python
        .iter()
        .filter(|(file, _)| !is_test(file) && facts.served.includes(file))
        .map(|(f, m)| (*f, m))
        .collect();
    let mut reads = Vec::new();
    for (file, module) in &served {
        reads.extend(os_reads(file, module));
    }
    reads.extend(settings_reads(&served));
    let provided = provided(facts);
    reads.retain(|r| {
        !r.names.iter().any(|(n, _)| {
            provided.contains(n.as_str()) || PROVIDED_PREFIXES.iter().any(|p| n.starts_with(p))
        })
    });
    if reads.is_empty() {
        return;
    }
    reads.sort_by(|a, b| {
        (a.file, a.place.line, a.place.column).cmp(&(b.file, b.place.line, b.place.column))
    });
    let examples: Vec<&str> = facts
        .project
        .named(is_env_example)
        .map(|(_, text)| text)
        .collect();
    if examples.is_empty() {
        // The finding is about the file that is missing: at its path, line 0.
        let first = &reads[0];
        let all: BTreeSet<&str> = reads.iter().map(Read::shown).collect();
        findings.push(Finding::new(
            &RULE,
            ".env.example",
            0,
            format!(
                "there is no .env.example, and the code reads {} (first at {}:{})",
                all.into_iter().collect::<Vec<_>>().join(", "),
                first.file,
                first.place.line
            ),
        ));
        return;
    }
    let documented: BTreeSet<String> = examples.iter().flat_map(|t| documented(t)).collect();
    let lower: BTreeSet<String> = documented.iter().map(|n| n.to_ascii_lowercase()).collect();
    let mut reported = BTreeSet::new();
    for read in &reads {
        let known = read.names.iter().any(|(name, nocase)| {
            if *nocase {
                lower.contains(&name.to_ascii_lowercase())
            } else {
                documented.contains(name)
            }
        }) || read.nested_prefix.as_ref().is_some_and(|(prefix, nocase)| {
            if *nocase {
                let prefix = prefix.to_ascii_lowercase();
                lower.iter().any(|n| n.starts_with(&prefix))
            } else {
                documented.iter().any(|n| n.starts_with(prefix))
            }
        });
        if known || !reported.insert(read.shown().to_ascii_lowercase()) {
            continue;
        }
        findings.push(
            Finding::new(
                &RULE,
                read.file,
                read.place.line,
                format!(
                    "{} is read here but .env.example does not list it",
                    read.shown()
                ),
            )
            .at_column(read.place.column),
        );
    }
}

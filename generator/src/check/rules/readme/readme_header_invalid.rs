use crate::check::finding::rule;
use crate::check::readme::{Header, FILE};
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a README.md header that cannot be read: an unclosed `---` block, YAML syntax
    /// errors, a list instead of a mapping, or YAML aliases (`*name`) past what a header needs
    /// (more than 16, or copying more than 10,000 values), which are refused before loading.
    ///
    /// ## Why it breaks a Space
    /// The Hub validates the README header on every push (`/api/validate-yaml`) and rejects the
    /// push when it cannot be read: an unclosed `---` block, YAML syntax errors, or a list
    /// instead of a mapping.
    ///
    /// ## Example
    /// ```yaml
    /// ---
    /// title: [Demo
    /// sdk: docker
    /// ---
    /// ```
    ///
    /// ## Fix
    /// Make the block between the `---` lines valid YAML, one `key: value` per line:
    /// ```yaml
    /// ---
    /// title: Demo
    /// sdk: docker
    /// ---
    /// ```
    ///
    /// ## References
    /// - Hugging Face, Spaces configuration reference: <https://huggingface.co/docs/hub/spaces-config-reference>
    /// - YAML 1.2.2 specification: <https://yaml.org/spec/1.2.2/>
    pub(crate) static RULE = "SG302", "readme-header-invalid", Error;
    why: "a header that is not a YAML mapping is rejected when pushed to the Hub";
    fix: "make the block between the `---` lines valid YAML: one `key: value` per line";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    if let Some(readme) = &facts.readme {
        if let Header::Invalid { line, message } = &readme.header {
            findings.push(Finding::new(&RULE, FILE, *line, message.clone()));
        }
    }
}

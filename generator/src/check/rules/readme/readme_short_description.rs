use yaml_rust2::Yaml;

use super::fields;
use crate::check::finding::rule;
use crate::check::readme::FILE;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a `short_description` in the README header longer than 60 characters.
    ///
    /// ## Why it breaks a Space
    /// A push whose header has a `short_description` over 60 characters is rejected with
    /// '"short_description" length must be less than or equal to 60 characters long'.
    ///
    /// ## Example
    /// ```yaml
    /// ---
    /// sdk: docker
    /// short_description: This description is far too long to be shown on a Space thumbnail card
    /// ---
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// ---
    /// sdk: docker
    /// short_description: FastAPI backend for the Vercel frontend
    /// ---
    /// ```
    ///
    /// ## References
    /// - Hugging Face, Spaces configuration reference: <https://huggingface.co/docs/hub/spaces-config-reference>
    pub(crate) static RULE = "SG306", "readme-short-description", Error;
    why: "the Hub rejects a `short_description` longer than 60 characters";
    fix: "shorten `short_description` to 60 characters at most";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    if let Some((Yaml::String(d), line)) = fields(facts).and_then(|f| f.get("short_description")) {
        let n = d.chars().count();
        if n > 60 {
            findings.push(Finding::new(
                &RULE,
                FILE,
                line,
                format!("`short_description` is {n} characters long"),
            ));
        }
    }
}

use yaml_rust2::Yaml;

use super::{fields, is_space};
use crate::check::finding::rule;
use crate::check::readme::FILE;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a README header without `sdk`, with an `sdk` that is not a string or not one the
    /// Hub offers, and, in a folder with a Dockerfile, an `sdk` other than `docker`.
    ///
    /// ## Why it breaks a Space
    /// `sdk` must be one of `gradio`, `docker` or `static` (`streamlit` is no longer offered). A
    /// repository with a Dockerfile is built from it only with `sdk: docker`; with `gradio` or
    /// `static` the Dockerfile is ignored.
    ///
    /// ## Example
    /// ```yaml
    /// ---
    /// title: Demo API
    /// sdk: gradio
    /// ---
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// ---
    /// title: Demo API
    /// sdk: docker
    /// ---
    /// ```
    ///
    /// ## References
    /// - Hugging Face, Spaces configuration reference: <https://huggingface.co/docs/hub/spaces-config-reference>
    /// - Hugging Face, Docker Spaces: <https://huggingface.co/docs/hub/spaces-sdks-docker>
    pub(crate) static RULE = "SG303", "readme-sdk", Error;
    why: "only `sdk: docker` builds and runs the Dockerfile; any other or missing value runs something else or is rejected";
    fix: "set `sdk: docker` in the README header";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    let Some(fields) = fields(facts) else {
        return;
    };
    match fields.get("sdk") {
        None => findings.push(Finding::new(&RULE, FILE, 1, "the header has no `sdk`")),
        Some((Yaml::String(sdk), line))
            if !["gradio", "docker", "static"].contains(&sdk.as_str()) =>
        {
            findings.push(Finding::new(
                &RULE,
                FILE,
                line,
                format!("`sdk: {sdk}` is not one the Hub offers"),
            ));
        }
        Some((Yaml::String(sdk), line)) if sdk != "docker" && is_space(facts) => {
            findings.push(Finding::new(
                &RULE,
                FILE,
                line,
                format!("`sdk: {sdk}` ignores the Dockerfile"),
            ))
        }
        Some((Yaml::String(_), _)) => {}
        Some((_, line)) => findings.push(Finding::new(&RULE, FILE, line, "`sdk` is not a string")),
    }
}

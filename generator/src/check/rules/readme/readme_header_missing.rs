use super::is_space;
use crate::check::finding::rule;
use crate::check::readme::{Header, FILE};
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a folder with a Dockerfile (a Space backend) that has no README.md, or whose
    /// README.md does not start with a YAML block between two `---` lines.
    ///
    /// ## Why it breaks a Space
    /// A Space repository is configured by the YAML block at the top of README.md, between two
    /// `---` lines: `title`, `emoji`, `colorFrom`, `colorTo`, `sdk`, `app_port`,
    /// `short_description`, `license`. A Docker Space needs `sdk: docker`; `app_port` defaults
    /// to 7860. A README without the block (or a repository without README.md) leaves the Space
    /// unconfigured.
    ///
    /// ## Example
    /// ```markdown
    /// # Demo API
    ///
    /// A FastAPI backend.
    /// ```
    ///
    /// ## Fix
    /// Start README.md with the header:
    /// ```yaml
    /// ---
    /// title: Demo API
    /// sdk: docker
    /// app_port: 7860
    /// ---
    /// ```
    ///
    /// ## References
    /// - Hugging Face, Spaces configuration reference: <https://huggingface.co/docs/hub/spaces-config-reference>
    /// - Hugging Face, Docker Spaces: <https://huggingface.co/docs/hub/spaces-sdks-docker>
    pub(crate) static RULE = "SG301", "readme-header-missing", Error;
    why: "the Hub reads a Space's SDK and port from the YAML header of README.md; without it the Space is not configured";
    fix: "start README.md with a `---` block holding at least `sdk: docker` and `app_port: 7860`";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    if !is_space(facts) {
        return;
    }
    match &facts.readme {
        None => findings.push(Finding::new(&RULE, FILE, 0, "there is no README.md")),
        Some(readme) if matches!(readme.header, Header::Missing) => {
            findings.push(Finding::new(
                &RULE,
                FILE,
                1,
                "README.md does not start with a `---` YAML header",
            ));
        }
        Some(_) => {}
    }
}

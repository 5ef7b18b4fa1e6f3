use yaml_rust2::Yaml;

use super::{fields, shown};
use crate::check::finding::rule;
use crate::check::readme::FILE;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports an `app_port` in the README header that is not a bare integer between 1 and
    /// 65535: a quoted string, a list, or a port out of range.
    ///
    /// ## Why it breaks a Space
    /// `app_port` tells the Hub which container port to send traffic to (default 7860). It must
    /// be an integer between 1 and 65535: a quoted string, a list or a port out of range is
    /// rejected or leaves the Space unreachable.
    ///
    /// ## Example
    /// ```yaml
    /// ---
    /// sdk: docker
    /// app_port: "7860"
    /// ---
    /// ```
    ///
    /// ## Fix
    /// Write the port the server listens on as a bare integer:
    /// ```yaml
    /// ---
    /// sdk: docker
    /// app_port: 7860
    /// ---
    /// ```
    ///
    /// ## References
    /// - Hugging Face, Spaces configuration reference: <https://huggingface.co/docs/hub/spaces-config-reference>
    /// - Hugging Face, Docker Spaces: <https://huggingface.co/docs/hub/spaces-sdks-docker>
    pub(crate) static RULE = "SG304", "readme-app-port", Error;
    why: "`app_port` must be an integer port; anything else is rejected or routes traffic nowhere";
    fix: "write `app_port: 7860` (or the port the server listens on) as a bare integer";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    let Some((value, line)) = fields(facts).and_then(|f| f.get("app_port")) else {
        return;
    };
    let good = matches!(value, Yaml::Integer(p) if (1..=65535).contains(p));
    if !good {
        findings.push(Finding::new(
            &RULE,
            FILE,
            line,
            format!("`app_port: {}` is not a port number", shown(value)),
        ));
    }
}

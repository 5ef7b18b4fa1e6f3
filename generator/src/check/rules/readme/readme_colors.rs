use yaml_rust2::Yaml;

use super::{fields, shown};
use crate::check::finding::rule;
use crate::check::readme::FILE;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a `colorFrom` or `colorTo` in the README header that is not one of red, yellow,
    /// green, blue, indigo, purple, pink and gray.
    ///
    /// ## Why it breaks a Space
    /// The push is rejected with '"colorFrom" must be one of [red, yellow, green, blue, indigo,
    /// purple, pink, gray]'. `orange` and `teal` are rejected too, although a Hub documentation
    /// page uses `orange` as its example.
    ///
    /// ## Example
    /// ```yaml
    /// ---
    /// sdk: docker
    /// colorFrom: orange
    /// colorTo: teal
    /// ---
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// ---
    /// sdk: docker
    /// colorFrom: yellow
    /// colorTo: green
    /// ---
    /// ```
    ///
    /// ## References
    /// - Hugging Face, Spaces configuration reference: <https://huggingface.co/docs/hub/spaces-config-reference>
    pub(crate) static RULE = "SG305", "readme-colors", Error;
    why: "the Hub rejects any `colorFrom`/`colorTo` outside red, yellow, green, blue, indigo, purple, pink and gray";
    fix: "pick `colorFrom` and `colorTo` from red, yellow, green, blue, indigo, purple, pink, gray";
}

/// The colours the Hub accepts.
const COLOURS: &[&str] = &[
    "red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray",
];

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    let Some(fields) = fields(facts) else {
        return;
    };
    for key in ["colorFrom", "colorTo"] {
        if let Some((value, line)) = fields.get(key) {
            let good = matches!(value, Yaml::String(c) if COLOURS.contains(&c.as_str()));
            if !good {
                findings.push(Finding::new(
                    &RULE,
                    FILE,
                    line,
                    format!("`{key}: {}` is not one of the eight colours", shown(value)),
                ));
            }
        }
    }
}

use std::collections::BTreeMap;

use super::Requirements;
use crate::check::finding::rule;
use crate::check::requirements::entries;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a package listed again in the same requirements file, under the same
    /// environment marker, at every line after its first.
    ///
    /// ## Why it breaks a Space
    /// pip accepts the same requirement twice when the two agree, but the second copy is what
    /// gets forgotten when the pin is bumped, and the file then fails to install (see SG402).
    ///
    /// ## Example
    /// ```sh
    /// # requirements.txt
    /// uvicorn==0.30.0
    /// fastapi==0.115.6
    /// uvicorn==0.30.0
    /// ```
    ///
    /// ## Fix
    /// Keep one line per package:
    /// ```sh
    /// # requirements.txt
    /// uvicorn==0.30.0
    /// fastapi==0.115.6
    /// ```
    ///
    /// ## References
    /// - pip, requirements file format: <https://pip.pypa.io/en/stable/reference/requirements-file-format/>
    pub(crate) static RULE = "SG403", "requirement-duplicate", Warning;
    why: "a package listed twice in one file drifts: the next edit changes one line and not the other";
    fix: "keep one line per package";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    for (file, text) in Requirements::of(facts).files {
        let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
        for entry in entries(text) {
            let name = entry.requirement.name.clone();
            let key = (name.clone(), entry.marker.clone());
            if let Some(first) = seen.insert(key, entry.line) {
                findings.push(Finding::new(
                    &RULE,
                    file,
                    entry.line,
                    format!("{name} is listed again (first on line {first})"),
                ));
            }
        }
    }
}

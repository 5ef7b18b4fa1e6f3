use super::{Pins, Requirements};
use crate::check::finding::rule;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a package pinned with `==` to a version other than the one its first pin
    /// names, in two requirements files or on two lines of one, under the same environment
    /// marker (one pin per marker, such as one for Python 3.11 and one for 3.12, is not a
    /// conflict). The finding is at every pin that disagrees with the first.
    ///
    /// ## Why it breaks a Space
    /// When two requirements files (or two lines of one) pin the same package to different
    /// versions, `pip install -r` of both fails with "Cannot install … because these package
    /// versions have conflicting dependencies", and the image build stops.
    ///
    /// ## Example
    /// ```sh
    /// # requirements.txt
    /// uvicorn==0.30.0
    /// # requirements-dev.txt
    /// -r requirements.txt
    /// uvicorn==0.31.0
    /// ```
    ///
    /// ## Fix
    /// Pin the package to one version everywhere (requirements files that include each other
    /// must agree):
    /// ```sh
    /// # requirements-dev.txt
    /// -r requirements.txt
    /// pytest==8.3.4
    /// ```
    ///
    /// ## References
    /// - pip, dependency resolution (conflicts): <https://pip.pypa.io/en/stable/topics/dependency-resolution/>
    /// - pip, requirements file format: <https://pip.pypa.io/en/stable/reference/requirements-file-format/>
    /// - PEP 508, environment markers: <https://peps.python.org/pep-0508/>
    pub(crate) static RULE = "SG402", "requirement-conflict", Error;
    why: "the same package pinned to two versions cannot be installed: pip stops with ResolutionImpossible";
    fix: "pin the package to one version everywhere (requirements files that include each other must agree)";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    conflicts(&Requirements::of(facts).all, findings);
}

/// Packages pinned to different versions under the same marker.
fn conflicts(all: &Pins<'_>, findings: &mut Vec<Finding>) {
    for ((name, _), entries) in all {
        let pinned: Vec<_> = entries
            .iter()
            .filter_map(|(f, e)| e.pinned().map(|v| (f, e, v)))
            .collect();
        let Some((first_file, first, version)) = pinned.first() else {
            continue;
        };
        for (file, entry, other) in &pinned[1..] {
            if other != version {
                findings.push(Finding::new(
                    &RULE,
                    **file,
                    entry.line,
                    format!(
                        "{name}=={other} here, {name}=={version} in {first_file}:{}",
                        first.line
                    ),
                ));
            }
        }
    }
}

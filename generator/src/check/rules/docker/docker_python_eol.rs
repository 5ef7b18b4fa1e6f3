use super::{pip_installs, python_base};
use crate::check::finding::rule;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a base image `python:3.9` or older when the Dockerfile installs FastAPI (and no
    /// requirement it installs needs a newer Python, which `docker-python-too-old` reports).
    ///
    /// ## Why it breaks a Space
    /// Python 3.9 reached end of life in October 2025 (older ones earlier): no security fixes.
    /// Current FastAPI requires Python 3.11 (3.10 from fastapi 0.129.0), so pip silently
    /// installs an old release on these images and current documentation no longer matches
    /// the code.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM python:3.9-slim
    /// RUN pip install fastapi uvicorn
    /// ```
    ///
    /// ## Fix
    /// ```dockerfile
    /// FROM python:3.11-slim
    /// ```
    ///
    /// ## References
    /// - Python release status: <https://devguide.python.org/versions/>
    /// - PEP 596, Python 3.9 release schedule: <https://peps.python.org/pep-0596/>
    pub(crate) static RULE = "SG107", "docker-python-eol", Warning;
    why: "Python 3.9 and older get no security fixes, and pip can only install FastAPI releases from before 2026";
    fix: "use a python:3.11 (or newer) base image";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    for cx in &facts.dockerfiles {
        let chain = cx.chain();
        let Some((image, minor, from_line)) = python_base(&chain) else {
            continue;
        };
        if minor >= 10 {
            continue;
        }
        let installs = pip_installs(cx, &chain, minor);
        if installs.too_old.is_none() && installs.fastapi {
            findings.push(cx.finding(
                &RULE,
                from_line,
                format!(
                    "`{image}` has Python 3.{minor}, which is end of life, and installs fastapi"
                ),
            ));
        }
    }
}

use super::{pip_installs, python_base};
use crate::check::finding::rule;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a base image `python:X.Y…` when a requirement the Dockerfile installs asks for
    /// a version whose Requires-Python excludes X.Y. Known thresholds: fastapi 0.129.0,
    /// sqlmodel 0.0.35, uvicorn 0.40.0 and openai 2.49.0 need Python 3.10; fastapi 0.162.6,
    /// sqlmodel 0.0.50, pydantic-settings 2.16.0, sse-starlette 3.6.0 and starlette 1.10.0
    /// need Python 3.11.
    ///
    /// ## Why it breaks a Space
    /// pip stops with 'No matching distribution found', so the image does not build and the
    /// Space never starts.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM python:3.9-slim
    /// RUN pip install fastapi==0.165.0
    /// ```
    ///
    /// ## Fix
    /// Use a newer base image (or pin versions that support the image's Python):
    /// ```dockerfile
    /// FROM python:3.11-slim
    /// ```
    ///
    /// ## References
    /// - Python packaging, core metadata `Requires-Python`: <https://packaging.python.org/en/latest/specifications/core-metadata/#requires-python>
    /// - Docker Official Image `python`: <https://hub.docker.com/_/python>
    pub(crate) static RULE = "SG106", "docker-python-too-old", Error;
    why: "the base image's Python is older than a pinned package requires, so pip install fails";
    fix: "use a python:3.11 (or newer) base image, or pin versions that support the image's Python";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    for cx in &facts.dockerfiles {
        let chain = cx.chain();
        let Some((image, minor, from_line)) = python_base(&chain) else {
            continue;
        };
        if let Some((line, needed)) = pip_installs(cx, &chain, minor).too_old {
            findings.push(cx.finding(
                &RULE,
                from_line,
                format!(
                    "`{image}` has Python 3.{minor}, but `{line}` needs Python 3.{needed} or newer"
                ),
            ));
        }
    }
}

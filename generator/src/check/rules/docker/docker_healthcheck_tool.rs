use super::{base_image, repo_and_tag, Context};
use crate::check::dockerfile::Stage;
use crate::check::finding::rule;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a `HEALTHCHECK` command that calls `curl` or `wget` when the image is
    /// `python:*-slim` (which has neither) or `python:*-alpine` (which has busybox wget but no
    /// curl), and no `RUN` of the Dockerfile installs it.
    ///
    /// ## Why it breaks a Space
    /// The check fails with 'not found' every time and the container is reported unhealthy.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM python:3.12-slim
    /// HEALTHCHECK CMD curl -f http://localhost:7860/health || exit 1
    /// ```
    ///
    /// ## Fix
    /// Python is in the image: use `urllib.request` instead (or install the tool).
    /// ```dockerfile
    /// HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:7860/health')"
    /// ```
    ///
    /// ## References
    /// - Dockerfile reference, `HEALTHCHECK`: <https://docs.docker.com/reference/dockerfile/#healthcheck>
    /// - Docker Official Image `python` (image variants): <https://hub.docker.com/_/python>
    pub(crate) static RULE = "SG110", "docker-healthcheck-tool", Error;
    why: "the HEALTHCHECK runs curl/wget, which the image does not have, so the container is always unhealthy";
    fix: "probe with Python (python -c \"import urllib.request; urllib.request.urlopen('http://127.0.0.1:7860/health')\") or apt-get install the tool";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    for cx in &facts.dockerfiles {
        healthcheck(cx, &cx.chain(), findings);
    }
}

fn healthcheck(cx: &Context<'_>, chain: &[Stage<'_>], findings: &mut Vec<Finding>) {
    let Some(check) = chain
        .iter()
        .find_map(|s| s.body.iter().rev().find(|i| i.keyword == "HEALTHCHECK"))
    else {
        return;
    };
    let Some(words) = check.words() else { return };
    if words
        .first()
        .is_some_and(|w| w.eq_ignore_ascii_case("none"))
    {
        return;
    }
    let Some(image) = base_image(chain) else {
        return;
    };
    let (repo, tag) = repo_and_tag(&image);
    if repo != "python" {
        return;
    }
    let missing: &[&str] = if tag.contains("slim") {
        &["curl", "wget"]
    } else if tag.contains("alpine") {
        &["curl"]
    } else {
        return;
    };
    let mentioned = |tool: &str| {
        chain.iter().flat_map(|s| s.body).any(|i| {
            matches!(i.keyword.as_str(), "RUN" | "COPY" | "ADD")
                && i.commands().iter().flatten().any(|w| w.contains(tool))
        })
    };
    let used = words.iter().flat_map(|w| {
        shlex::split(w)
            .unwrap_or_default()
            .into_iter()
            .chain(std::iter::once(w.clone()))
    });
    let tool = used
        .map(|w| w.rsplit('/').next().unwrap_or_default().to_owned())
        .find(|w| missing.contains(&w.as_str()) && !mentioned(w));
    if let Some(tool) = tool {
        findings.push(cx.finding(
            &RULE,
            check.line,
            format!("the HEALTHCHECK runs `{tool}`, which `{image}` does not have"),
        ));
    }
}

use super::{copy_sources, ignored};
use crate::check::finding::rule;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a `COPY` or `ADD` source that `.dockerignore` excludes (by a pattern on the path
    /// or on a folder above it, with no later `!` exception).
    ///
    /// ## Why it breaks a Space
    /// Excluded paths are not sent to the builder, so the instruction fails with
    /// 'failed to compute cache key: … not found' and the Space never builds.
    ///
    /// ## Example
    /// ```dockerfile
    /// # .dockerignore holds `data/`
    /// COPY data/ ./data/
    /// ```
    ///
    /// ## Fix
    /// Remove the path from `.dockerignore` (or add a `!path` exception), or stop copying it.
    /// ```sh
    /// # .dockerignore
    /// data/
    /// !data/seed.json
    /// ```
    ///
    /// ## References
    /// - Docker, `.dockerignore` files: <https://docs.docker.com/build/concepts/context/>
    /// - Dockerfile reference, `COPY`: <https://docs.docker.com/reference/dockerfile/#copy>
    pub(crate) static RULE = "SG108", "docker-copy-ignored", Error;
    why: "COPY/ADD names a path that .dockerignore excludes from the build context, so the build fails";
    fix: "remove the path from .dockerignore (or add a `!path` exception), or stop copying it";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    for cx in &facts.dockerfiles {
        for (i, source) in copy_sources(cx) {
            if ignored(cx, &source) {
                findings.push(cx.finding(
                    &RULE,
                    i.line,
                    format!("`{source}` is excluded by .dockerignore"),
                ));
            }
        }
    }
}

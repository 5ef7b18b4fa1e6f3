use super::Context;
use crate::check::dockerfile::{self, Stage};
use crate::check::finding::rule;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports the `CMD` or `ENTRYPOINT` that starts the container when it is written as a
    /// list (`[...]`) but is not a JSON array of strings: single quotes
    /// (`['uvicorn', 'app:app']`), typographic quotes, a trailing comma, or an item that is not
    /// a string.
    ///
    /// ## Why it breaks a Space
    /// Docker does not reject it: it falls back to the shell form and runs
    /// `/bin/sh -c "['uvicorn', 'app:app']"`, which fails (`[: not found` or `missing ]`), so
    /// the container exits at once and the Space never starts. Docker's build check
    /// JSONArgsRecommended and the Dockerfile reference (Shell and exec form) describe the
    /// fallback.
    ///
    /// ## Example
    /// ```dockerfile
    /// CMD ['uvicorn', 'app.main:app', '--host', '0.0.0.0', '--port', '7860']
    /// ```
    ///
    /// ## Fix
    /// Write the list as JSON:
    /// ```dockerfile
    /// CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "7860"]
    /// ```
    ///
    /// ## References
    /// - Dockerfile reference, shell and exec form: <https://docs.docker.com/reference/dockerfile/#shell-and-exec-form>
    /// - Docker build checks, JSONArgsRecommended: <https://docs.docker.com/reference/build-checks/json-args-recommended/>
    pub(crate) static RULE = "SG112", "docker-exec-form-invalid", Error;
    why: "a CMD/ENTRYPOINT written as a list that is not valid JSON runs as a shell command, so the container exits instead of starting the server";
    fix: "write the list as JSON: double quotes around every item, no trailing comma (CMD [\"uvicorn\", \"app.main:app\", \"--host\", \"0.0.0.0\", \"--port\", \"7860\"])";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    for cx in &facts.dockerfiles {
        exec_form(cx, &cx.chain(), findings);
    }
}

/// The CMD and ENTRYPOINT that run, when written as a list that is not JSON.
fn exec_form(cx: &Context<'_>, chain: &[Stage<'_>], findings: &mut Vec<Finding>) {
    for keyword in ["ENTRYPOINT", "CMD"] {
        let last = chain
            .iter()
            .find_map(|s| s.body.iter().rev().find(|i| i.keyword == keyword));
        let Some(i) = last else { continue };
        let dockerfile::Args::Shell(text) = &i.args else {
            continue;
        };
        let text = text.trim();
        let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) else {
            continue;
        };
        // A list of quoted items; `[ -f x ] && …` is the shell's test command.
        let quotes = ['"', '\'', '\u{201c}', '\u{201d}', '\u{2018}', '\u{2019}'];
        if !inner.trim_start().starts_with(quotes) {
            continue;
        }
        let why = if inner.contains(['\u{201c}', '\u{201d}', '\u{2018}', '\u{2019}']) {
            "typographic quotes"
        } else if inner.trim_start().starts_with('\'') {
            "single quotes"
        } else if inner.trim_end().ends_with(',') {
            "a trailing comma"
        } else {
            "an item that is not a JSON string"
        };
        findings.push(cx.finding(
            &RULE,
            i.line,
            format!(
                "`{keyword} {text}` is not valid JSON ({why}), so Docker runs it with /bin/sh -c and the container exits"
            ),
        ));
    }
}

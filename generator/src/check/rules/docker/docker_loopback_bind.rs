use crate::check::finding::rule;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a server that listens on the loopback interface only: explicitly
    /// (`--host 127.0.0.1`, `--host localhost`, `-b 127.0.0.1:…`, `host="127.0.0.1"` in
    /// `uvicorn.run(...)`) or by default (uvicorn, `uvicorn.run` and hypercorn bind
    /// `127.0.0.1` when no host is given; so does `fastapi dev`).
    ///
    /// ## Why it breaks a Space
    /// The Space's proxy connects from outside the container's loopback, so every request
    /// fails and the Space never becomes ready.
    ///
    /// ## Example
    /// ```dockerfile
    /// CMD ["uvicorn", "app.main:app", "--port", "7860"]
    /// ```
    ///
    /// ## Fix
    /// Bind `0.0.0.0`:
    /// ```dockerfile
    /// CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "7860"]
    /// ```
    ///
    /// ## References
    /// - Hugging Face, Docker Spaces: <https://huggingface.co/docs/hub/spaces-sdks-docker>
    /// - uvicorn settings (`--host`): <https://www.uvicorn.org/settings/>
    pub(crate) static RULE = "SG104", "docker-loopback-bind", Error;
    why: "a server bound to 127.0.0.1 inside the container is unreachable from the Space's proxy";
    fix: "bind 0.0.0.0 (--host 0.0.0.0, --bind 0.0.0.0:7860, or host=\"0.0.0.0\" in uvicorn.run)";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    for cx in &facts.dockerfiles {
        let Some(server) = &cx.server else { continue };
        let Some(binds) = server.binds(&cx.env) else {
            continue;
        };
        if binds.iter().all(|b| is_loopback(&b.host)) {
            let b = &binds[0];
            let how = if b.default {
                " (its default when no host is given)"
            } else {
                ""
            };
            findings.push(Finding::new(
                &RULE,
                server.file.clone(),
                server.line,
                format!("{} listens on {}{how}", server.kind.name(), b.host),
            ));
        }
    }
}

fn is_loopback(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "localhost" | "::1")
}

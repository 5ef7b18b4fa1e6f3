use crate::check::finding::rule;
use crate::check::readme;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a server the final stage starts that does not listen on the Space's
    /// `app_port`: by its `--port`/`--bind`, or `port=` of a `uvicorn.run(...)` in the Python
    /// file the container runs, or by its default (uvicorn, `uvicorn.run`, hypercorn and
    /// `fastapi run` use 8000).
    ///
    /// ## Why it breaks a Space
    /// Hugging Face sends a Docker Space's traffic to one port: `app_port` from the README's
    /// YAML header, 7860 when absent. A server listening elsewhere is never reached, so the
    /// Space stays 'Starting' and then fails its health check. `EXPOSE` is documentation only
    /// and does not change this.
    ///
    /// ## Example
    /// ```dockerfile
    /// CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]
    /// ```
    ///
    /// ## Fix
    /// Make the two agree: start the server on `app_port`, or set `app_port` in the README
    /// header to the server's port:
    /// ```dockerfile
    /// CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "7860"]
    /// ```
    ///
    /// ## References
    /// - Hugging Face, Spaces configuration reference (`app_port`): <https://huggingface.co/docs/hub/spaces-config-reference>
    /// - Hugging Face, Docker Spaces: <https://huggingface.co/docs/hub/spaces-sdks-docker>
    pub(crate) static RULE = "SG103", "docker-port-mismatch", Error;
    why: "the Space routes traffic to app_port (7860 unless the README says otherwise); a server on another port is never reached";
    fix: "start the server with --port equal to app_port (port= in uvicorn.run), or set app_port in the README header to the server's port";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    for cx in &facts.dockerfiles {
        let Some(server) = &cx.server else { continue };
        let Some(binds) = server.binds(&cx.env) else {
            continue;
        };
        let app_port = match cx.header.as_ref().map(|h| h.app_port) {
            None => readme::DEFAULT_APP_PORT,
            Some(Ok(p)) => p,
            Some(Err(())) => continue,
        };
        if !binds.iter().any(|b| b.port == app_port) {
            let ports: Vec<String> = binds.iter().map(|b| b.port.to_string()).collect();
            let how = if binds.iter().all(|b| b.default) {
                " (its default)"
            } else {
                ""
            };
            let source = match cx.header.as_ref() {
                Some(_) => "app_port in README.md",
                None => "the Spaces default app_port (README.md has no header)",
            };
            findings.push(Finding::new(
                &RULE,
                server.file.clone(),
                server.line,
                format!(
                    "{} listens on port {}{how}, but {source} is {app_port}",
                    server.kind.name(),
                    ports.join(", ")
                ),
            ));
        }
    }
}

use super::server::{Kind, Server};
use super::{request_urls, root_modules, Context};
use crate::check::finding::rule;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports uvicorn (or gunicorn with uvicorn workers) started without
    /// `--forwarded-allow-ips`, where the code builds an absolute URL from the request:
    /// `request.url_for(…)`, `request.base_url`, `request.url`, a route declared with a
    /// trailing slash (FastAPI redirects the path without it, unless
    /// `redirect_slashes=False`), or `StaticFiles(html=True)` (it redirects a folder to its path
    /// with a slash). An app that builds none answers the same either way.
    ///
    /// ## Why it breaks a Space
    /// uvicorn honours proxy headers only from the addresses in `--forwarded-allow-ips`, which
    /// defaults to `$FORWARDED_ALLOW_IPS` or `127.0.0.1`. The Hugging Face proxy is not
    /// loopback, so the `X-Forwarded-Proto: https` it sends is ignored: `request.url`,
    /// `url_for` and FastAPI's trailing-slash redirects say `http://…hf.space`, which an https
    /// page blocks as mixed content. The same holds for gunicorn with uvicorn workers.
    ///
    /// ## Example
    /// ```dockerfile
    /// CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "7860"]
    /// ```
    ///
    /// ## Fix
    /// Trust the proxy's headers (the container is reachable only through the proxy):
    /// ```dockerfile
    /// CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "7860", "--forwarded-allow-ips", "*"]
    /// ```
    ///
    /// ## References
    /// - uvicorn, running behind a proxy: <https://www.uvicorn.org/deployment/>
    /// - uvicorn settings (`--forwarded-allow-ips`): <https://www.uvicorn.org/settings/>
    pub(crate) static RULE = "SG111", "docker-forwarded-allow-ips", Warning;
    why: "uvicorn trusts X-Forwarded-Proto only from 127.0.0.1, so behind the Space's proxy the URLs and redirects this app builds from the request are http://";
    fix: "add --forwarded-allow-ips \"*\" to the uvicorn command, forwarded_allow_ips=\"*\" to uvicorn.run (or ENV FORWARDED_ALLOW_IPS=\"*\")";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    for cx in &facts.dockerfiles {
        if let Some(server) = &cx.server {
            forwarded(facts, cx, server, findings);
        }
    }
}

fn forwarded(facts: &Facts<'_>, cx: &Context<'_>, server: &Server, findings: &mut Vec<Finding>) {
    let env = &cx.env;
    let uvicorn = match server.kind {
        Kind::Uvicorn | Kind::UvicornRun => !server.has("--no-proxy-headers"),
        Kind::Gunicorn => {
            let workers = server.options(&["-k", "--worker-class"]);
            workers.iter().any(|w| w.contains("UvicornWorker"))
                && !server.has("-c")
                && !server.has("--config")
                && cx.file("gunicorn.conf.py").is_none()
                && !env.contains_key("GUNICORN_CMD_ARGS")
        }
        _ => false,
    };
    let trusted = server.has("--forwarded-allow-ips")
        || env.contains_key("FORWARDED_ALLOW_IPS")
        || env.contains_key("UVICORN_FORWARDED_ALLOW_IPS");
    if !uvicorn || trusted {
        return;
    }
    let Some((file, line, what)) = request_urls::first(&root_modules(facts, cx)) else {
        return;
    };
    {
        findings.push(Finding::new(
            &RULE,
            server.file.clone(),
            server.line,
            if server.kind == Kind::UvicornRun {
                format!(
                    "uvicorn.run is called without forwarded_allow_ips, and {file}:{line} {what}"
                )
            } else {
                format!(
                    "{} is started without --forwarded-allow-ips, and {file}:{line} {what}",
                    server.kind.name()
                )
            },
        ));
    }
}

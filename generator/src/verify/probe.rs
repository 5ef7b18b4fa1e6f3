//! Waiting for a booted app to answer `GET /health`: used by verification and by the
//! end-to-end tests, so both judge "it boots" the same way.
//!
//! An app is up when `/health` answers 200, or 503 with every failing dependency reported as
//! "not configured": a chat backend booted without its API key (a Secret nobody has in a test)
//! is up and says exactly what it misses.

use std::io::Read as _;
use std::process::Child;
use std::time::{Duration, Instant};

/// Why an app did not come up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BootFailure {
    /// The process ended first; its exit status and what it wrote to stderr.
    #[error("the server exited with {status}\n{stderr}")]
    Exited { status: String, stderr: String },
    /// No answer of 200 within the time allowed; the last answer or error.
    #[error("/health did not answer 200 within {} s (last: {last})", .waited.as_secs())]
    Timeout { waited: Duration, last: String },
}

/// How a booted app answered `/health`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub status: u16,
    /// The dependencies reported as not configured (only with status 503).
    pub unconfigured: Vec<String>,
}

impl std::fmt::Display for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.status)?;
        if !self.unconfigured.is_empty() {
            write!(f, " ({} not configured)", self.unconfigured.join(", "))?;
        }
        Ok(())
    }
}

/// The dependencies a 503 health report calls "not configured", if every failing one does.
fn only_unconfigured(body: &str) -> Option<Vec<String>> {
    let report: serde_json::Value = serde_json::from_str(body).ok()?;
    let mut names = Vec::new();
    for (name, dep) in report.get("dependencies")?.as_object()? {
        if dep.get("status")?.as_str()? == "ok" {
            continue;
        }
        let message = dep.get("message")?.as_str()?;
        if !message.starts_with("not configured") {
            return None;
        }
        names.push(name.clone());
    }
    (!names.is_empty()).then_some(names)
}

/// Polls `{base}/health` until the app is up (see the module docs), `server` exits, or
/// `timeout` passes.
pub fn wait_for_health(
    base: &str,
    server: &mut Child,
    timeout: Duration,
) -> Result<Health, BootFailure> {
    let url = format!("{base}/health");
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(2))
        .build();
    let deadline = Instant::now() + timeout;
    loop {
        let last = match agent.get(&url).call() {
            Ok(r) if r.status() == 200 => {
                return Ok(Health {
                    status: 200,
                    unconfigured: Vec::new(),
                })
            }
            Ok(r) => format!("status {}", r.status()),
            Err(ureq::Error::Status(503, r)) => {
                let body = r.into_string().unwrap_or_default();
                if let Some(unconfigured) = only_unconfigured(&body) {
                    return Ok(Health {
                        status: 503,
                        unconfigured,
                    });
                }
                format!("status 503: {body}")
            }
            Err(ureq::Error::Status(code, _)) => format!("status {code}"),
            Err(e) => e.to_string(),
        };
        if let Ok(Some(status)) = server.try_wait() {
            let mut stderr = String::new();
            if let Some(mut e) = server.stderr.take() {
                let _ = e.read_to_string(&mut stderr);
            }
            return Err(BootFailure::Exited {
                status: status.to_string(),
                stderr,
            });
        }
        if Instant::now() > deadline {
            return Err(BootFailure::Timeout {
                waited: timeout,
                last,
            });
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

    #[test]
    fn a_missing_secret_is_up_but_a_failing_dependency_is_not() {
        let ok = r#"{"status":"degraded","dependencies":{"database":{"status":"ok"},"model":{"status":"error","message":"not configured: set KEY"}}}"#;
        assert_eq!(only_unconfigured(ok), Some(vec!["model".to_owned()]));
        let down = r#"{"dependencies":{"database":{"status":"error","message":"startup failed"},"model":{"status":"error","message":"not configured"}}}"#;
        assert_eq!(only_unconfigured(down), None);
        assert_eq!(only_unconfigured("not json"), None);
    }

    #[test]
    fn a_server_that_exits_is_reported_with_its_stderr() {
        let mut child = Command::new("sh")
            .args(["-c", "echo boom >&2; exit 3"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let err =
            wait_for_health("http://127.0.0.1:9", &mut child, Duration::from_secs(30)).unwrap_err();
        match err {
            BootFailure::Exited { status, stderr } => {
                assert!(status.contains('3'), "{status}");
                assert_eq!(stderr.trim(), "boom");
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn a_server_that_never_answers_times_out() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let err = wait_for_health("http://127.0.0.1:9", &mut child, Duration::from_millis(300))
            .unwrap_err();
        let _ = child.kill();
        let _ = child.wait();
        assert!(matches!(err, BootFailure::Timeout { .. }), "{err}");
    }
}

//! Waiting for a booted app to answer `GET /health`: used by verification and by the
//! end-to-end tests, so both judge "it boots" the same way.

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

/// Polls `{base}/health` until it answers 200 (returning that status), `server` exits, or
/// `timeout` passes.
pub fn wait_for_health(
    base: &str,
    server: &mut Child,
    timeout: Duration,
) -> Result<u16, BootFailure> {
    let url = format!("{base}/health");
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(2))
        .build();
    let deadline = Instant::now() + timeout;
    loop {
        let last = match agent.get(&url).call() {
            Ok(r) if r.status() == 200 => return Ok(200),
            Ok(r) => format!("status {}", r.status()),
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

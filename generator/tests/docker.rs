//! The generated Dockerfile, built and run: the image installs the locked set with
//! `--require-hashes`, runs as uid 1000, serves on 0.0.0.0:7860, can write `/app/data`,
//! trusts the proxy's `X-Forwarded-Proto`, and its HEALTHCHECK command passes.
//!
//! Needs a Docker engine and a `python:3.11-slim` image (`.ci/base-image` builds a local
//! stand-in where no registry is reachable). Without them the test says it was skipped, unless
//! `SPACEGEN_REQUIRE_DOCKER` is set (CI sets it when an engine answers), when it fails.

use crate::common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::Test;

fn docker(args: &[&str]) -> (bool, String) {
    match Command::new("docker").args(args).output() {
        Ok(out) => (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        ),
        Err(e) => (false, e.to_string()),
    }
}

fn docker_ok(args: &[&str]) -> String {
    let (ok, out) = docker(args);
    assert!(ok, "docker {args:?} failed:\n{out}");
    out
}

/// Removes the container and image on drop, pass or fail.
struct Cleanup {
    image: String,
    container: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = docker(&["rm", "-f", &self.container]);
        let _ = docker(&["rmi", "-f", &self.image]);
    }
}

fn get(url: &str) -> Option<(u16, String)> {
    let req = ureq::get(url).set("X-Forwarded-Proto", "https");
    match req.call() {
        Ok(r) => Some((r.status(), r.into_string().unwrap_or_default())),
        Err(ureq::Error::Status(code, r)) => Some((code, r.into_string().unwrap_or_default())),
        Err(_) => None,
    }
}

#[test]
fn the_generated_dockerfile_builds_and_runs_like_a_space() {
    let required = std::env::var_os("SPACEGEN_REQUIRE_DOCKER").is_some();
    let ready = docker(&["info"]).0 && docker(&["image", "inspect", "python:3.11-slim"]).0;
    if !ready {
        assert!(
            !required,
            "SPACEGEN_REQUIRE_DOCKER is set, but docker or the python:3.11-slim image is missing"
        );
        eprintln!("skipped: no Docker engine or no python:3.11-slim image (run .ci/base-image)");
        return;
    }
    // Dev Mode on: the image the Space builds then also carries the tools Dev Mode needs.
    space_image_runs("sqlite-demo", &[("dev_mode", "true")], &[], true, &[]);
    // A chat backend, with its API key passed as the Space passes a Secret.
    space_image_runs(
        "openrouter",
        &[],
        &["OPENROUTER_API_KEY=test-key"],
        false,
        &[],
    );
    // The RAG backend with no account but the model's: SQLite, and Qdrant embedded in /app/data.
    let key = ["OPENAI_API_KEY=test-key"];
    space_image_runs(
        "neon-qdrant-openai",
        &[],
        &key,
        false,
        &["/app/data/qdrant"],
    );
}

/// Generates `blueprint`, builds its Dockerfile, runs the image as a Space would (with `env`)
/// and checks what a Space needs of it; `owned` are paths the app creates at startup, which
/// must belong to the Space's user.
fn space_image_runs(
    blueprint: &str,
    vars: &[(&str, &str)],
    env: &[&str],
    dev_mode: bool,
    owned: &[&str],
) {
    let mut t = Test::new().args(["new", "space", "--defaults", "--blueprint", blueprint]);
    for (name, value) in vars {
        t = t.var(name, value);
    }
    let (run, _dir) = t.run();
    let project = run.dir.join("space");
    let tag = format!("spacegen-e2e-{blueprint}-{}", std::process::id());
    let cleanup = Cleanup {
        image: tag.clone(),
        container: tag.clone(),
    };
    docker_ok(&["build", "-q", "-t", &tag, &project.display().to_string()]);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let publish = format!("127.0.0.1:{port}:7860");
    let mut args = vec!["run", "-d", "--name", &cleanup.container, "-p", &publish];
    for e in env {
        args.extend(["-e", e]);
    }
    args.push(&tag);
    docker_ok(&args);
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let health = loop {
        if let Some(answer) = get(&format!("{base}/health")) {
            break answer;
        }
        assert!(
            Instant::now() < deadline,
            "no answer from the container:\n{}",
            docker(&["logs", &tag]).1
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(health.0, 200, "{}", health.1);

    // Behind the Space's proxy, links are https (uvicorn --forwarded-allow-ips "*").
    let (status, root) = get(&format!("{base}/")).expect("root answers");
    assert_eq!(status, 200);
    assert!(
        root.contains(&format!("https://127.0.0.1:{port}/docs")),
        "{root}"
    );

    let created = ureq::post(&format!("{base}/api/v1/sessions"))
        .set("Content-Type", "application/json")
        .send_string("{}")
        .expect("session");
    assert_eq!(created.status(), 201);

    // What Hugging Face's Dev Mode needs, runnable by the Space's user; the app in /app.
    if dev_mode {
        docker_ok(&[
            "exec",
            &tag,
            "sh",
            "-c",
            "command -v bash curl wget ps git git-lfs && test \"$(stat -c %u /app)\" = 1000",
        ]);
    }

    assert_eq!(docker_ok(&["exec", &tag, "id", "-u"]).trim(), "1000");
    for path in ["/app/data/app.db"].iter().chain(owned) {
        let owner = docker_ok(&["exec", &tag, "stat", "-c", "%u", path]);
        assert_eq!(
            owner.trim(),
            "1000",
            "{path} is not owned by the Space's user"
        );
    }

    // The image's HEALTHCHECK command, run now rather than after its first interval.
    let test = docker_ok(&[
        "inspect",
        "--format",
        "{{json .Config.Healthcheck.Test}}",
        &tag,
    ]);
    let test: Vec<String> = serde_json::from_str(test.trim()).expect("healthcheck is JSON");
    assert_eq!(
        test.first().map(String::as_str),
        Some("CMD-SHELL"),
        "{test:?}"
    );
    docker_ok(&["exec", &tag, "sh", "-c", &test[1]]);
    drop(cleanup);
}

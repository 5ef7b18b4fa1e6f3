//! Schema migrations end to end: a database filled through the API of a release made before
//! the revisions (generated from spacegen's history), its project moved to today's version
//! with `spacegen update`, installed from its new pins and started again on the same database:
//! the data is served, on SQLite and on PostgreSQL; several apps starting at once on one new
//! PostgreSQL database apply each revision once; the first release's database (no session
//! tokens, tasks without an owner) keeps its tasks under one new session.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use crate::common::Test;
use crate::e2e::{json_of, new_session_token, postgres_or_skip, send, venv_for, Server};

/// The newest release of sqlite-demo before today's, from `spacegen history`.
fn release_before_today() -> String {
    let (run, _d) = Test::new().args(["history", "--format", "json"]).run();
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    json["releases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["blueprint"] == "sqlite-demo" && r["current"] == false)
        .filter_map(|r| semver::Version::parse(r["version"].as_str()?).ok())
        .max()
        .unwrap()
        .to_string()
}

/// A project of `release` (`sqlite-demo@VERSION`) with `vars`, in a temporary folder.
fn generated(release: &str, vars: &[&str]) -> (tempfile::TempDir, std::path::PathBuf) {
    let mut args = vec!["new", "--blueprint", release, "space", "--defaults"];
    for var in vars {
        args.extend(["--var", var]);
    }
    let (run, dir) = Test::new().args(args).run();
    let project = run.dir.join("space");
    (dir, project)
}

fn serve(project: &Path, database_url: &str) -> Server {
    let python = venv_for(project).join("bin/python");
    let mut cmd = Command::new(python);
    cmd.current_dir(project).env("DATABASE_URL", database_url);
    Server::start(cmd)
}

fn tasks(server: &Server, token: &str) -> Vec<String> {
    let req =
        ureq::get(&server.url("/api/v1/tasks")).set("Authorization", &format!("Bearer {token}"));
    let (status, resp) = send(req, None);
    let body = json_of(resp);
    assert_eq!(status, 200, "{body}");
    body.as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_owned())
        .collect()
}

/// Fills the database through the release's API, updates the project, serves it again.
fn data_survives_the_update(database_url: &str, vars: &[&str]) {
    let release = format!("sqlite-demo@{}", release_before_today());
    let (dir, project) = generated(&release, vars);
    let mut old = serve(&project, database_url);
    let token = new_session_token(&old);
    for title in ["Water the plants", "Call the bank", "Renew the passport"] {
        let req =
            ureq::post(&old.url("/api/v1/tasks")).set("Authorization", &format!("Bearer {token}"));
        let (status, resp) = send(req, Some(&json!({ "title": title }).to_string()));
        assert_eq!(status, 201, "{}", json_of(resp));
    }
    old.stop();

    let (update, _d) = Test::new()
        .cwd(dir.path())
        .args(["update", "space", "--defaults"])
        .run();
    update.stdout_has(&format!("{} → ", release.replace('@', " ")));
    assert!(project.join("app/migrations/versions").is_dir());
    update.stdout_has("schema: the next start applies revisions base_0001, sqlite_demo_0001");

    let new = serve(&project, database_url);
    let (status, resp) = send(ureq::get(&new.url("/health")), None);
    let health = json_of(resp);
    assert_eq!(status, 200, "{health}");
    assert_eq!(
        tasks(&new, &token),
        ["Water the plants", "Call the bank", "Renew the passport"],
        "the data of {release} after the update"
    );
    // And the new code writes to the old tables.
    let req =
        ureq::post(&new.url("/api/v1/tasks")).set("Authorization", &format!("Bearer {token}"));
    let (status, _) = send(req, Some(r#"{"title": "Buy stamps"}"#));
    assert_eq!(status, 201);
}

#[test]
fn a_sqlite_database_of_the_release_before_migrations_keeps_its_data_through_update() {
    let data = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite+aiosqlite:///{}",
        data.path().join("app.db").display()
    );
    data_survives_the_update(&url, &[]);
}

#[test]
fn a_postgres_database_of_the_release_before_migrations_keeps_its_data_through_update() {
    let Some(pg) = postgres_or_skip() else {
        return;
    };
    let url = pg.database("migrations_update").expect("a database");
    data_survives_the_update(&url, &["postgres=true"]);
    let versions = pg
        .psql(
            "migrations_update",
            "SELECT version_num FROM alembic_version ORDER BY 1",
        )
        .unwrap();
    // Alembic keeps the heads only: base_0001 is below sqlite_demo_0001 (its `depends_on`).
    assert!(versions.contains("sqlite_demo_0001"), "{versions}");
}

/// Three apps start at once on one new PostgreSQL database (workers, or the old and the new
/// container of a rebuild): all come up, and each revision is recorded once.
#[test]
fn apps_starting_at_once_on_postgres_apply_each_revision_once() {
    let Some(pg) = postgres_or_skip() else {
        return;
    };
    let url = pg.database("migrations_race").expect("a database");
    let (_dir, project) = generated("sqlite-demo", &["postgres=true"]);
    venv_for(&project);
    let servers: Vec<Server> = std::thread::scope(|s| {
        let started: Vec<_> = (0..3).map(|_| s.spawn(|| serve(&project, &url))).collect();
        started.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for server in &servers {
        let (status, resp) = send(ureq::get(&server.url("/health")), None);
        assert_eq!(status, 200, "{}", json_of(resp));
    }
    let rows = pg
        .psql(
            "migrations_race",
            "SELECT version_num, count(*) FROM alembic_version GROUP BY 1 ORDER BY 1",
        )
        .unwrap();
    assert!(rows.contains("sqlite_demo_0001"), "{rows}");
    assert!(!rows.contains("| 2") && !rows.contains("|2"), "{rows}");
    let tables = pg
        .psql(
            "migrations_race",
            "SELECT count(*) FROM pg_tables WHERE tablename = 'tasks'",
        )
        .unwrap();
    assert!(tables.contains('1'), "{tables}");
}

/// The first release had no session tokens and its tasks no owner: its database, filled
/// through its API, moves to today's with `spacegen update`; the tasks belong to one new
/// session whose token the log shows once, and the app serves them with it.
#[test]
fn a_database_of_the_first_release_keeps_its_tasks_under_a_new_session() {
    let (run, _d) = Test::new().args(["history", "--format", "json"]).run();
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    let first = json["releases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["blueprint"] == "sqlite-demo")
        .filter_map(|r| semver::Version::parse(r["version"].as_str()?).ok())
        .min()
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite+aiosqlite:///{}",
        data.path().join("app.db").display()
    );
    let (dir, project) = generated(&format!("sqlite-demo@{first}"), &[]);
    let mut old = serve(&project, &url);
    for title in ["Water the plants", "Call the bank"] {
        let (status, resp) = send(
            ureq::post(&old.url("/api/v1/tasks")),
            Some(&json!({ "title": title }).to_string()),
        );
        assert_eq!(status, 201, "{}", json_of(resp));
    }
    old.stop();
    Test::new()
        .cwd(dir.path())
        .args(["update", "space", "--defaults"])
        .run()
        .0
        .stdout_has("schema: the next start applies revisions base_0001, sqlite_demo_0001");
    let logs = serve(&project, &url).stop();
    let token = logs
        .split("shown this once (the server keeps only its hash): ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no token in the log:\n{logs}"))
        .to_owned();
    assert!(logs.contains("2 tasks made before sessions"), "{logs}");
    let new = serve(&project, &url);
    assert_eq!(tasks(&new, &token), ["Water the plants", "Call the bank"]);
}

/// Every earlier release of every blueprint whose sessions have tokens: a session made through
/// its API on SQLite still answers `GET /api/v1/sessions/me` after `spacegen update` moved the
/// project to today's version and the revisions adopted its tables.
#[test]
fn a_session_of_every_earlier_release_survives_the_update() {
    let (run, _d) = Test::new().args(["history", "--format", "json"]).run();
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    let releases: Vec<String> = json["releases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["current"] == false)
        .map(|r| {
            format!(
                "{}@{}",
                r["blueprint"].as_str().unwrap(),
                r["version"].as_str().unwrap()
            )
        })
        // The first release of sqlite-demo had no session tokens (its own test is above).
        .filter(|r| r != "sqlite-demo@0.1.0")
        .collect();
    assert!(releases.len() >= 5, "{releases:?}");
    for release in releases {
        let data = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite+aiosqlite:///{}",
            data.path().join("app.db").display()
        );
        let (dir, project) = generated(&release, &[]);
        let mut old = serve(&project, &url);
        let token = new_session_token(&old);
        old.stop();
        Test::new()
            .cwd(dir.path())
            .args(["update", "space", "--defaults"])
            .run()
            .0
            .stdout_has("schema: the next start applies revisions");
        let new = serve(&project, &url);
        let req = ureq::get(&new.url("/api/v1/sessions/me"))
            .set("Authorization", &format!("Bearer {token}"));
        let (status, resp) = send(req, None);
        assert_eq!(status, 200, "{release}: {}", json_of(resp));
    }
}

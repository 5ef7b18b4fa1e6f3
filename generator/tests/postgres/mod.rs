//! A throwaway PostgreSQL server for end-to-end tests: Debian's `postgresql` package, TLS on
//! with a self-signed certificate made here, password (SCRAM) authentication, and plain TCP
//! refused, so a client that does not negotiate TLS cannot connect. One server per test binary,
//! started on first use and stopped when the test process exits (a watchdog process stops it
//! even when the tests panic).
//!
//! As root (CI), `initdb` and the server run as the `postgres` user, which refuses to run as
//! root; otherwise as the current user.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The superuser's and the app role's password.
const PASSWORD: &str = "pg-test-Pa55word";
/// The role the apps connect as (not a superuser).
pub const APP_ROLE: &str = "app";

pub struct Postgres {
    pub port: u16,
    bin: PathBuf,
    data: PathBuf,
    run_as_postgres: bool,
    _dir: tempfile::TempDir,
}

/// The server of this test binary, started on first use; `None` (with the reason) where the
/// PostgreSQL binaries are missing.
pub fn shared() -> Result<&'static Postgres, String> {
    static SERVER: OnceLock<Result<Postgres, String>> = OnceLock::new();
    SERVER
        .get_or_init(Postgres::start)
        .as_ref()
        .map_err(Clone::clone)
}

fn run(cmd: &mut Command, what: &str) -> Result<Output, String> {
    let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "{what} failed\n--- stdout\n{}\n--- stderr\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The folder holding `initdb`, `pg_ctl` and `postgres`: Debian keeps them in
/// /usr/lib/postgresql/<major>/bin (the newest major wins), others on the PATH.
fn bin_dir() -> Result<PathBuf, String> {
    let mut majors: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((major, bin))
        })
        .collect();
    majors.sort();
    if let Some((_, bin)) = majors.pop() {
        return Ok(bin);
    }
    let out = Command::new("pg_config").arg("--bindir").output();
    if let Ok(out) = out {
        let bin = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if bin.join("initdb").is_file() {
            return Ok(bin);
        }
    }
    Err("PostgreSQL is not installed (apt-get install postgresql; .ci/run does)".into())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(55432)
}

impl Drop for Postgres {
    /// A test's own server stops when the test ends (the shared one lives in a static and is
    /// stopped by [`Postgres::watch`] when the test process exits).
    fn drop(&mut self) {
        let _ = self.pg(
            "pg_ctl",
            &["stop", "-m", "immediate"],
            &[("-D", &self.data)],
        );
    }
}

impl Postgres {
    fn start() -> Result<Postgres, String> {
        let bin = bin_dir()?;
        let run_as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("spacegen-pg-")
            .tempdir_in(std::env::temp_dir())
            .map_err(|e| format!("temporary folder: {e}"))?;
        let data = dir.path().join("data");
        let pwfile = dir.path().join("pwfile");
        std::fs::write(&pwfile, PASSWORD).map_err(|e| e.to_string())?;
        let cert = dir.path().join("server.crt");
        let key = dir.path().join("server.key");
        run(
            Command::new("openssl")
                .args(["req", "-x509", "-nodes", "-newkey", "rsa:2048"])
                .args(["-days", "2", "-subj", "/CN=localhost", "-keyout"])
                .arg(&key)
                .arg("-out")
                .arg(&cert),
            "openssl req (a self-signed certificate)",
        )?;
        if run_as_postgres {
            run(
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(dir.path()),
                "chown the server's folder to postgres",
            )?;
        }
        run(
            Command::new("chmod").args(["600"]).arg(&key),
            "chmod the key",
        )?;
        let port = free_port();
        let server = Postgres {
            port,
            bin,
            data,
            run_as_postgres,
            _dir: dir,
        };
        server.pg(
            "initdb",
            &[
                "--auth=scram-sha-256",
                "--username=postgres",
                "--encoding=UTF8",
                "--no-instructions",
            ],
            &[("--pwfile", &pwfile), ("-D", &server.data)],
        )?;
        let conf = format!(
            "listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\n\
             ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\nfsync = off\n",
            server.data.display(),
            cert.display(),
            key.display()
        );
        append(&server.data.join("postgresql.conf"), &conf)?;
        std::fs::write(
            server.data.join("pg_hba.conf"),
            "local all all scram-sha-256\n\
             hostssl all all 127.0.0.1/32 scram-sha-256\n\
             hostnossl all all 127.0.0.1/32 reject\n",
        )
        .map_err(|e| format!("pg_hba.conf: {e}"))?;
        server.ctl("start")?;
        server.watch();
        server.psql(
            "postgres",
            &format!("CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{PASSWORD}'"),
        )?;
        Ok(server)
    }

    /// Runs `bin/<tool> args paths…`, as the postgres user when root.
    fn pg(&self, tool: &str, args: &[&str], paths: &[(&str, &Path)]) -> Result<Output, String> {
        let mut cmd = if self.run_as_postgres {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=postgres", "--regid=postgres", "--clear-groups"])
                .arg(self.bin.join(tool));
            c
        } else {
            Command::new(self.bin.join(tool))
        };
        cmd.args(args);
        for (flag, path) in paths {
            cmd.arg(flag).arg(path);
        }
        cmd.current_dir(std::env::temp_dir()).stdin(Stdio::null());
        run(&mut cmd, tool)
    }

    fn ctl(&self, action: &str) -> Result<(), String> {
        let log = self.data.join("server.log");
        self.pg(
            "pg_ctl",
            &[action, "-w", "-t", "60", "-m", "fast"],
            &[("-D", &self.data), ("-l", &log)],
        )
        .map(drop)
    }

    /// Stops the server and removes its folder when this test process exits, however it exits.
    fn watch(&self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let stop = format!(
            "{} '{}' stop -D '{}' -m immediate",
            if self.run_as_postgres {
                "setpriv --reuid=postgres --regid=postgres --clear-groups"
            } else {
                ""
            },
            pg_ctl.display(),
            self.data.display()
        );
        let folder = self
            .data
            .parent()
            .unwrap_or(&self.data)
            .display()
            .to_string();
        let script = format!(
            "while kill -0 {} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf '{folder}'",
            std::process::id()
        );
        let _ = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
    }

    /// A server of its own, for a test that stops or restarts it: the shared server is used
    /// by tests running at the same time, and a restart of it refuses their connections.
    pub fn own() -> Result<Postgres, String> {
        Postgres::start()
    }

    /// Restarts the server (every open connection is cut). It takes the server by `&mut`, so
    /// only a server of a test's [`own`](Postgres::own) can be restarted, never the shared
    /// one.
    pub fn restart(&mut self) -> Result<(), String> {
        self.ctl("restart")
    }

    /// Runs `sql` in `database` as the superuser, over TLS; the output, unaligned, no headers.
    pub fn psql(&self, database: &str, sql: &str) -> Result<String, String> {
        let conn = format!(
            "host=127.0.0.1 port={} dbname={database} user=postgres sslmode=require",
            self.port
        );
        let out = run(
            Command::new("psql")
                .args(["-X", "-v", "ON_ERROR_STOP=1", "-At", "-c", sql, &conn])
                .env("PGPASSWORD", PASSWORD)
                .env("PGCONNECT_TIMEOUT", "10"),
            &format!("psql: {sql}"),
        )?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// A new database owned by the app role, and the URL an app is given for it: as Neon's
    /// console writes it, with `sslmode` and `channel_binding`.
    pub fn database(&self, name: &str) -> Result<String, String> {
        self.psql(
            "postgres",
            &format!("CREATE DATABASE {name} OWNER {APP_ROLE}"),
        )?;
        Ok(format!(
            "postgresql://{APP_ROLE}:{PASSWORD}@127.0.0.1:{}/{name}?sslmode=require&channel_binding=require",
            self.port
        ))
    }
}

fn append(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    file.write_all(text.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Waits until `port` accepts connections (a server just restarted).
pub fn wait_for_port(port: u16, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

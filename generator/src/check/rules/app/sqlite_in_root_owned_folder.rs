use super::{fastapi_app, root_owned_workdir, sqlite_files};
use crate::check::finding::rule;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a SQLite file the code opens inside a folder the root `Dockerfile` leaves owned
    /// by root. Reported only when the Dockerfile proves it: a python base image, the WORKDIR
    /// made before any USER, no `--chown`, `chown` or `chmod`, and the database path inside
    /// that WORKDIR. The path is a literal given to `sqlite3.connect` or `aiosqlite.connect`,
    /// or a `sqlite:///` URL given to `create_engine` / `create_async_engine`, written in the
    /// code or as the default of the environment variable the URL is read from (where the app
    /// writes whenever the variable is unset); memory databases and `file:` URIs are left out.
    ///
    /// ## Why it breaks a Space
    /// Hugging Face runs a Docker Space's container as user id 1000. A folder created by
    /// WORKDIR (as root) and filled by COPY without `--chown` belongs to root, so uid 1000
    /// cannot create a file in it: SQLite fails with "unable to open database file" on the
    /// first query.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM python:3.11-slim
    /// WORKDIR /app
    /// COPY . .
    /// RUN pip install -r requirements.txt
    /// CMD ["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "7860"]
    /// ```
    /// with `engine = create_engine("sqlite:///./data.db")` in `main.py`.
    ///
    /// ## Fix
    /// Create the folder for the app's user in the Dockerfile, or put the file under `$HOME`
    /// or `/tmp`:
    /// ```dockerfile
    /// RUN useradd -m -u 1000 user
    /// USER user
    /// WORKDIR /home/user/app
    /// COPY --chown=user . .
    /// ```
    /// Remember that a Space's disk is ephemeral: the file is lost on every restart or
    /// rebuild; keep durable data in a hosted database.
    ///
    /// ## References
    /// - Hugging Face, Docker Spaces (permissions): <https://huggingface.co/docs/hub/spaces-sdks-docker#permissions>
    /// - Dockerfile reference, `WORKDIR`: <https://docs.docker.com/reference/dockerfile/#workdir>
    /// - Dockerfile reference, `COPY`: <https://docs.docker.com/reference/dockerfile/#copy>
    pub(crate) static RULE = "SG217", "sqlite-in-root-owned-folder", Error;
    why: "the SQLite file is in a folder owned by root, and a Space runs the container as uid 1000: the database cannot be created";
    fix: "create the folder for the app's user in the Dockerfile (`COPY --chown=user`, or `RUN mkdir -p /app/data && chown 1000 /app/data`), or put the file under $HOME or /tmp";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    if fastapi_app(facts).is_none() {
        return;
    }
    let Some(workdir) = root_owned_workdir(facts.project) else {
        return;
    };
    for (file, module) in &facts.python {
        for (value, path) in sqlite_files(module) {
            let full = if path.starts_with('/') {
                path.to_owned()
            } else {
                format!("{workdir}/{}", path.trim_start_matches("./"))
            };
            if full.contains("..") || full.contains('{') {
                continue;
            }
            let dir = full.rsplit_once('/').map_or("", |(d, _)| d);
            if dir == workdir || dir.starts_with(&format!("{workdir}/")) {
                findings.push(
                    Finding::new(
                        &RULE,
                        *file,
                        value.place.line,
                        format!("{full} is in {dir}, which the Dockerfile leaves owned by root"),
                    )
                    .at_column(value.place.column),
                );
            }
        }
    }
}

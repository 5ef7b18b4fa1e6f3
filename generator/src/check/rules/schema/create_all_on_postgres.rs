use super::{create_all_calls, has_migrations};
use crate::check::finding::rule;
use crate::check::pins::pins;
use crate::check::rules::postgres::{engines, POSTGRES_DRIVERS};
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports `metadata.create_all` (`SQLModel.metadata.create_all(engine)`,
    /// `Base.metadata.create_all`, `conn.run_sync(SQLModel.metadata.create_all)`) in a project
    /// that can talk to PostgreSQL (its requirements install asyncpg, psycopg, psycopg2 or
    /// pg8000, or an engine's URL defaults to `postgres…`) and has no migrations: no Alembic
    /// among its requirements, no `alembic.ini`, no `migrations/` or `alembic/` folder. Test
    /// code is not read.
    ///
    /// ## Why it breaks a Space
    /// `create_all` creates the tables that are missing and nothing else: it never adds a
    /// column, an index or a constraint to a table that is already there, nor moves data. A
    /// Postgres database (Neon) outlives the Space's container, so the tables made by the first
    /// deploy stay as they were; the next deploy's models, with a new column, run against the
    /// old table and fail at the first request that reads it ("column … does not exist"), or
    /// silently lack the new index or constraint.
    ///
    /// ## Example
    /// ```python
    /// async def init_db() -> None:
    ///     async with engine.begin() as conn:
    ///         await conn.run_sync(SQLModel.metadata.create_all)
    /// ```
    ///
    /// ## Fix
    /// Make and change the schema with Alembic revisions (`alembic revision --autogenerate -m
    /// "…"`, reviewed and committed), applied when the app starts under a lock
    /// (`pg_advisory_xact_lock`, so two containers do not migrate at once), or run before the
    /// server in the start command:
    /// ```dockerfile
    /// CMD ["sh", "-c", "alembic upgrade heads && exec uvicorn app.main:app --host 0.0.0.0 --port 7860"]
    /// ```
    ///
    /// ## References
    /// - SQLAlchemy, `MetaData.create_all`: <https://docs.sqlalchemy.org/en/20/core/metadata.html#sqlalchemy.schema.MetaData.create_all>
    /// - Alembic, tutorial: <https://alembic.sqlalchemy.org/en/latest/tutorial.html>
    /// - PostgreSQL, advisory locks: <https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS>
    pub(crate) static RULE = "SG224", "create-all-on-postgres", Warning;
    why: "create_all only creates missing tables: on a Postgres that outlives the container, a column added to a model later is never added to its table";
    fix: "make and change the schema with Alembic revisions, applied at start-up under a lock or with `alembic upgrade heads` in the start command";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    if has_migrations(facts.project) {
        return;
    }
    let Some(postgres) = postgres(facts) else {
        return;
    };
    for call in create_all_calls(facts) {
        let message = format!(
            "{} creates the tables on PostgreSQL ({postgres}), and no migration changes them afterwards",
            call.name
        );
        findings.push(
            Finding::new(&RULE, call.file, call.place.line, message).at_column(call.place.column),
        );
    }
}

/// What says the project talks to PostgreSQL: a driver its requirements install, or an
/// engine's URL that defaults to Postgres.
fn postgres(facts: &Facts<'_>) -> Option<String> {
    if let Some(driver) = POSTGRES_DRIVERS
        .iter()
        .find(|d| !pins(facts.project, d).is_empty())
    {
        return Some(format!("the requirements install {driver}"));
    }
    engines(facts)
        .any(|engine| {
            let literal = engine
                .url
                .as_ref()
                .is_some_and(|(_, url)| url.starts_with("postgres"));
            let settings = engine.call.arg(0, "url").is_some_and(|url| {
                facts.settings.defaults(engine.module, url).iter().any(|f| {
                    f.value
                        .as_text()
                        .is_some_and(|t| t.to_ascii_lowercase().starts_with("postgres"))
                })
            });
            literal || settings
        })
        .then(|| "an engine's URL defaults to Postgres".to_owned())
}

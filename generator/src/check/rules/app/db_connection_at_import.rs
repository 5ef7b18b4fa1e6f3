use super::fastapi_app;
use crate::check::finding::rule;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a connection opened when a module is imported (`sqlite3.connect`,
    /// `psycopg2.connect`, `psycopg.connect`, `pymysql.connect`, `MySQLdb.connect`,
    /// `mysql.connector.connect` at module level) in a module that declares routes or creates
    /// the FastAPI app; a module that does neither (a script that seeds the database) is left
    /// alone.
    ///
    /// ## Why it breaks a Space
    /// A connection opened at module level is made when uvicorn imports the app. If the
    /// database is unreachable the import fails and the Space shows a runtime error without a
    /// health route to explain it. Afterwards every request shares that one connection:
    /// sqlite3 refuses to be used from FastAPI's worker threads ("SQLite objects created in a
    /// thread can only be used in that same thread"), and a Postgres connection closed by the
    /// server (Neon suspends after five idle minutes) is never reopened.
    ///
    /// ## Example
    /// ```python
    /// import sqlite3
    ///
    /// app = FastAPI()
    /// conn = sqlite3.connect("app.db", check_same_thread=False)
    /// ```
    ///
    /// ## Fix
    /// Open connections in a lifespan handler or per request (a dependency), or use an engine
    /// with a pool:
    /// ```python
    /// def get_db():
    ///     conn = sqlite3.connect("app.db")
    ///     try:
    ///         yield conn
    ///     finally:
    ///         conn.close()
    ///
    /// @app.get("/items")
    /// def items(db: sqlite3.Connection = Depends(get_db)): ...
    /// ```
    ///
    /// ## References
    /// - FastAPI, dependencies with yield: <https://fastapi.tiangolo.com/tutorial/dependencies/dependencies-with-yield/>
    /// - FastAPI, lifespan events: <https://fastapi.tiangolo.com/advanced/events/>
    /// - Python, `sqlite3`: <https://docs.python.org/3/library/sqlite3.html>
    /// - SQLAlchemy, connection pooling: <https://docs.sqlalchemy.org/en/20/core/pooling.html>
    pub(crate) static RULE = "SG218", "db-connection-at-import", Warning;
    why: "a database connection is opened when the module is imported: a failure stops the app before it can report anything, and the one connection is shared by every request";
    fix: "open connections in a lifespan handler or per request (a dependency), or use an engine with a pool";
}

/// Calls that open a connection.
const CONNECTS: &[&str] = &[
    "sqlite3.connect",
    "psycopg2.connect",
    "psycopg.connect",
    "pymysql.connect",
    "MySQLdb.connect",
    "mysql.connector.connect",
];

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    if fastapi_app(facts).is_none() {
        return;
    }
    for (file, module) in &facts.python {
        let serves =
            !module.routes().is_empty() || module.calls.iter().any(|c| c.method() == "FastAPI");
        if !serves {
            continue;
        }
        for call in module
            .calls
            .iter()
            .filter(|c| c.import_time && CONNECTS.contains(&c.name.as_str()))
        {
            findings.push(
                Finding::new(
                    &RULE,
                    *file,
                    call.place.line,
                    format!("{}() runs when the module is imported", call.name),
                )
                .at_column(call.place.column),
            );
        }
    }
}

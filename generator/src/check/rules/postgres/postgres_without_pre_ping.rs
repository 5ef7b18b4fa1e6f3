use super::{engines, postgres_only};
use crate::check::finding::rule;
use crate::check::python::Module;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a pooled SQLAlchemy engine on Postgres created without `pool_pre_ping`. An
    /// engine is on Postgres when its literal URL says so, or when the requirements install a
    /// Postgres driver and no other database driver (and the module never speaks of SQLite).
    ///
    /// ## Why it breaks a Space
    /// Neon scales a compute to zero after five minutes without queries, closing every
    /// connection. The pool keeps the dead connections and hands one to the next request,
    /// which fails ("connection was closed in the middle of operation"): the first visitor
    /// after a quiet spell gets a 500.
    ///
    /// ## Example
    /// ```python
    /// engine = create_async_engine(settings.database_url)
    /// ```
    ///
    /// ## Fix
    /// Test each connection when it is checked out, and replace it if it is dead
    /// (`pool_recycle` below 300 seconds also helps):
    /// ```python
    /// engine = create_async_engine(settings.database_url, pool_pre_ping=True)
    /// ```
    ///
    /// ## References
    /// - SQLAlchemy, "Disconnect Handling - Pessimistic": <https://docs.sqlalchemy.org/en/20/core/pooling.html#disconnect-handling-pessimistic>
    /// - Neon, scale to zero: <https://neon.com/docs/introduction/scale-to-zero>
    pub(crate) static RULE = "SG212", "postgres-without-pre-ping", Warning;
    why: "Neon closes connections when its compute suspends (5 idle minutes); without pool_pre_ping the first request after that fails";
    fix: "pass pool_pre_ping=True to create_engine / create_async_engine";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    let postgres_only = postgres_only(facts);
    for engine in engines(facts) {
        let call = engine.call;
        let is_postgres = match &engine.url {
            Some((_, url)) => url.starts_with("postgres"),
            None => postgres_only && !mentions_sqlite(engine.module),
        };
        let pooled = call.keyword("pool_pre_ping").is_none()
            && call.keyword("poolclass").is_none()
            && !call.has_splat();
        if is_postgres && pooled {
            findings.push(
                Finding::new(
                    &RULE,
                    engine.file,
                    call.place.line,
                    format!("{}() on Postgres without pool_pre_ping", call.method()),
                )
                .at_column(call.place.column),
            );
        }
    }
}

/// Whether the module speaks of SQLite anywhere in its strings or names.
fn mentions_sqlite(module: &Module) -> bool {
    module
        .strings
        .iter()
        .filter_map(|s| s.as_text())
        .any(|s| s.to_ascii_lowercase().contains("sqlite"))
        || module
            .calls
            .iter()
            .any(|c| c.name.to_ascii_lowercase().contains("sqlite"))
}

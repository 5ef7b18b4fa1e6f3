use super::{engines, Engine};
use crate::check::finding::rule;
use crate::check::python::Kind;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports an asyncpg engine on Neon's pooled endpoint (a host ending in `-pooler`) whose
    /// prepared-statement caches are on.
    ///
    /// ## Why it breaks a Space
    /// Neon's `-pooler` endpoint is PgBouncer in transaction mode. asyncpg prepares every
    /// statement under a name (`__asyncpg_stmt_N__`) and caches it per connection; behind a
    /// transaction pooler a later statement can land on another server connection, giving
    /// `DuplicatePreparedStatementError` or `InvalidSQLStatementNameError` at random, under load.
    /// SQLAlchemy's maintainers call PgBouncer transaction mode unsupported with asyncpg.
    ///
    /// ## Example
    /// ```python
    /// engine = create_async_engine(
    ///     "postgresql+asyncpg://user:pw@ep-x-pooler.eu-central-1.aws.neon.tech/db?ssl=require"
    /// )
    /// ```
    ///
    /// ## Fix
    /// A Space runs one long-lived process with its own pool: prefer the direct endpoint (drop
    /// `-pooler` from the host). If the pooler stays, turn the caches off and name statements
    /// uniquely:
    /// ```python
    /// create_async_engine(url, poolclass=NullPool, connect_args={
    ///     "statement_cache_size": 0, "prepared_statement_cache_size": 0,
    ///     "prepared_statement_name_func": lambda: f"__asyncpg_{uuid4()}__"})
    /// ```
    ///
    /// ## References
    /// - SQLAlchemy, "Using Prepared Statement Names with PGBouncer": <https://docs.sqlalchemy.org/en/20/dialects/postgresql.html#prepared-statement-name-with-pgbouncer>
    /// - Neon, connection pooling: <https://neon.com/docs/connect/connection-pooling>
    pub(crate) static RULE = "SG211", "asyncpg-neon-pooler-statements", Warning;
    why: "asyncpg's named prepared statements through Neon's PgBouncer (-pooler host) can fail with 'prepared statement … already exists / does not exist'";
    fix: "use the direct endpoint (drop -pooler from the host), or turn both statement caches off and give statements unique names";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    for engine in engines(facts).filter(Engine::asyncpg) {
        let Some((_, url)) = &engine.url else {
            continue;
        };
        let host = url
            .split_once('@')
            .map_or("", |(_, rest)| rest)
            .split(['.', '/', ':', '?'])
            .next()
            .unwrap_or("");
        let (call, module) = (engine.call, engine.module);
        let connect_args = call
            .keyword("connect_args")
            .map(|v| &module.resolve(v).kind);
        let caches_off = engine
            .query_keys()
            .contains(&"prepared_statement_cache_size")
            || matches!(connect_args,
                Some(Kind::Dict(items)) if items.iter().any(|(k, _)| k.contains("statement_cache_size")));
        let unknown_args =
            call.has_splat() || matches!(connect_args, Some(k) if !matches!(k, Kind::Dict(_)));
        if host.ends_with("-pooler") && !caches_off && !unknown_args {
            findings.push(
                Finding::new(
                    &RULE,
                    engine.file,
                    call.place.line,
                    format!(
                        "{host} is Neon's pooled endpoint and asyncpg's statement caches are on"
                    ),
                )
                .at_column(call.place.column),
            );
        }
    }
}

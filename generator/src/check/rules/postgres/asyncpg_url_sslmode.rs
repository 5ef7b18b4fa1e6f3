use super::{engines, Engine};
use crate::check::finding::rule;
use crate::check::python::Module;
use crate::check::rules::Facts;
use crate::check::secret::is_env_example;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports an asyncpg database URL that carries `sslmode=` or `channel_binding=`: written
    /// in the code, as the default of an environment variable, or made by swapping the scheme
    /// of a URL whose documented form (in `.env.example`) has them.
    ///
    /// ## Why it breaks a Space
    /// SQLAlchemy's asyncpg dialect passes the URL's query parameters to `asyncpg.connect()` as
    /// keyword arguments. asyncpg has no `sslmode` or `channel_binding` keyword (it does not
    /// implement channel binding at all), so the Neon console's connection string fails on the
    /// first connection: `TypeError: connect() got an unexpected keyword argument 'sslmode'`.
    /// The Space starts and every request that touches the database fails.
    ///
    /// ## Example
    /// ```python
    /// engine = create_async_engine(
    ///     "postgresql+asyncpg://user:pw@ep-x.neon.tech/db?sslmode=require&channel_binding=require"
    /// )
    /// ```
    ///
    /// ## Fix
    /// Write `?ssl=require`, or normalise the URL and pass TLS as a connect argument:
    /// ```python
    /// url = make_url(raw).set(drivername="postgresql+asyncpg")
    /// url = url.difference_update_query(["sslmode", "channel_binding"])
    /// engine = create_async_engine(url, connect_args={"ssl": "require"}, pool_pre_ping=True)
    /// ```
    ///
    /// ## References
    /// - SQLAlchemy, asyncpg dialect: <https://docs.sqlalchemy.org/en/20/dialects/postgresql.html#module-sqlalchemy.dialects.postgresql.asyncpg>
    /// - asyncpg `connect()`: <https://magicstack.github.io/asyncpg/current/api/index.html#connection>
    pub(crate) static RULE = "SG210", "asyncpg-url-sslmode", Error;
    why: "asyncpg gets URL parameters as connect() keywords and has no `sslmode` or `channel_binding`: every connection fails with a TypeError";
    fix: "use `?ssl=require` (not sslmode) and drop channel_binding, or pass connect_args={\"ssl\": \"require\"}";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    for engine in engines(facts).filter(Engine::asyncpg) {
        let Some((value, _)) = &engine.url else {
            continue;
        };
        if let Some(bad) = engine
            .query_keys()
            .into_iter()
            .find(|k| matches!(*k, "sslmode" | "channel_binding"))
        {
            findings.push(
                Finding::new(
                    &RULE,
                    engine.file,
                    value.place.line,
                    format!("the asyncpg URL has `{bad}=`: connect() rejects it"),
                )
                .at_column(value.place.column),
            );
        }
    }
    if let Some((example, line)) = documented_sslmode(facts) {
        for (file, module) in &facts.python {
            rewritten_to_asyncpg(file, module, &example, line, findings);
        }
    }
}

/// The example file and line documenting a Postgres URL with `sslmode=` (or
/// `channel_binding=`): the URL a deployer copies from Neon's console.
fn documented_sslmode(facts: &Facts<'_>) -> Option<(String, usize)> {
    let examples = facts.project.named(is_env_example);
    for (file, text) in examples {
        for (i, line) in text.lines().enumerate() {
            let lower = line.to_ascii_lowercase();
            if lower.trim_start().starts_with('#') || !lower.contains("postgres") {
                continue;
            }
            if lower.contains("sslmode=") || lower.contains("channel_binding=") {
                return Some((file.to_owned(), i + 1));
            }
        }
    }
    None
}

/// A URL from the environment turned into an asyncpg one by replacing its scheme
/// (`url.replace("postgresql://", "postgresql+asyncpg://")`), with its query kept: when the
/// documented URL carries `sslmode`, every connection fails. A module that handles the query
/// (mentions `sslmode`, splits at `?`, parses the URL) is left alone.
fn rewritten_to_asyncpg(
    file: &str,
    module: &Module,
    example: &str,
    example_line: usize,
    findings: &mut Vec<Finding>,
) {
    let handles_query = module.strings.iter().filter_map(|s| s.as_text()).any(|s| {
        let s = s.to_ascii_lowercase();
        s.contains("sslmode") || s.contains("channel_binding") || s == "?" || s.contains("ssl=")
    }) || module.calls.iter().any(|c| {
        matches!(
            c.method(),
            "make_url"
                | "urlparse"
                | "urlsplit"
                | "parse_qs"
                | "parse_qsl"
                | "difference_update_query"
                | "set"
                | "update_query_dict"
        )
    });
    if handles_query {
        return;
    }
    for call in module.calls.iter().filter(|c| c.method() == "replace") {
        let to = call.args.get(1).and_then(|v| v.as_str()).unwrap_or("");
        let from = call.args.first().and_then(|v| v.as_str()).unwrap_or("");
        if from.starts_with("postgres") && to.to_ascii_lowercase().contains("+asyncpg") {
            findings.push(
                Finding::new(
                    &RULE,
                    file,
                    call.place.line,
                    format!(
                        "the URL becomes an asyncpg URL with its query kept, and {example}:{example_line} documents it with sslmode/channel_binding: connect() rejects them"
                    ),
                )
                .at_column(call.place.column),
            );
        }
    }
}

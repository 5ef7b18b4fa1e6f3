//! SQLAlchemy engines on Postgres (Neon): URL parameters the asyncpg driver rejects, Neon's
//! pooled endpoint with asyncpg's prepared statements, and pools without `pool_pre_ping`. A URL
//! is judged only when it is a literal in the code (directly or through a module-level name);
//! an engine is known to be Postgres from its literal URL, or from requirements that install
//! a Postgres driver and no other database driver.

use super::Facts;
use crate::check::pins::pins;
use crate::check::python::{Call, Kind, Module};
use crate::check::{Finding, Rule, Severity};

pub(crate) static ASYNCPG_URL_PARAMS: Rule = Rule {
    id: "SG210",
    name: "asyncpg-url-sslmode",
    severity: Severity::Error,
    why: "asyncpg gets URL parameters as connect() keywords and has no `sslmode` or `channel_binding`: every connection fails with a TypeError",
    fix: "use `?ssl=require` (not sslmode) and drop channel_binding, or pass connect_args={\"ssl\": \"require\"}",
    explanation: r#"
SQLAlchemy's asyncpg dialect passes the URL's query parameters to asyncpg.connect() as keyword
arguments. asyncpg has no `sslmode` or `channel_binding` keyword, so a URL such as Neon's
console string
    postgresql+asyncpg://user:pw@ep-x.neon.tech/db?sslmode=require&channel_binding=require
fails on the first connection: TypeError: connect() got an unexpected keyword argument
'sslmode' (or 'channel_binding'). asyncpg does not implement channel binding at all.

Write `?ssl=require`, or normalise the URL:
    make_url(raw).set(drivername="postgresql+asyncpg")
                 .difference_update_query(["sslmode", "channel_binding"])
and pass connect_args={"ssl": "require"}.
"#,
};

pub(crate) static POOLER_PREPARED: Rule = Rule {
    id: "SG211",
    name: "asyncpg-neon-pooler-statements",
    severity: Severity::Warning,
    why: "asyncpg's named prepared statements through Neon's PgBouncer (-pooler host) can fail with 'prepared statement … already exists / does not exist'",
    fix: "use the direct endpoint (drop -pooler from the host), or turn both statement caches off and give statements unique names",
    explanation: r#"
Neon's `-pooler` endpoint is PgBouncer in transaction mode. asyncpg prepares every statement
under a name (__asyncpg_stmt_N__) and caches it per connection; behind a transaction pooler a
later statement can land on another server connection, giving DuplicatePreparedStatementError
or InvalidSQLStatementNameError. SQLAlchemy's maintainers call PgBouncer transaction mode
unsupported with asyncpg.

A Space runs one long-lived process with its own pool: prefer the direct endpoint. If the
pooler stays, follow the dialect's documentation:
    create_async_engine(url, poolclass=NullPool, connect_args={
        "statement_cache_size": 0, "prepared_statement_cache_size": 0,
        "prepared_statement_name_func": lambda: f"__asyncpg_{uuid4()}__"})
"#,
};

pub(crate) static NO_PRE_PING: Rule = Rule {
    id: "SG212",
    name: "postgres-without-pre-ping",
    severity: Severity::Warning,
    why: "Neon closes connections when its compute suspends (5 idle minutes); without pool_pre_ping the first request after that fails",
    fix: "pass pool_pre_ping=True to create_engine / create_async_engine",
    explanation: r#"
Neon scales a compute to zero after five minutes without queries, closing every connection.
A pool keeps the dead connections and hands one to the next request, which fails ("connection
was closed in the middle of operation"). pool_pre_ping=True tests a connection when it is
checked out and replaces it if it is dead; pool_recycle below 300 seconds also helps.
"#,
};

pub(crate) static RULES: &[&Rule] = &[&ASYNCPG_URL_PARAMS, &POOLER_PREPARED, &NO_PRE_PING];

const POSTGRES_DRIVERS: &[&str] = &[
    "asyncpg",
    "psycopg",
    "psycopg2",
    "psycopg2-binary",
    "pg8000",
];
const OTHER_DRIVERS: &[&str] = &[
    "aiosqlite",
    "aiomysql",
    "asyncmy",
    "pymysql",
    "mysqlclient",
    "mysql-connector-python",
    "oracledb",
    "pyodbc",
    "duckdb-engine",
];

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    let project = facts.project;
    let has = |names: &[&str]| names.iter().any(|n| !pins(project, n).is_empty());
    let postgres_only = has(POSTGRES_DRIVERS) && !has(OTHER_DRIVERS);
    let documented = documented_sslmode(project);
    for (file, module) in facts.python.iter().map(|(f, m)| (*f, m)) {
        if let Some((example, line)) = &documented {
            rewritten_to_asyncpg(file, module, example, *line, findings);
        }
        for call in module
            .calls
            .iter()
            .filter(|c| matches!(c.method(), "create_engine" | "create_async_engine"))
        {
            engine(file, module, call, postgres_only, findings);
        }
    }
}

fn engine(
    file: &str,
    module: &Module,
    call: &Call,
    postgres_only: bool,
    findings: &mut Vec<Finding>,
) {
    let literal = call
        .arg(0, "url")
        .and_then(|u| module.literal(u).or_else(|| module.env_default(u)));
    let url = literal
        .and_then(|v| v.as_text())
        .map(str::to_ascii_lowercase);
    if let (Some(value), Some(url)) = (literal, &url) {
        let asyncpg =
            url.starts_with("postgresql+asyncpg://") || url.starts_with("postgres+asyncpg://");
        let query = url.split_once('?').map_or("", |(_, q)| q);
        let keys: Vec<&str> = query
            .split('&')
            .filter_map(|kv| kv.split('=').next())
            .collect();
        if asyncpg {
            if let Some(bad) = keys
                .iter()
                .find(|k| matches!(**k, "sslmode" | "channel_binding"))
            {
                findings.push(
                    Finding::new(
                        &ASYNCPG_URL_PARAMS,
                        file,
                        value.place.line,
                        format!("the asyncpg URL has `{bad}=`: connect() rejects it"),
                    )
                    .at_column(value.place.column),
                );
            }
            let host = url
                .split_once('@')
                .map_or("", |(_, rest)| rest)
                .split(['.', '/', ':', '?'])
                .next()
                .unwrap_or("");
            let caches_off = keys.contains(&"prepared_statement_cache_size")
                || matches!(call.keyword("connect_args").map(|v| &module.resolve(v).kind),
                    Some(Kind::Dict(items)) if items.iter().any(|(k, _)| k.contains("statement_cache_size")));
            let unknown_args = call.has_splat()
                || matches!(call.keyword("connect_args").map(|v| &module.resolve(v).kind),
                    Some(k) if !matches!(k, Kind::Dict(_)));
            if host.ends_with("-pooler") && !caches_off && !unknown_args {
                findings.push(
                    Finding::new(
                        &POOLER_PREPARED,
                        file,
                        call.place.line,
                        format!("{host} is Neon's pooled endpoint and asyncpg's statement caches are on"),
                    )
                    .at_column(call.place.column),
                );
            }
        }
    }
    let is_postgres = match &url {
        Some(url) => url.starts_with("postgres"),
        None => postgres_only && !mentions_sqlite(module),
    };
    let pooled = call.keyword("pool_pre_ping").is_none()
        && call.keyword("poolclass").is_none()
        && !call.has_splat();
    if is_postgres && pooled {
        findings.push(
            Finding::new(
                &NO_PRE_PING,
                file,
                call.place.line,
                format!("{}() on Postgres without pool_pre_ping", call.method()),
            )
            .at_column(call.place.column),
        );
    }
}

/// The example file and line documenting a Postgres URL with `sslmode=` (or
/// `channel_binding=`): the URL a deployer copies from Neon's console.
fn documented_sslmode(project: &crate::check::Project) -> Option<(String, usize)> {
    let examples = project.named(|n| {
        matches!(
            n,
            ".env.example" | ".env.sample" | ".env.template" | "example.env"
        )
    });
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
                    &ASYNCPG_URL_PARAMS,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scheme_rewrite_keeps_the_documented_sslmode() {
        let code = "import os\nURL = os.getenv('DATABASE_URL')\nASYNC_URL = URL.replace('postgresql://', 'postgresql+asyncpg://')\nengine = create_async_engine(ASYNC_URL, pool_pre_ping=True)\n";
        let example =
            "# Neon\nDATABASE_URL=postgresql://user:pw@ep-x.neon.tech/db?sslmode=require\n";
        assert_eq!(
            crate::check::rules::found(check, &[("db.py", code), (".env.example", example)]),
            vec![("SG210", 3)]
        );
        let plain = "DATABASE_URL=postgresql://user:pw@ep-x.neon.tech/db\n";
        assert_eq!(
            crate::check::rules::found(check, &[("db.py", code), (".env.example", plain)]),
            vec![]
        );
        let handled = code.replace("engine =", "ASYNC_URL = ASYNC_URL.split('?')[0]\nengine =");
        assert_eq!(
            crate::check::rules::found(check, &[("db.py", &handled), (".env.example", example)]),
            vec![]
        );
    }

    fn found(files: &[(&str, &str)]) -> Vec<(&'static str, usize)> {
        super::super::found(check, files)
    }

    #[test]
    fn neon_console_urls_under_asyncpg() {
        let src = "URL = 'postgresql+asyncpg://u:p@ep-a-1-pooler.us-east-2.aws.neon.tech/db?sslmode=require&channel_binding=require'\n\
                   engine = create_async_engine(URL)\n\
                   ok = create_async_engine('postgresql+asyncpg://u:p@ep-a-1.neon.tech/db?ssl=require', pool_pre_ping=True)\n\
                   pooled = create_async_engine('postgresql+asyncpg://u:p@ep-a-1-pooler.neon.tech/db', poolclass=NullPool, connect_args={'statement_cache_size': 0})\n";
        assert_eq!(
            found(&[("app/db.py", src)]),
            vec![("SG210", 1), ("SG211", 2), ("SG212", 2)]
        );
    }

    #[test]
    fn the_default_of_an_environment_variable_is_judged() {
        let src = "import os\n\
                   URL = os.getenv(\n\
                       'DATABASE_URL',\n\
                       'postgresql+asyncpg://u:p@ep-a-1.neon.tech/db?sslmode=require',\n\
                   )\n\
                   engine = create_async_engine(URL, pool_pre_ping=True)\n\
                   other = create_async_engine(os.environ.get('B', 'postgresql+asyncpg://u:p@h/db?channel_binding=require'), pool_pre_ping=True)\n\
                   fine = create_async_engine(os.getenv('C', 'postgresql+asyncpg://u:p@h/db?ssl=require'), pool_pre_ping=True)\n\
                   unknown = create_async_engine(os.getenv('D'), pool_pre_ping=True)\n";
        assert_eq!(
            found(&[("app/db.py", src)]),
            vec![("SG210", 4), ("SG210", 7)]
        );
    }

    #[test]
    fn an_engine_from_settings_is_postgres_only_by_the_requirements() {
        let src = "engine = create_async_engine(settings.database_url)\n";
        let pg = [
            ("app/db.py", src),
            ("requirements.txt", "asyncpg==0.30.0\n"),
        ];
        assert_eq!(found(&pg), vec![("SG212", 1)]);
        let both = [
            ("app/db.py", src),
            ("requirements.txt", "asyncpg==0.30.0\naiosqlite\n"),
        ];
        assert_eq!(found(&both), vec![]);
        let sqlite = [("app/db.py", "e = create_engine('sqlite:///./a.db')\n")];
        assert_eq!(found(&sqlite), vec![]);
    }
}

//! SQLAlchemy engines on Postgres (Neon): URL parameters the asyncpg driver rejects, Neon's
//! pooled endpoint with asyncpg's prepared statements, and pools without `pool_pre_ping`. A URL
//! is judged only when it is a literal in the code (directly or through a module-level name);
//! an engine is known to be Postgres from its literal URL, or from requirements that install
//! a Postgres driver and no other database driver.

pub(super) mod asyncpg_neon_pooler_statements;
pub(super) mod asyncpg_url_sslmode;
pub(super) mod postgres_without_pre_ping;

use super::Facts;
use crate::check::pins::pins;
use crate::check::python::{Call, Module, Value};

pub(super) const POSTGRES_DRIVERS: &[&str] = &[
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

/// One `create_engine` or `create_async_engine` call.
pub(super) struct Engine<'a> {
    pub file: &'a str,
    pub module: &'a Module,
    pub call: &'a Call,
    /// The URL, when it is a literal (directly, through a module-level name, or as the
    /// default of an environment variable): where it is written, and its text in lower case.
    pub url: Option<(&'a Value, String)>,
}

impl Engine<'_> {
    /// Whether the literal URL uses the asyncpg driver.
    pub(super) fn asyncpg(&self) -> bool {
        self.url.as_ref().is_some_and(|(_, url)| {
            url.starts_with("postgresql+asyncpg://") || url.starts_with("postgres+asyncpg://")
        })
    }

    /// The keys of the literal URL's query.
    pub(super) fn query_keys(&self) -> Vec<&str> {
        let Some((_, url)) = &self.url else {
            return Vec::new();
        };
        let query = url.split_once('?').map_or("", |(_, q)| q);
        query
            .split('&')
            .filter_map(|kv| kv.split('=').next())
            .filter(|k| !k.is_empty())
            .collect()
    }
}

/// Every engine the project's Python creates.
pub(super) fn engines<'a>(facts: &'a Facts<'_>) -> impl Iterator<Item = Engine<'a>> {
    facts.python.iter().flat_map(|(file, module)| {
        module
            .calls
            .iter()
            .filter(|c| matches!(c.method(), "create_engine" | "create_async_engine"))
            .map(move |call| {
                let literal = call
                    .arg(0, "url")
                    .and_then(|u| module.literal(u).or_else(|| module.env_default(u)));
                let url = literal.and_then(|v| Some((v, v.as_text()?.to_ascii_lowercase())));
                Engine {
                    file,
                    module,
                    call,
                    url,
                }
            })
    })
}

/// Whether the requirements install a Postgres driver and no other database driver.
pub(super) fn postgres_only(facts: &Facts<'_>) -> bool {
    let has = |names: &[&str]| names.iter().any(|n| !pins(facts.project, n).is_empty());
    has(POSTGRES_DRIVERS) && !has(OTHER_DRIVERS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_scheme_rewrite_keeps_the_documented_sslmode() {
        let code = "import os\nURL = os.getenv('DATABASE_URL')\nASYNC_URL = URL.replace('postgresql://', 'postgresql+asyncpg://')\nengine = create_async_engine(ASYNC_URL, pool_pre_ping=True)\n";
        let example =
            "# Neon\nDATABASE_URL=postgresql://user:pw@ep-x.neon.tech/db?sslmode=require\n";
        assert_eq!(
            super::super::found_by("postgres", &[("db.py", code), (".env.example", example)]),
            vec![("SG210", 3)]
        );
        let plain = "DATABASE_URL=postgresql://user:pw@ep-x.neon.tech/db\n";
        assert_eq!(
            super::super::found_by("postgres", &[("db.py", code), (".env.example", plain)]),
            vec![]
        );
        let handled = code.replace("engine =", "ASYNC_URL = ASYNC_URL.split('?')[0]\nengine =");
        assert_eq!(
            super::super::found_by(
                "postgres",
                &[("db.py", &handled), (".env.example", example)]
            ),
            vec![]
        );
    }

    fn found(files: &[(&str, &str)]) -> Vec<(&'static str, usize)> {
        super::super::found_by("postgres", files)
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

//! What a secret is, decided once for every rule: the environment files that may hold them,
//! the names that mark one, the values that are placeholders rather than credentials, the
//! shapes of providers' keys and of database URLs with a password, and how a message or a
//! printed line masks them.

use std::sync::LazyLock;

use regex::Regex;

/// Provider keys: OpenAI/OpenRouter/Anthropic, Hugging Face, Groq, Google, GitHub, AWS,
/// Slack.
static TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\b(sk-[A-Za-z0-9_-]{20,}|hf_[A-Za-z0-9]{30,}|gsk_[A-Za-z0-9]{40,}",
        r"|AIza[0-9A-Za-z_-]{35}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}",
        r"|AKIA[0-9A-Z]{16}|xox[abprs]-[A-Za-z0-9-]{10,})"
    ))
    .unwrap_or_else(|e| unreachable!("{e}"))
});

/// A database (or broker) URL with a user and a password.
static DB_URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)\b(postgres(?:ql)?(?:\+\w+)?|mysql(?:\+\w+)?|mongodb(?:\+srv)?|rediss?|amqps?)",
        r"://([^:/@\s{}]+):([^@/\s{}]+)@([^/\s:?{}@]+)"
    ))
    .unwrap_or_else(|e| unreachable!("{e}"))
});

/// Words that mark a value as an example, not a credential.
const PLACEHOLDER_WORDS: &[&str] = &[
    "xxx",
    "your",
    "example",
    "placeholder",
    "dummy",
    "fake",
    "test",
    "sample",
    "redacted",
    "insert",
    "replace",
    "changeme",
    "change_me",
    "change-me",
    "secret",
    "password",
    "passwd",
    "here",
    "todo",
    "mypass",
    "xyz",
    "abcd",
    "abc123",
    "none",
    "null",
    "...",
    "***",
    "<",
    "$",
    "%",
];

/// What the name of an example environment file has after `.env.`.
const EXAMPLE_WORDS: &[&str] = &["example", "sample", "template", "dist", "tmpl", "default"];

/// Names of environment files that hold real values: `.env`, `.env.production`,
/// `.env.local`, `.env.test`; the examples ([`is_env_example`]) are documentation. What a
/// file holds, not its name, decides whether it holds a secret.
pub(crate) fn is_env_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    match name.strip_prefix(".env") {
        Some("") => true,
        Some(rest) => rest.starts_with('.') && !is_env_example(name),
        None => false,
    }
}

/// Names of example environment files, which document the variables and are committed for
/// everyone to read: `.env.example`, `.env.sample`, `.env.template`, `.env.dist`,
/// `.env.defaults`, `example.env`.
pub(crate) fn is_env_example(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name == "example.env"
        || name
            .strip_prefix(".env.")
            .is_some_and(|rest| EXAMPLE_WORDS.iter().any(|w| rest.contains(w)))
}

/// Whether a variable's name says it holds a secret: `OPENAI_API_KEY`, `HF_TOKEN`,
/// `DB_PASSWORD`, `JWT_SECRET` (not `MAX_TOKENS`, `HF_TOKEN_PATH`, `SECRET_NAME`).
pub(crate) fn secret_name(key: &str) -> bool {
    let key = key.trim().to_ascii_uppercase();
    if ["_PATH", "_FILE", "_DIR", "_URL", "_HOST", "_NAME", "_ID"]
        .iter()
        .any(|s| key.ends_with(s))
        && !key.ends_with("DATABASE_URL")
    {
        return false;
    }
    key.split('_').any(|part| {
        matches!(
            part,
            "TOKEN" | "SECRET" | "PASSWORD" | "PASSWD" | "PWD" | "APIKEY" | "PRIVATE"
        )
    }) || key.ends_with("_API_KEY")
        || key == "API_KEY"
        || key.ends_with("_ACCESS_KEY")
        || key == "SECRET_KEY"
}

/// Whether a name is that of a key the app signs or encrypts with (sessions, JWTs, cookies):
/// whatever literal it holds is the live key whenever the environment does not replace it.
pub(crate) fn signing_key_name(key: &str) -> bool {
    let key = key.trim().to_ascii_uppercase();
    let parts: Vec<&str> = key.split('_').collect();
    let secret = parts.contains(&"SECRET") || key.ends_with("SIGNING_KEY");
    let signs = key == "SECRET_KEY"
        || key == "SECRET"
        || [
            "JWT", "SESSION", "COOKIE", "AUTH", "APP", "TOKEN", "SIGNING", "NEXTAUTH", "FLASK",
        ]
        .iter()
        .any(|w| parts.contains(w));
    secret
        && signs
        && !key.ends_with("_NAME")
        && !key.ends_with("_ID")
        && !key.ends_with("_PATH")
        && !key.ends_with("_FILE")
}

/// Whether `value` is an example rather than a credential.
pub(crate) fn placeholder(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    PLACEHOLDER_WORDS.iter().any(|w| lower.contains(w))
}

/// A value that could be a real secret: long enough, not a variable, a path or a placeholder.
pub(crate) fn real_value(value: &str) -> bool {
    value.chars().count() >= 8
        && !value.contains(char::is_whitespace)
        && !value.starts_with('/')
        && !value.contains("://")
        && !placeholder(value)
        && distinct(value) >= 5
}

/// The credential found in `text`, if any, described for a message: a provider's key (shown
/// by its first six characters) or a database URL with a real password for a remote host.
pub(crate) fn credential(text: &str) -> Option<String> {
    if let Some(token) = TOKEN.find_iter(text).find(|m| real_token(m.as_str())) {
        return Some(format!("an API key ({})", shown(token.as_str())));
    }
    DB_URL.captures_iter(text).find_map(|c| {
        real_password(&c)?;
        let host = c.get(4)?.as_str().to_ascii_lowercase();
        Some(format!(
            "a {} URL with a password for {host}",
            c.get(1)?.as_str()
        ))
    })
}

/// What secret a `KEY=value` line of an environment file holds (a comment holds none).
pub(crate) fn env_line(line: &str) -> Option<String> {
    let line = line.trim();
    let line = line.strip_prefix("export ").unwrap_or(line).trim();
    if line.starts_with('#') {
        return None;
    }
    let (key, value) = line.split_once('=')?;
    let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
    if let Some(what) = credential(value) {
        return Some(what);
    }
    let key = key.trim();
    (secret_name(key) && real_value(value)).then(|| key.to_ascii_uppercase())
}

/// Whether an environment file's text holds a secret on any line.
pub(crate) fn env_file_holds_secret(text: &str) -> bool {
    text.lines().any(|l| env_line(l).is_some())
}

/// `text` with every credential [`credential`] would find masked the way messages show it:
/// an API key cut to its first six characters, a database password as `****`.
pub(crate) fn mask(text: &str) -> String {
    let keys = TOKEN.replace_all(text, |c: &regex::Captures<'_>| {
        let token = &c[0];
        if real_token(token) {
            shown(token)
        } else {
            token.to_owned()
        }
    });
    DB_URL
        .replace_all(&keys, |c: &regex::Captures<'_>| {
            let whole = &c[0];
            match (real_password(c), c.get(3)) {
                (Some(_), Some(p)) => {
                    let at = p.start() - c.get(0).map_or(0, |m| m.start());
                    format!("{}****{}", &whole[..at], &whole[at + p.len()..])
                }
                _ => whole.to_owned(),
            }
        })
        .into_owned()
}

/// Whether a match of [`TOKEN`] is a real key, not a placeholder.
fn real_token(token: &str) -> bool {
    !placeholder(token) && distinct(token) >= 10
}

/// A key as messages show it: its first six characters.
fn shown(token: &str) -> String {
    let head: String = token.chars().take(6).collect();
    format!("{head}…")
}

/// The password of a match of [`DB_URL`], when it is a real one for a database that is not
/// local.
fn real_password<'t>(c: &regex::Captures<'t>) -> Option<&'t str> {
    let (user, password, host) = (c.get(2)?, c.get(3)?.as_str(), c.get(4)?);
    let host = host.as_str().to_ascii_lowercase();
    let local = !host.contains('.')
        || host.starts_with("127.")
        || host == "0.0.0.0"
        || host.contains("localhost")
        || host.contains("docker.internal");
    let fake = local
        || password.chars().count() < 6
        || placeholder(password)
        || placeholder(&host)
        || password.eq_ignore_ascii_case(user.as_str());
    (!fake).then_some(password)
}

fn distinct(text: &str) -> usize {
    let mut chars: Vec<char> = text.chars().collect();
    chars.sort_unstable();
    chars.dedup();
    chars.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_hides_what_credential_finds_and_nothing_else() {
        let line = "KEY=sk-proj-Zq8vN3kLw2RtY7uXb5Hc9JmD4sFgA1eP URL=postgresql://app:Hx7wQp2zLm9vRt@db.prod.io:5432/app";
        assert_eq!(
            mask(line),
            "KEY=sk-pro… URL=postgresql://app:****@db.prod.io:5432/app"
        );
        let fake = "KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx URL=postgresql://u:changeme@localhost/db";
        assert_eq!(mask(fake), fake);
    }

    #[test]
    fn real_looking_credentials_are_found_and_placeholders_are_not() {
        let key = format!("sk-proj-{}", "aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xY");
        assert!(credential(&key).is_some());
        // A short legacy-style key is a key too: every rule agrees.
        assert!(credential("sk-Zq8vN3kLw2RtY7uXb5Hc9JmD").is_some());
        assert!(credential(&format!("Bearer hf_{}", "QwErTyUiOpAsDfGhJkLzXcVbNmQwErTy")).is_some());
        assert!(
            credential("postgresql://neondb_owner:npg_S3cr3tV4lue@ep-cool-1.neon.tech/db")
                .is_some()
        );
        for fine in [
            "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "sk-your-openai-key-goes-here-0123456789abcdef",
            "hf_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "postgresql://postgres:postgres@localhost:5432/app",
            "postgresql://user:S3cr3tV4lue@db:5432/app",
            "postgresql://user:changeme@ep-x.neon.tech/db",
            "postgresql://user:<password>@ep-x.neon.tech/db",
            "postgresql://{}:{}@{}/db",
        ] {
            assert!(credential(fine).is_none(), "{fine}");
        }
    }

    #[test]
    fn names_values_and_files_are_judged_one_way() {
        assert!(
            secret_name("OPENAI_API_KEY") && secret_name("HF_TOKEN") && secret_name("DB_PASSWORD")
        );
        assert!(
            !secret_name("TOKENIZERS_PARALLELISM")
                && !secret_name("MAX_TOKENS")
                && !secret_name("HF_TOKEN_PATH")
        );
        assert!(signing_key_name("SECRET_KEY") && signing_key_name("JWT_SECRET"));
        assert!(signing_key_name("jwt_secret_key") && signing_key_name("SESSION_SECRET"));
        assert!(!signing_key_name("OPENAI_API_KEY") && !signing_key_name("SECRET_NAME"));
        assert!(
            !real_value("your-key-here") && !real_value("${TOKEN}") && real_value("a8f7d6e5c4b3")
        );
        assert!(credential(
            "postgresql://myuser:mypass123@dpg-abcd1234.oregon-postgres.render.com/mydb"
        )
        .is_none());
        for env in [
            ".env",
            ".env.production",
            ".env.local",
            ".env.test",
            "api/.env",
        ] {
            assert!(is_env_file(env), "{env}");
        }
        for doc in [
            ".env.example",
            ".env.sample",
            ".env.template",
            "example.env",
            ".envrc",
        ] {
            assert!(!is_env_file(doc), "{doc}");
        }
        assert_eq!(
            env_line("OPENAI_API_KEY=sk-proj-aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xY").as_deref(),
            Some("an API key (sk-pro…)")
        );
        assert_eq!(
            env_line("export DB_PASSWORD='Hx7wQp2zLm9v'").as_deref(),
            Some("DB_PASSWORD")
        );
        assert_eq!(env_line("# DB_PASSWORD=Hx7wQp2zLm9v"), None);
        assert_eq!(env_line("DEBUG=true"), None);
        assert_eq!(env_line("API_KEY=your-key-here-please-123"), None);
    }
}

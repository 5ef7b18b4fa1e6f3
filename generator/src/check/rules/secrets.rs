//! Credentials in the files: provider API keys and database URLs with a password written into
//! Python string literals or into a `.env` file that is not git-ignored, and URLs "masked" by
//! cutting at `@`, which keeps the password. Placeholders (`changeme`, `xxx`, `<your-key>`,
//! `sk-test…`) and local development databases are not secrets.

use std::sync::LazyLock;

use globset::Glob;
use regex::Regex;

use super::Facts;
use crate::check::{Finding, Project, Rule, Severity};

pub(crate) static SECRET_IN_CODE: Rule = Rule {
    id: "SG207",
    name: "secret-in-code",
    severity: Severity::Error,
    why: "a real API key or database password is written in the code: anyone who can read the Space's files can use it",
    fix: "revoke the key, read it from an environment variable (os.environ[\"OPENAI_API_KEY\"]) and set it as a Space secret",
    explanation: r#"
A Space's files are public unless the Space is private, and its git history keeps every
version: a key committed once stays readable after it is removed. The key must be revoked at
the provider, then read from the environment and stored as a secret in the Space's settings
("Variables and secrets"), which the container receives as environment variables.

Found: OpenAI/OpenRouter/Anthropic (`sk-…`), Hugging Face (`hf_…`), Groq (`gsk_…`), Google
(`AIza…`), GitHub (`ghp_…`), AWS (`AKIA…`) and Slack (`xox…`) keys, and database URLs with a
password for a remote host (`postgresql://user:password@host/db`). Placeholders and local
development databases (localhost, a compose service name) are not reported.
"#,
};

pub(crate) static SECRET_IN_ENV_FILE: Rule = Rule {
    id: "SG208",
    name: "secret-in-env-file",
    severity: Severity::Error,
    why: "a .env file with real credentials is in the repository: it is published with the Space",
    fix: "revoke the credentials, delete the file, add `.env` to .gitignore, and set the values as Space secrets",
    explanation: r#"
A .env file that is not git-ignored is committed and uploaded with the Space, whose files are
public unless the Space is private; git history keeps it after deletion. Keep only a
`.env.example` with placeholders in the repository, ignore `.env`, revoke what was published and
set the values as secrets in the Space's settings.
"#,
};

pub(crate) static MASK_BY_AT: Rule = Rule {
    id: "SG209",
    name: "url-mask-leaks-password",
    severity: Severity::Error,
    why: "`url.split(\"@\")[0] + \"@***\"` keeps `scheme://user:password` and hides the host: the password is shown",
    fix: "mask with SQLAlchemy: make_url(url).render_as_string(hide_password=True)",
    explanation: r#"
The part of a database URL before `@` is `scheme://user:password`. "Masking" it by keeping that
part and appending "***" prints the password and hides only the host:
    postgresql://user:password@host/db  ->  postgresql://user:password@***
Use make_url(url).render_as_string(hide_password=True), which gives
postgresql://user:***@host/db (str(url) of a SQLAlchemy URL masks too). Query parameters are not
masked by either: never put tokens there.
"#,
};

pub(crate) static PUBLIC_SECRET: Rule = Rule {
    id: "SG219",
    name: "secret-in-public-variable",
    severity: Severity::Error,
    why: "`NEXT_PUBLIC_` and `VITE_` variables are written into the JavaScript every visitor downloads: a secret there is published",
    fix: "keep the secret on the backend (a Space secret read by the API) and drop it from the frontend's public variables",
    explanation: "Next.js inlines every `NEXT_PUBLIC_*` variable and Vite every `VITE_*` variable into the client bundle at build time. An OpenAI, OpenRouter or Hugging Face key, a database URL with its password or any other secret given such a name is readable by anyone who opens the site. The frontend should call the Space backend, which holds the secret as a Space secret; only public values (the backend's URL) belong in public variables. Found in `.env` files of every kind, examples included (an example teaches the mistake).",
};

pub(crate) static RULES: &[&Rule] = &[
    &SECRET_IN_CODE,
    &SECRET_IN_ENV_FILE,
    &MASK_BY_AT,
    &PUBLIC_SECRET,
];

static TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\b(sk-[A-Za-z0-9_-]{32,}|hf_[A-Za-z0-9]{30,}|gsk_[A-Za-z0-9]{40,}",
        r"|AIza[0-9A-Za-z_-]{35}|ghp_[A-Za-z0-9]{36}|AKIA[0-9A-Z]{16}|xox[bp]-[A-Za-z0-9-]{20,})"
    ))
    .unwrap_or_else(|e| unreachable!("{e}"))
});

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
    "...",
    "***",
    "<",
    "$",
    "%",
];

/// The credential found in `text`, if any, described for a message.
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

fn placeholder(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    PLACEHOLDER_WORDS.iter().any(|w| lower.contains(w))
}

fn distinct(text: &str) -> usize {
    let mut chars: Vec<char> = text.chars().collect();
    chars.sort_unstable();
    chars.dedup();
    chars.len()
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    let project = facts.project;
    for (file, module) in facts.python.iter().map(|(f, m)| (*f, m)) {
        for literal in &module.strings {
            let Some(text) = literal.as_text() else {
                continue;
            };
            if let Some(what) = credential(text) {
                findings.push(
                    Finding::new(
                        &SECRET_IN_CODE,
                        file,
                        literal.place.line,
                        format!("{what} is written in the code"),
                    )
                    .at_column(literal.place.column),
                );
            }
        }
        for place in &module.at_masks {
            findings.push(
                Finding::new(
                    &MASK_BY_AT,
                    file,
                    place.line,
                    "the URL is cut at `@` and the part with the password is kept",
                )
                .at_column(place.column),
            );
        }
    }
    public_secrets(project, findings);
    let ignored = ignore_globs(project);
    for (file, text) in project.named(is_env_file) {
        let name = file.rsplit('/').next().unwrap_or(file);
        if ignored.iter().any(|g| g.is_match(file) || g.is_match(name)) {
            continue;
        }
        for (i, line) in text.lines().enumerate() {
            if let Some(what) = env_secret(line) {
                findings.push(Finding::new(
                    &SECRET_IN_ENV_FILE,
                    file,
                    i + 1,
                    format!("{what} in a .env file that is not git-ignored"),
                ));
            }
        }
    }
}

/// Frontend variables published in the browser bundle that hold, or are named for, a secret.
fn public_secrets(project: &Project, findings: &mut Vec<Finding>) {
    let env_files = project.named(|n| n == ".env" || n.starts_with(".env."));
    for (file, text) in env_files {
        for (i, line) in text.lines().enumerate() {
            if let Some(what) = public_secret(line) {
                findings.push(Finding::new(&PUBLIC_SECRET, file, i + 1, what));
            }
        }
    }
}

/// Why a `NEXT_PUBLIC_…=`/`VITE_…=` line publishes a secret, if it does.
fn public_secret(line: &str) -> Option<String> {
    let line = line.trim();
    let line = line.strip_prefix("export ").unwrap_or(line);
    let (key, value) = line.split_once('=')?;
    let key = key.trim();
    let bare = key
        .strip_prefix("NEXT_PUBLIC_")
        .or_else(|| key.strip_prefix("VITE_"))?;
    let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
    if let Some(what) = credential(value) {
        return Some(format!("{key} holds {what}"));
    }
    let upper = bare.to_ascii_uppercase();
    let named = [
        "SECRET",
        "PASSWORD",
        "PRIVATE_KEY",
        "OPENAI_API_KEY",
        "OPENROUTER_API_KEY",
        "ANTHROPIC_API_KEY",
        "HF_TOKEN",
        "HUGGINGFACE",
        "DATABASE_URL",
        "QDRANT_API_KEY",
        "ADMIN_TOKEN",
    ]
    .iter()
    .any(|w| upper.contains(w));
    named.then(|| format!("{key} is named for a secret and is published in the browser bundle"))
}

/// `.env`, `.env.production`, …, but not the examples.
fn is_env_file(name: &str) -> bool {
    (name == ".env" || name.starts_with(".env."))
        && !["example", "sample", "template", "dist", "tmpl", "defaults"]
            .iter()
            .any(|w| name.contains(w))
}

/// What secret a `KEY=value` line holds.
fn env_secret(line: &str) -> Option<String> {
    let line = line.trim();
    let line = line.strip_prefix("export ").unwrap_or(line);
    if line.starts_with('#') {
        return None;
    }
    let (key, value) = line.split_once('=')?;
    let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
    if let Some(what) = credential(value) {
        return Some(what);
    }
    let key = key.trim().to_ascii_uppercase();
    let secret_name = ["KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD"]
        .iter()
        .any(|w| key.contains(w));
    let opaque = value.len() >= 16
        && !value.contains(char::is_whitespace)
        && !value.contains("://")
        && distinct(value) >= 10
        && !placeholder(value);
    (secret_name && opaque).then_some(key)
}

/// The patterns of the project's top-level `.gitignore`.
fn ignore_globs(project: &Project) -> Vec<globset::GlobMatcher> {
    let Some(text) = project.text(".gitignore") else {
        return Vec::new();
    };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('!'))
        .map(|l| l.trim_start_matches('/').trim_end_matches('/'))
        .filter_map(|l| Glob::new(l).ok())
        .map(|g| g.compile_matcher())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_public_frontend_variables_are_found_and_public_values_are_not() {
        for line in [
            "NEXT_PUBLIC_OPENAI_API_KEY=",
            "VITE_OPENROUTER_API_KEY=sk-or-v1-abc",
            "NEXT_PUBLIC_TOKEN=hf_aBcDeFgHiJkLmNoPqRsTuVwXyZ012345",
            "export VITE_DATABASE_URL=postgresql://u:pw@host/db",
        ] {
            assert!(public_secret(line).is_some(), "{line}");
        }
        for line in [
            "NEXT_PUBLIC_API_URL=https://me-space.hf.space",
            "VITE_SUPABASE_ANON_KEY=eyJhbGciOi",
            "OPENAI_API_KEY=sk-proj-abc",
            "# NEXT_PUBLIC_SECRET=x",
        ] {
            assert!(public_secret(line).is_none(), "{line}");
        }
    }
    use crate::check::Project;

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
    fn env_files_are_judged_unless_ignored() {
        let files = [
            (".env", "OPENAI_API_KEY=sk-proj-aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xY\nDEBUG=true\nSECRET_KEY=\"9f8e7d6c5b4a3210fedcba\"\nAPI_KEY=your-key-here-please-123\n"),
            (".env.example", "OPENAI_API_KEY=sk-proj-aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xY\n"),
        ];
        let mut findings = Vec::new();
        check(&Facts::of(&Project::from_files(&files)), &mut findings);
        let lines: Vec<(&str, usize)> =
            findings.iter().map(|f| (f.file.as_str(), f.line)).collect();
        assert_eq!(lines, vec![(".env", 1), (".env", 3)]);
        let mut findings = Vec::new();
        let ignored = [files[0], (".gitignore", "*.pyc\n/.env\n")];
        check(&Facts::of(&Project::from_files(&ignored)), &mut findings);
        assert!(findings.is_empty());
    }
}

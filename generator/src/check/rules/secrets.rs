//! Credentials in the files: provider API keys and database URLs with a password written into
//! Python string literals or into a `.env` file that is not git-ignored, and URLs "masked" by
//! cutting at `@`, which keeps the password. Placeholders (`changeme`, `xxx`, `<your-key>`,
//! `sk-test…`) and local development databases are not secrets.

use globset::Glob;

use super::Facts;
use crate::check::python::{Module, Value};
use crate::check::secret::{self, credential, env_line, is_env_file};
use crate::check::{Finding, Project, Rule, Severity};

pub(crate) static SECRET_IN_CODE: Rule = Rule {
    id: "SG207",
    name: "secret-in-code",
    severity: Severity::Error,
    why: "a real API key or database password is written in the code: anyone who can read the Space's files can use it",
    fix: "revoke the key, read it from an environment variable (os.environ[\"OPENAI_API_KEY\"]) and set it as a Space secret",
    doc: r#"
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
    doc: r#"
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
    doc: r#"
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
    doc: "Next.js inlines every `NEXT_PUBLIC_*` variable and Vite every `VITE_*` variable into the client bundle at build time. An OpenAI, OpenRouter or Hugging Face key, a database URL with its password or any other secret given such a name is readable by anyone who opens the site. The frontend should call the Space backend, which holds the secret as a Space secret; only public values (the backend's URL) belong in public variables. Found in `.env` files of every kind, examples included (an example teaches the mistake).",
};

pub(crate) static SECRET_IN_DOCS: Rule = Rule {
    id: "SG222",
    name: "secret-in-docs",
    severity: Severity::Error,
    why: "a real API key or database password is written in a comment or in the documentation: it is published with the Space",
    fix: "revoke the key, replace it with a placeholder (`sk-...`, `<password>`), and keep the real value only in the Space's secrets",
    doc: r#"
Deployment notes, READMEs and commented-out lines are published with the Space like the code,
and git history keeps them after they are edited. A key pasted into `DEPLOY.md` "for the next
person", or a connection string left in a comment, is as exposed as one in the code: revoke it
at the provider and write a placeholder in its place.

Found: the same provider keys and database URLs with a password as SG207 (placeholders and
local databases are not reported), in Python comments and in documentation files (`.md`,
`.rst`, `.txt` other than requirements files, `.adoc`).
"#,
};

pub(crate) static RULES: &[&Rule] = &[
    &SECRET_IN_DOCS,
    &SECRET_IN_CODE,
    &SECRET_IN_ENV_FILE,
    &MASK_BY_AT,
    &PUBLIC_SECRET,
];

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
        if !super::is_test(file) {
            literal_secrets(file, module, findings);
        }
        for (place, what) in &module.comment_secrets {
            findings.push(
                Finding::new(
                    &SECRET_IN_DOCS,
                    file,
                    place.line,
                    format!("{what} is written in a comment"),
                )
                .at_column(place.column),
            );
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
    for (file, text) in project.named(is_documentation) {
        for (i, line) in text.lines().enumerate() {
            if let Some(what) = credential(line) {
                findings.push(Finding::new(
                    &SECRET_IN_DOCS,
                    file,
                    i + 1,
                    format!("{what} is written in the documentation"),
                ));
            }
        }
    }
    let ignored = ignore_globs(project);
    for (file, text) in project.named(is_env_file) {
        let name = file.rsplit('/').next().unwrap_or(file);
        if ignored.iter().any(|g| g.is_match(file) || g.is_match(name)) {
            continue;
        }
        for (i, line) in text.lines().enumerate() {
            if let Some(what) = env_line(line) {
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

/// Secrets written as literals under a secret's name: `DB_PASSWORD = "…"`, and the fallback of
/// `os.getenv("JWT_SECRET", "…")`. A signing key (`SECRET_KEY`, `JWT_SECRET`, …) is reported
/// whatever its literal looks like: "dev-secret" is the key that signs every session whenever
/// the variable is unset, so anyone who reads the code can forge them. Other secrets are
/// reported when the literal looks real (a placeholder fallback just fails to authenticate).
fn literal_secrets(file: &str, module: &Module, findings: &mut Vec<Finding>) {
    // A class body's `name: T = "…"` is both an assignment and a settings field: one finding.
    let mut seen = std::collections::BTreeSet::new();
    let mut found = |name: &str, value: &Value, fallback: bool| {
        let Some(text) = value.as_str() else { return };
        if !seen.insert((value.place.line, value.place.column)) {
            return;
        }
        if text.is_empty() || credential(text).is_some() {
            // Empty means unset; a provider key or URL is reported as such already.
            return;
        }
        let signing = secret::signing_key_name(name);
        let opaque = text.chars().any(|c| c.is_ascii_digit())
            && text.chars().any(|c| c.is_ascii_alphabetic());
        if !(signing || (secret::secret_name(name) && secret::real_value(text) && opaque)) {
            return;
        }
        let shown: String = text.chars().take(4).collect();
        let message = match (fallback, signing) {
            (true, true) => format!(
                "{name} falls back to the literal \"{shown}…\", which signs with a key anyone can read whenever the variable is unset"
            ),
            (true, false) => format!("{name} falls back to a literal secret (\"{shown}…\")"),
            (false, true) => format!(
                "{name} is the literal \"{shown}…\": the signing key is readable by anyone who reads the code"
            ),
            (false, false) => format!("{name} holds a literal secret (\"{shown}…\")"),
        };
        findings.push(
            Finding::new(&SECRET_IN_CODE, file, value.place.line, message)
                .at_column(value.place.column),
        );
    };
    // In a function, a literal under a secret's name is a sentinel or a test value far more
    // often than a credential; at module level it is configuration.
    for assign in module.assigns.iter().filter(|a| a.module_level) {
        let name = assign.target.rsplit('.').next().unwrap_or(&assign.target);
        found(name, &assign.value, false);
    }
    // A settings field's default is what the app runs with when the variable is unset.
    for class in &module.classes {
        if !class.bases.iter().any(|b| b.ends_with("BaseSettings")) {
            continue;
        }
        for field in &class.fields {
            if let Some(default) = &field.default {
                found(&field.name, default, true);
            }
        }
    }
    for call in &module.calls {
        if !matches!(
            call.name.as_str(),
            "os.getenv" | "getenv" | "os.environ.get" | "environ.get" | "os.environ.setdefault"
        ) {
            continue;
        }
        let (Some(name), Some(default)) = (
            call.arg(0, "key").and_then(Value::as_str),
            call.arg(1, "default"),
        ) else {
            continue;
        };
        found(name, default, true);
    }
}

/// Documentation: Markdown, reStructuredText, AsciiDoc and plain text other than requirements.
fn is_documentation(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".md", ".markdown", ".rst", ".adoc"]
        .iter()
        .any(|e| lower.ends_with(e))
        || (lower.ends_with(".txt")
            && !lower.contains("requirements")
            && !lower.contains("constraints"))
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
            "NEXT_PUBLIC_TOKEN=hf_Qm7RtK2wLp9ZxN4vBc8JdF3sHg6YeA1uTo",
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

    fn code_findings(code: &str) -> Vec<(&'static str, usize)> {
        let mut found = super::super::found(check, &[("app/config.py", code)]);
        found.sort_unstable();
        found
    }

    #[test]
    fn signing_keys_and_named_secrets_written_as_literals_are_found() {
        let code = "import os\nSECRET_KEY = 'super-secret-key'\nJWT_SECRET = os.getenv('JWT_SECRET', 'dev-secret')\nDB_PASSWORD = 'Hx7wQp2zLm9v'\nAPI_KEY = os.getenv('API_KEY', 'your-api-key')\nOPENAI_API_KEY = os.environ.get('OPENAI_API_KEY', '')\nSESSION_SECRET = os.environ['SESSION_SECRET']\nMAX_TOKENS = '1024'\n";
        assert_eq!(
            code_findings(code),
            vec![("SG207", 2), ("SG207", 3), ("SG207", 4)]
        );
        assert_eq!(
            super::super::found(check, &[("tests/test_auth.py", code)]),
            vec![]
        );
        let settings = "from pydantic_settings import BaseSettings\nclass Settings(BaseSettings):\n    jwt_secret: str = 'change-me'\n    session_secret: str = Field(default='dev-session-key')\n    openai_api_key: str = ''\n    secret_key_name: str = 'session'\nclass Config:\n    SECRET_KEY = 'flask-dev'\n";
        assert_eq!(
            code_findings(settings),
            vec![("SG207", 3), ("SG207", 4), ("SG207", 8)]
        );
        let sentinel = "def f(auth_token=None):\n    if not auth_token:\n        auth_token = 'open_access'\nPASSWORD_FIELD = 'user_password'\n";
        assert_eq!(code_findings(sentinel), vec![]);
    }

    #[test]
    fn keys_in_comments_and_documentation_are_found() {
        let key = format!("sk-or-v1-{}", "Zq8vN3kLw2RtY7uXb5Hc9JmD4sFgA1eP");
        let code = format!("import os\n# OPENROUTER_API_KEY = '{key}'\nKEY = os.environ['K']  # was {key}\nURL = '#' + 'x'\n");
        assert_eq!(
            super::super::found(check, &[("app/main.py", &code)]),
            vec![("SG222", 2), ("SG222", 3)]
        );
        let notes =
            format!("# Deploy\n\nSet `OPENROUTER_API_KEY` to `sk-or-v1-...`.\n\nOurs: {key}\n");
        let files = [
            ("DEPLOY.md", notes.as_str()),
            (
                "docs/setup.txt",
                "postgresql://app:Hx7wQp2zLm9vRt@db.prod.io/app\n",
            ),
            ("requirements.txt", "fastapi==0.115.0\n"),
            (
                "README.md",
                "DATABASE_URL=postgresql://user:password@host/db\n",
            ),
        ];
        let mut found = super::super::found(check, &files);
        found.sort_unstable();
        assert_eq!(found, vec![("SG222", 1), ("SG222", 5)]);
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

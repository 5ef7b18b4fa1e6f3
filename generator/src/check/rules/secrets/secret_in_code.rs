use crate::check::finding::rule;
use crate::check::python::{Module, Value};
use crate::check::rules::{is_test, Facts};
use crate::check::secret::{self, credential};
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a credential written in the code:
    /// - a provider key in any string literal: OpenAI/OpenRouter/Anthropic (`sk-…`), Hugging
    ///   Face (`hf_…`), Groq (`gsk_…`), Google (`AIza…`), GitHub (`ghp_…`), AWS (`AKIA…`) and
    ///   Slack (`xox…`) keys, and database URLs with a password for a remote host
    ///   (`postgresql://user:password@host/db`);
    /// - a signing key (`SECRET_KEY`, `JWT_SECRET`, `SESSION_SECRET`, …) given a literal at
    ///   module level, as a `getenv` fallback or as a `BaseSettings` default, whatever the
    ///   literal looks like;
    /// - another secret's name (`DB_PASSWORD`, `API_KEY`, …) given a literal that looks real.
    ///
    /// Placeholders (`changeme`, `xxx`, `<your-key>`, `sk-test…`), empty strings and local
    /// development databases (localhost, a compose service name) are not reported; nor are
    /// named secrets inside functions or under `tests/`.
    ///
    /// ## Why it breaks a Space
    /// A Space's files are public unless the Space is private, and its git history keeps every
    /// version: a key committed once stays readable after it is removed. A signing key's
    /// fallback is the live key whenever the variable is unset, so "dev-secret" lets anyone
    /// who reads the code forge sessions and tokens.
    ///
    /// ## Example
    /// ```python
    /// client = OpenAI(api_key="sk-proj-…")
    /// JWT_SECRET = os.getenv("JWT_SECRET", "dev-secret")
    /// ```
    ///
    /// ## Fix
    /// Revoke the key at the provider, read it from the environment, and store it as a secret
    /// in the Space's settings ("Variables and secrets"); fail at start-up when a signing key is
    /// missing rather than falling back:
    /// ```python
    /// client = OpenAI(api_key=os.environ["OPENAI_API_KEY"])
    /// JWT_SECRET = os.environ["JWT_SECRET"]
    /// ```
    ///
    /// ## References
    /// - Hugging Face, Spaces secrets and variables: <https://huggingface.co/docs/hub/spaces-overview#managing-secrets>
    /// - OWASP, use of hard-coded credentials: <https://owasp.org/www-community/vulnerabilities/Use_of_hard-coded_password>
    pub(crate) static RULE = "SG207", "secret-in-code", Error;
    why: "a real API key or database password is written in the code: anyone who can read the Space's files can use it";
    fix: "revoke the key, read it from an environment variable (os.environ[\"OPENAI_API_KEY\"]) and set it as a Space secret";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    for (file, module) in &facts.python {
        for literal in &module.strings {
            let Some(text) = literal.as_text() else {
                continue;
            };
            if let Some(what) = credential(text) {
                findings.push(
                    Finding::new(
                        &RULE,
                        *file,
                        literal.place.line,
                        format!("{what} is written in the code"),
                    )
                    .at_column(literal.place.column),
                );
            }
        }
        if !is_test(file) {
            literal_secrets(file, module, findings);
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
            Finding::new(&RULE, file, value.place.line, message).at_column(value.place.column),
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

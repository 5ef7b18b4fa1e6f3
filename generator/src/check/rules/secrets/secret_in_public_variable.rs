use crate::check::finding::rule;
use crate::check::rules::Facts;
use crate::check::secret::credential;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a `NEXT_PUBLIC_*` or `VITE_*` variable, in a `.env` file of any kind (examples
    /// included: an example teaches the mistake), that holds a credential or is named for a
    /// secret (`…SECRET…`, `…PASSWORD…`, `…OPENAI_API_KEY…`, `…HF_TOKEN…`, `…DATABASE_URL…`, …).
    ///
    /// ## Why it breaks a Space
    /// Next.js inlines every `NEXT_PUBLIC_*` variable and Vite every `VITE_*` variable into the
    /// client bundle at build time. An OpenAI, OpenRouter or Hugging Face key, or a database URL
    /// with its password, given such a name is readable by anyone who opens the site.
    ///
    /// ## Example
    /// ```sh
    /// NEXT_PUBLIC_OPENAI_API_KEY=sk-proj-…
    /// ```
    ///
    /// ## Fix
    /// The frontend calls the Space backend, which holds the secret as a Space secret; only
    /// public values (the backend's URL) belong in public variables:
    /// ```sh
    /// NEXT_PUBLIC_API_URL=https://me-my-space.hf.space
    /// ```
    ///
    /// ## References
    /// - Next.js, bundling environment variables for the browser: <https://nextjs.org/docs/app/guides/environment-variables#bundling-environment-variables-for-the-browser>
    /// - Vite, env variables and modes: <https://vite.dev/guide/env-and-mode>
    pub(crate) static RULE = "SG219", "secret-in-public-variable", Error;
    why: "`NEXT_PUBLIC_` and `VITE_` variables are written into the JavaScript every visitor downloads: a secret there is published";
    fix: "keep the secret on the backend (a Space secret read by the API) and drop it from the frontend's public variables";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    let env_files = facts
        .project
        .named(|n| n == ".env" || n.starts_with(".env."));
    for (file, text) in env_files {
        for (i, line) in text.lines().enumerate() {
            if let Some(what) = public_secret(line) {
                findings.push(Finding::new(&RULE, file, i + 1, what));
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
}

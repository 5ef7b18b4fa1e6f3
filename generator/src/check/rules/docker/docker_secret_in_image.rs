use super::{copy_sources, ignored, server, Context};
use crate::check::finding::rule;
use crate::check::ignore_file::{clean, IgnoreFile};
use crate::check::rules::Facts;
use crate::check::{secret, Finding};

rule! {
    /// ## What it does
    /// Reports a secret that ends up in the image: a `.env` file is copied (by name, or by
    /// `COPY . …` while the folder holds a `.env` with values that `.dockerignore` does not
    /// exclude), or an `ENV`/`ARG` holds a literal token, key or password.
    ///
    /// ## Why it breaks a Space
    /// Image layers keep every value; `ENV` and `ARG` values are also in the image history.
    /// Anyone who can pull or duplicate the Space can read them.
    ///
    /// ## Example
    /// ```dockerfile
    /// ENV OPENAI_API_KEY=sk-proj-…
    /// COPY .env .
    /// ```
    ///
    /// ## Fix
    /// Delete the value and set it as a Space secret (Settings → Variables and secrets): Space
    /// secrets are environment variables at run time. When a build step needs one,
    /// `RUN --mount=type=secret,id=NAME` reads it from `/run/secrets/NAME` without storing it:
    /// ```dockerfile
    /// RUN --mount=type=secret,id=HF_TOKEN,mode=0444,required=true \
    ///     HF_TOKEN=$(cat /run/secrets/HF_TOKEN) python download.py
    /// ```
    ///
    /// ## References
    /// - Hugging Face, Docker Spaces, Secrets and Variables: <https://huggingface.co/docs/hub/spaces-sdks-docker>
    /// - Docker, build secrets: <https://docs.docker.com/build/building/secrets/>
    pub(crate) static RULE = "SG109", "docker-secret-in-image", Error;
    why: "a secret baked into the image is readable by anyone who can pull or duplicate the Space";
    fix: "delete the value and set it as a Space secret (Settings → Variables and secrets); read it from the environment at run time";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    for cx in &facts.dockerfiles {
        copies(cx, findings);
        secret_values(cx, findings);
    }
}

/// A `COPY`/`ADD` that brings an environment file holding secret values into the image.
fn copies(cx: &Context<'_>, findings: &mut Vec<Finding>) {
    let gitignore = IgnoreFile::parse(&format!(
        "{}\n{}",
        cx.project.text(".gitignore").unwrap_or_default(),
        cx.file(".gitignore").unwrap_or_default()
    ));
    // Looked up once: a Dockerfile may copy thousands of times.
    let env_files: Vec<(&str, &str)> = cx
        .project
        .files()
        .filter(|(p, _)| secret::is_env_file(p))
        .collect();
    for (i, source) in copy_sources(cx) {
        // What .dockerignore excludes is never copied (docker-copy-ignored reports it).
        if ignored(cx, &source) {
            continue;
        }
        let path = clean(&source);
        let literal = !source.contains(['*', '?', '[']);
        if literal && secret::is_env_file(&path) {
            findings.push(cx.finding(
                &RULE,
                i.line,
                format!(
                    "`{} {source}` copies an environment file into the image",
                    i.keyword
                ),
            ));
            continue;
        }
        if literal {
            let prefix = if path.is_empty() {
                String::new()
            } else {
                format!("{path}/")
            };
            let env_file = env_files.iter().find(|(p, text)| {
                let Some(rel) = p
                    .strip_prefix(&cx.join(""))
                    .map(|r| r.trim_start_matches('/'))
                else {
                    return false;
                };
                let Some(inside) = rel.strip_prefix(&prefix) else {
                    return false;
                };
                secret::is_env_file(inside)
                    && !inside.contains('/')
                    && secret::env_file_holds_secret(text)
                    && !cx.ignore.excludes(rel)
                    && !gitignore.excludes(rel)
            });
            if let Some((env_path, _)) = env_file {
                findings.push(cx.finding(
                    &RULE,
                    i.line,
                    format!(
                        "`{} {source}` copies {env_path}, which holds secret values, into the image",
                        i.keyword
                    ),
                ));
            }
        }
    }
}

/// An `ENV` or `ARG` with a literal secret value.
fn secret_values(cx: &Context<'_>, findings: &mut Vec<Finding>) {
    for i in &cx.parsed.instructions {
        if i.keyword != "ENV" && i.keyword != "ARG" {
            continue;
        }
        for (key, value) in server::assignments(i) {
            let Some(value) = value else { continue };
            if secret::env_line(&format!("{key}={value}")).is_some() {
                findings.push(cx.finding(
                    &RULE,
                    i.line,
                    format!("{} {key} holds a literal secret value", i.keyword),
                ));
            }
        }
    }
}

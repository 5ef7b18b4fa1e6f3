use super::{base_image, repo_and_tag, root_modules, writes, Context};
use crate::check::dockerfile::Stage;
use crate::check::finding::rule;
use crate::check::python::Module;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a Dockerfile whose final stage never switches to an unprivileged user (or
    /// switches back to root), whose base image runs as root, and whose app writes at run time
    /// where uid 1000 cannot: it creates a folder or writes a file inside the root-owned
    /// working directory, keeps a SQLite file there, points a model cache (`HF_HOME`,
    /// `TRANSFORMERS_CACHE`, …) there, or starts with `poetry run` after `poetry install` made
    /// its virtualenv under `/root`. An image built for root whose app only reads works on a
    /// Space, so it is not reported; the finding names the write that proves it.
    ///
    /// ## Why it breaks a Space
    /// Hugging Face runs every Docker Space as user ID 1000: files the build created as root
    /// are then read-only for the app, and `HOME` does not point at a folder it owns, so caches
    /// (pip, huggingface_hub, torch) and any file the app writes fail with
    /// 'Permission denied' only once the Space runs.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM python:3.12-slim
    /// WORKDIR /app
    /// COPY . .
    /// # main.py runs os.makedirs("uploads") in /app, which root owns
    /// CMD ["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "7860"]
    /// ```
    ///
    /// ## Fix
    /// The documented pattern:
    /// ```dockerfile
    /// RUN useradd -m -u 1000 user
    /// USER user
    /// ENV HOME=/home/user PATH=/home/user/.local/bin:$PATH
    /// WORKDIR /app
    /// COPY --chown=user . /app
    /// ```
    ///
    /// ## References
    /// - Hugging Face, Docker Spaces, Permissions: <https://huggingface.co/docs/hub/spaces-sdks-docker>
    /// - Dockerfile reference, `USER`: <https://docs.docker.com/reference/dockerfile/#user>
    pub(crate) static RULE = "SG101", "docker-root-user", Error;
    why: "Spaces run the container as uid 1000; in this image built for root, the app writes where uid 1000 cannot, and fails with 'Permission denied'";
    fix: "RUN useradd -m -u 1000 user, then USER user before WORKDIR and COPY --chown=user";
}

/// Images that run as root unless a Dockerfile says otherwise.
const ROOT_IMAGES: &[&str] = &[
    "python",
    "ubuntu",
    "debian",
    "alpine",
    "node",
    "nvidia/cuda",
    "pytorch/pytorch",
    "continuumio/miniconda3",
    "continuumio/anaconda3",
    "condaforge/miniforge3",
    "tiangolo/uvicorn-gunicorn-fastapi",
    "tiangolo/uvicorn-gunicorn",
    "ghcr.io/astral-sh/uv",
];

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    for cx in facts.dockerfiles.iter().filter(|cx| cx.is_space()) {
        let modules = root_modules(facts, cx);
        root_user(cx, &cx.chain(), &modules, findings);
    }
}

/// The final stage runs as root, and a write the app makes at run time proves that uid 1000
/// cannot work there (an image that only reads works as uid 1000).
fn root_user(
    cx: &Context<'_>,
    chain: &[Stage<'_>],
    project_modules: &[(&str, &Module)],
    findings: &mut Vec<Finding>,
) {
    let last_user = chain
        .iter()
        .find_map(|s| s.body.iter().rev().find(|i| i.keyword == "USER"));
    let (line, runs_as) = match last_user {
        Some(user) => {
            let name = user.text();
            let name = name.split(':').next().unwrap_or_default().trim().to_owned();
            if name != "root" && name != "0" {
                return;
            }
            (user.line, format!("the final stage runs as `{name}`"))
        }
        None => {
            let Some(image) = base_image(chain) else {
                return;
            };
            let (repo, _) = repo_and_tag(&image);
            if !ROOT_IMAGES.contains(&repo) {
                return;
            }
            (
                chain[0].from.line,
                format!(
                    "the final stage (from `{image}`) never sets USER, so it is built for root"
                ),
            )
        }
    };
    let Some(evidence) = writes::first_blocked(cx.project, project_modules, chain) else {
        return;
    };
    let at = if evidence.file.is_empty() {
        format!("{}:{}", cx.path, evidence.line)
    } else {
        format!("{}:{}", evidence.file, evidence.line)
    };
    findings.push(cx.finding(
        &RULE,
        line,
        format!("{runs_as}, and {at} {}", evidence.what),
    ));
}

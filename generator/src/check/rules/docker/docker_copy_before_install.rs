use std::collections::BTreeSet;

use super::Context;
use crate::check::dockerfile::{Instruction, Stage};
use crate::check::finding::rule;
use crate::check::ignore_file::clean;
use crate::check::installs::{self, Tool};
use crate::check::rules::Facts;
use crate::check::{Finding, Project};

rule! {
    /// ## What it does
    /// Reports `COPY . …` (or a `COPY` of a folder of Python code, such as
    /// `COPY backend/ ./backend/`) that comes before the `pip install -r` of the same stage;
    /// or `COPY . …` that comes before `uv sync`, `poetry install`, `pdm install` or
    /// `pipenv install`.
    ///
    /// ## Why it breaks a Space
    /// Docker reuses a layer only while everything before it is unchanged, so any edit to any
    /// file invalidates the install layer and every push to the Space rebuilds all
    /// dependencies (minutes for torch or transformers).
    ///
    /// ## Example
    /// ```dockerfile
    /// COPY --chown=user . .
    /// RUN pip install --no-cache-dir -r requirements.txt
    /// ```
    ///
    /// ## Fix
    /// Copy the requirements file first, install, then copy the code:
    /// ```dockerfile
    /// COPY --chown=user requirements.txt .
    /// RUN pip install --no-cache-dir -r requirements.txt
    /// COPY --chown=user . .
    /// ```
    /// With uv (Poetry alike, with `--no-root`), install the dependencies before the project:
    /// ```dockerfile
    /// COPY --chown=user pyproject.toml uv.lock ./
    /// RUN uv sync --locked --no-install-project
    /// COPY --chown=user . .
    /// RUN uv sync --locked
    /// ```
    ///
    /// ## References
    /// - Docker, build cache: <https://docs.docker.com/build/cache/>
    /// - Hugging Face, Docker Spaces: <https://huggingface.co/docs/hub/spaces-sdks-docker>
    pub(crate) static RULE = "SG105", "docker-copy-before-install", Warning;
    why: "copying the project's code before installing dependencies re-installs every dependency on any code change";
    fix: "COPY the requirements file (or pyproject.toml and the lock) alone, install, then COPY the rest";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    if facts.dockerfiles.is_empty() {
        return;
    }
    let code_folders = code_folders(facts.project);
    for cx in &facts.dockerfiles {
        for stage in cx.parsed.stages() {
            copy_before_install(cx, &code_folders, &stage, findings);
        }
    }
}

fn copies_everything(i: &Instruction) -> bool {
    if !matches!(i.keyword.as_str(), "COPY" | "ADD") || i.flag("from").is_some() {
        return false;
    }
    let Some(words) = i.words() else { return false };
    words.len() > 1 && words[..words.len() - 1].iter().any(|s| clean(s).is_empty())
}

/// Whether a COPY/ADD brings a folder of Python code into the image.
fn copies_code(cx: &Context<'_>, code_folders: &BTreeSet<String>, i: &Instruction) -> bool {
    if !matches!(i.keyword.as_str(), "COPY" | "ADD") || i.flag("from").is_some() {
        return false;
    }
    let Some(words) = i.words() else { return false };
    let Some((_, sources)) = words.split_last() else {
        return false;
    };
    sources.iter().any(|source| {
        let folder = cx.join(source);
        !source.contains(['*', '?', '[']) && !folder.is_empty() && code_folders.contains(&folder)
    })
}

/// Every folder that holds a Python file, at any depth.
fn code_folders(project: &Project) -> BTreeSet<String> {
    let mut folders = BTreeSet::new();
    for (path, _) in project.python() {
        let mut rest = path;
        while let Some((folder, _)) = rest.rsplit_once('/') {
            if !folders.insert(folder.to_owned()) {
                break;
            }
            rest = folder;
        }
    }
    folders
}

/// The project's code is copied before the stage installs its dependencies, so any code
/// change re-runs the install. For `pip install -r` any copy of the context or of a folder of
/// Python code counts; for project tools (`uv sync`, `poetry install`, `pdm install`, `pipenv
/// install`) a copy of the whole context.
fn copy_before_install(
    cx: &Context<'_>,
    code_folders: &BTreeSet<String>,
    stage: &Stage<'_>,
    findings: &mut Vec<Finding>,
) {
    let install = stage.body.iter().enumerate().find_map(|(n, i)| {
        if i.keyword != "RUN" {
            return None;
        }
        i.commands().iter().find_map(|c| {
            let command = installs::command(c)?;
            let tool = match command.project {
                Some(Tool::Uv) => Some("uv sync"),
                Some(Tool::Poetry) => Some("poetry install"),
                Some(Tool::Pdm) => Some("pdm install"),
                _ if c.iter().any(|w| w == "pipenv") => Some("pipenv install"),
                _ => None,
            };
            if let Some(tool) = tool {
                return Some((n, true, format!("the `{tool}`")));
            }
            let dependencies = command.files.iter().any(|f| {
                let name = f.rsplit('/').next().unwrap_or(f);
                let text = cx.file(f).or_else(|| cx.file(name)).unwrap_or("");
                !text.lines().any(|l| {
                    let l = l.trim();
                    l.starts_with("-e") || l.starts_with(['.', '/']) || l.starts_with("file:")
                })
            });
            dependencies.then(|| (n, false, "the pip install".to_owned()))
        })
    });
    let Some((install, project_tool, what)) = install else {
        return;
    };
    let copy = stage.body[..install]
        .iter()
        .find(|i| copies_everything(i) || (!project_tool && copies_code(cx, code_folders, i)));
    if let Some(copy) = copy {
        findings.push(cx.finding(
            &RULE,
            copy.line,
            format!(
                "`{} {}` comes before {what} at line {}",
                copy.keyword,
                copy.text(),
                stage.body[install].line
            ),
        ));
    }
}

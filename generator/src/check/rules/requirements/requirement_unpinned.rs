use std::collections::BTreeSet;

use super::Requirements;
use crate::check::finding::rule;
use crate::check::requirements::entries;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a requirement that does not pin one version with `==`, in what the image
    /// installs: the requirements files its Dockerfile installs (every requirements file when
    /// no Dockerfile installs Python packages), packages named on its `pip install` lines, and
    /// a `pyproject.toml` installed by `uv sync`, `poetry install`, `pdm install` or
    /// `pip install .` when the tool's lock file (`uv.lock`, `poetry.lock`, `pdm.lock`) is not
    /// in the image when it runs (pip reads none). A package that a constraints file pins is
    /// pinned wherever it is installed.
    ///
    /// ## Why it breaks a Space
    /// A Space is rebuilt from the Dockerfile on every push, restart of the builder or factory
    /// reboot. A requirement without `==` resolves to the newest release at that moment, so
    /// the same commit can build a working Space one day and a broken one the next (FastAPI,
    /// pydantic and SQLAlchemy have all shipped breaking releases).
    ///
    /// ## Example
    /// ```sh
    /// # requirements.txt
    /// fastapi>=0.100
    /// uvicorn
    /// ```
    ///
    /// ## Fix
    /// Pin exact versions, ideally with `--hash` so the install is verified (a lock such as
    /// `pip-compile` or `uv pip compile` writes the whole set, hashes included), or copy
    /// `uv.lock` / `poetry.lock` into the image before `uv sync` / `poetry install`:
    /// ```sh
    /// # requirements.txt
    /// fastapi==0.115.6
    /// uvicorn==0.34.0
    /// ```
    ///
    /// ## References
    /// - pip, repeatable installs: <https://pip.pypa.io/en/stable/topics/repeatable-installs/>
    /// - pip, secure installs (hash-checking mode): <https://pip.pypa.io/en/stable/topics/secure-installs/>
    /// - pip, requirements file format: <https://pip.pypa.io/en/stable/reference/requirements-file-format/>
    /// - uv, using uv in Docker: <https://docs.astral.sh/uv/guides/integration/docker/>
    pub(crate) static RULE = "SG401", "requirement-unpinned", Warning;
    why: "every rebuild of the Space installs whatever version is newest that day: a release can break it without a commit";
    fix: "pin every package with `==` (a lock such as `pip-compile` or `uv pip compile` writes the whole set, hashes included), or copy uv.lock/poetry.lock into the image before `uv sync`/`poetry install`";
}

/// Checks what the image installs: the requirements files its Dockerfile installs (every
/// requirements file when no Dockerfile installs Python packages), the packages its install
/// commands name, and the projects it installs from `pyproject.toml` without their lock.
pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    let installs = &facts.installs;
    let requirements = Requirements::of(facts);
    let constrained = &requirements.constrained;
    // Only the files the image installs can leave it unpinned.
    let installed = |file: &str| !installs.known || installs.files.contains(file);
    for (file, text) in &requirements.files {
        for entry in entries(text) {
            let name = &entry.requirement.name;
            if entry.pinned().is_none() && !constrained.contains(name) && installed(file) {
                findings.push(Finding::new(
                    &RULE,
                    *file,
                    entry.line,
                    format!("`{}` does not pin one version", entry.text),
                ));
            }
        }
    }
    for named in &installs.packages {
        let entry = &named.entry;
        if entry.pinned().is_none() && !constrained.contains(&entry.requirement.name) {
            findings.push(Finding::new(
                &RULE,
                &named.dockerfile,
                named.line,
                format!(
                    "`{}` is installed by the Dockerfile without pinning one version",
                    entry.text
                ),
            ));
        }
    }
    let mut pinned: BTreeSet<String> = requirements
        .all
        .values()
        .flatten()
        .filter(|(_, e)| e.pinned().is_some())
        .map(|(_, e)| e.requirement.name.clone())
        .collect();
    pinned.extend(constrained.iter().cloned());
    pinned.extend(
        installs
            .packages
            .iter()
            .filter(|n| n.entry.pinned().is_some())
            .map(|n| n.entry.requirement.name.clone()),
    );
    unlocked_projects(facts, &pinned, findings);
}

/// Projects installed from `pyproject.toml` without the lock their tool installs from: their
/// dependencies' ranges resolve afresh on every build (those pinned elsewhere in the image
/// aside).
fn unlocked_projects(facts: &Facts<'_>, pinned: &BTreeSet<String>, findings: &mut Vec<Finding>) {
    for install in facts.installs.projects.iter().filter(|p| !p.locked) {
        let Some(text) = facts.project.text(&install.pyproject) else {
            continue;
        };
        let loose: Vec<String> = dependencies(text)
            .into_iter()
            .filter(|(name, _, exact)| !exact && !pinned.contains(name))
            .map(|(_, written, _)| format!("`{written}`"))
            .collect();
        if loose.is_empty() {
            continue;
        }
        let why = match install.tool.lock() {
            Some(lock) => format!("no {lock} is in the image when it runs"),
            None => "pip installs from no lock file".to_owned(),
        };
        let listed = match loose.len() {
            1..=3 => loose.join(", "),
            n => format!("{} and {} more", loose[..3].join(", "), n - 3),
        };
        findings.push(Finding::new(
            &RULE,
            &install.dockerfile,
            install.line,
            format!(
                "`{}` resolves {}'s dependencies afresh on every build ({why}): {listed} not pinned to one version",
                install.command, install.pyproject
            ),
        ));
    }
}

/// The dependencies of a `pyproject.toml` (`[project] dependencies`, Poetry's
/// `[tool.poetry.dependencies]`): normalised name, as written, and whether one version is pinned.
fn dependencies(text: &str) -> Vec<(String, String, bool)> {
    let Ok(doc) = toml::from_str::<toml::Value>(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let pep621 = doc
        .get("project")
        .and_then(|p| p.get("dependencies"))
        .and_then(toml::Value::as_array);
    for dep in pep621.into_iter().flatten().filter_map(toml::Value::as_str) {
        if let Some(entry) = entries(dep).into_iter().next() {
            out.push((
                entry.requirement.name.clone(),
                dep.to_owned(),
                entry.pinned().is_some(),
            ));
        }
    }
    let poetry = doc
        .get("tool")
        .and_then(|t| t.get("poetry"))
        .and_then(|p| p.get("dependencies"))
        .and_then(toml::Value::as_table);
    for (name, value) in poetry.into_iter().flatten() {
        if name == "python" {
            continue;
        }
        // Git, path and URL dependencies name no version to pin.
        let Some(version) = value
            .as_str()
            .or_else(|| value.get("version").and_then(toml::Value::as_str))
        else {
            continue;
        };
        let Ok(normalised) = crate::requirement::normalise(name) else {
            continue;
        };
        out.push((
            normalised,
            format!("{name} = \"{version}\""),
            poetry_exact(version),
        ));
    }
    out
}

/// Whether a Poetry constraint allows one version: `1.2.3` or `==1.2.3`.
fn poetry_exact(constraint: &str) -> bool {
    let version = constraint.trim();
    let version = version.strip_prefix("==").unwrap_or(version).trim();
    version.starts_with(|c: char| c.is_ascii_digit())
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.')
}

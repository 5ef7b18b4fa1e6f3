//! What a deployment installs: every requirements file's pins, against each other and against
//! the incompatibility rules of spacegen's matrix (`blueprints/matrix.toml`, the same rules the
//! lock obeys). A Space rebuilds from scratch; an unpinned package is whatever the index
//! offers that day.

use std::collections::{BTreeMap, BTreeSet};

use super::super::requirements::{entries, Entry};
use super::super::{Finding, Rule, Severity};
use super::Facts;
use crate::lock::matrix::{self, Condition, Effect};

pub(crate) static UNPINNED: Rule = Rule {
    id: "SG401",
    name: "requirement-unpinned",
    severity: Severity::Warning,
    why: "every rebuild of the Space installs whatever version is newest that day: a release can break it without a commit",
    fix: "pin every package with `==` (a lock such as `pip-compile` or `uv pip compile` writes the whole set, hashes included), or copy uv.lock/poetry.lock into the image before `uv sync`/`poetry install`",
    doc: "A Space is rebuilt from the Dockerfile on every push, restart of the builder or factory reboot. A requirement without `==` resolves to the newest release at that moment, so the same commit can build a working Space one day and a broken one the next (FastAPI, pydantic and SQLAlchemy have all shipped breaking releases). Pin exact versions, ideally with `--hash` so the install is verified. What is checked is what the image installs: the requirements files its Dockerfile installs (every requirements file when no Dockerfile installs Python packages), packages named on its `pip install` lines, and a `pyproject.toml` installed by `uv sync`, `poetry install`, `pdm install` or `pip install .` when the tool's lock file (`uv.lock`, `poetry.lock`, `pdm.lock`) is not in the image when it runs (pip reads none).",
};

pub(crate) static CONFLICT: Rule = Rule {
    id: "SG402",
    name: "requirement-conflict",
    severity: Severity::Error,
    why: "the same package pinned to two versions cannot be installed: pip stops with ResolutionImpossible",
    fix: "pin the package to one version everywhere (requirements files that include each other must agree)",
    doc: "When two requirements files (or two lines of one) pin the same package to different versions, `pip install -r` of both fails with 'Cannot install … because these package versions have conflicting dependencies', and the image build stops.",
};

pub(crate) static DUPLICATE: Rule = Rule {
    id: "SG403",
    name: "requirement-duplicate",
    severity: Severity::Warning,
    why: "a package listed twice in one file drifts: the next edit changes one line and not the other",
    fix: "keep one line per package",
    doc: "pip accepts the same requirement twice when the two agree, but the second copy is what gets forgotten when the pin is bumped, and the file then fails to install (see SG402).",
};

pub(crate) static KNOWN_BAD: Rule = Rule {
    id: "SG404",
    name: "requirement-known-bad",
    severity: Severity::Error,
    why: "the requirements install a combination known to fail at install or at import",
    fix: "change the pins as the rule's reason says (`spacegen show` lists a known-good set)",
    doc: "spacegen's matrix (`blueprints/matrix.toml`) records combinations that install but fail at run time, or that need an extra, each with the reason and the evidence: pydantic 2.10.0 with SQLModel, sentence-transformers 2.2.2 or older with huggingface_hub 0.26 or newer (cached_download), SQLAlchemy 2.1 without the `asyncio` extra in code that imports `sqlalchemy.ext.asyncio`, code importing `HfFolder` with huggingface_hub 1.0 or newer, and others. A rule applies when its package is pinned within its versions or the code imports the API it names; it is broken by a pin, or by a requirement with no upper bound (`huggingface-hub>=0.20`, or the bare name) when pip's choice, the newest release, is certain to be one the rule forbids. The finding quotes the rule's reason.",
};

pub(crate) static RULES: &[&Rule] = &[&UNPINNED, &CONFLICT, &DUPLICATE, &KNOWN_BAD];

/// Checks the requirements files (and the files the image installs under other names) for
/// duplicates, conflicts and known-bad pins; and for loose pins what the image installs: the
/// requirements files its Dockerfile installs (every requirements file when no Dockerfile
/// installs Python packages), the packages its install commands name, and the projects it
/// installs from `pyproject.toml` without their lock.
pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    let project = facts.project;
    let installs = &facts.installs;
    // Every requirements file, and those the image installs under other names; only those the
    // image installs can leave it unpinned.
    let mut files: BTreeMap<&str, &str> = project.requirements().collect();
    files.extend(
        installs
            .files
            .iter()
            .filter_map(|f| project.text(f).map(|t| (f.as_str(), t))),
    );
    let installed = |file: &str| !installs.known || installs.files.contains(file);
    // Packages a constraints file pins are pinned wherever they are installed.
    let constrained: BTreeSet<String> = installs
        .constraints
        .iter()
        .filter_map(|f| project.text(f))
        .flat_map(entries)
        .filter(|e| e.pinned().is_some())
        .map(|e| e.requirement.name)
        .collect();
    let mut all: BTreeMap<(String, String), Vec<(&str, Entry)>> = BTreeMap::new();
    for (file, text) in files {
        let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
        for entry in entries(text) {
            let name = entry.requirement.name.clone();
            let key = (name.clone(), entry.marker.clone());
            if let Some(first) = seen.insert(key.clone(), entry.line) {
                findings.push(Finding::new(
                    &DUPLICATE,
                    file,
                    entry.line,
                    format!("{name} is listed again (first on line {first})"),
                ));
            }
            if entry.pinned().is_none() && !constrained.contains(&name) && installed(file) {
                findings.push(Finding::new(
                    &UNPINNED,
                    file,
                    entry.line,
                    format!("`{}` does not pin one version", entry.text),
                ));
            }
            all.entry(key).or_default().push((file, entry));
        }
    }
    for named in &installs.packages {
        let entry = &named.entry;
        if entry.pinned().is_none() && !constrained.contains(&entry.requirement.name) {
            findings.push(Finding::new(
                &UNPINNED,
                &named.dockerfile,
                named.line,
                format!(
                    "`{}` is installed by the Dockerfile without pinning one version",
                    entry.text
                ),
            ));
        }
    }
    let mut pinned: BTreeSet<String> = all
        .values()
        .flatten()
        .filter(|(_, e)| e.pinned().is_some())
        .map(|(_, e)| e.requirement.name.clone())
        .collect();
    pinned.extend(constrained);
    pinned.extend(
        installs
            .packages
            .iter()
            .filter(|n| n.entry.pinned().is_some())
            .map(|n| n.entry.requirement.name.clone()),
    );
    unlocked_projects(facts, &pinned, findings);
    conflicts(&all, findings);
    known_bad(&all, facts, findings);
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
            &UNPINNED,
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

/// Every requirement by package and marker, with its file.
type Pins<'a> = BTreeMap<(String, String), Vec<(&'a str, Entry)>>;

/// Packages pinned to different versions under the same marker.
fn conflicts(all: &Pins<'_>, findings: &mut Vec<Finding>) {
    for ((name, _), entries) in all {
        let pinned: Vec<_> = entries
            .iter()
            .filter_map(|(f, e)| e.pinned().map(|v| (f, e, v)))
            .collect();
        let Some((first_file, first, version)) = pinned.first() else {
            continue;
        };
        for (file, entry, other) in &pinned[1..] {
            if other != version {
                findings.push(Finding::new(
                    &CONFLICT,
                    **file,
                    entry.line,
                    format!(
                        "{name}=={other} here, {name}=={version} in {first_file}:{}",
                        first.line
                    ),
                ));
            }
        }
    }
}

/// The matrix's rules over the requirements: a rule applies when its package is pinned within
/// its versions, or when the code imports the API it names (`from huggingface_hub import
/// HfFolder`); it is broken by a pin of the package it constrains, or by a requirement on that
/// package with no upper bound when the newest release pip then picks must be one it forbids.
fn known_bad(all: &Pins<'_>, facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    let Ok(matrix) = matrix::Matrix::embedded() else {
        return;
    };
    // Rules are checked against the requirements that hold everywhere (no marker).
    let unmarked = |name: &str| all.get(&(name.to_owned(), String::new()));
    let pin = |name: &str| {
        unmarked(name).and_then(|es| es.iter().find_map(|(f, e)| e.pinned().map(|v| (*f, e, v))))
    };
    for rule in &matrix.rules {
        let (applies, pinned_here) = match &rule.condition {
            Condition::Package { name, versions } => match pin(name) {
                Some((file, entry, version)) if versions.contains(&version) => {
                    (true, Some((file, entry)))
                }
                _ => (false, None),
            },
            Condition::Uses(api) => (imports(facts, api), None),
        };
        if !applies {
            continue;
        }
        let reason = format!("{} ({}): {}", rule.id, rule.evidence, rule.reason);
        let broken = match &rule.effect {
            Effect::Requires { name, versions } => pin(name)
                .filter(|(_, _, v)| !versions.contains(v))
                .map(|(f, e, _)| (f, e, reason.clone())),
            Effect::Forbids { name, versions } => match pin(name) {
                Some((f, e, v)) => versions.contains(&v).then(|| (f, e, reason.clone())),
                None => newest_forbidden(unmarked(name), &matrix, name, versions).map(|(f, e)| {
                    let spec = e.requirement.versions.to_string();
                    let spec = if spec.is_empty() {
                        "any version".to_owned()
                    } else {
                        spec
                    };
                    (
                        f,
                        e,
                        format!("{name} is not pinned ({spec}), so pip installs its newest release, which breaks: {reason}"),
                    )
                }),
            },
            Effect::Extra { name, extra } if uses_extra(facts, extra) => {
                let (file, entry) = pinned_here.unzip();
                unmarked(name).and_then(|es| {
                    let has = es.iter().any(|(_, e)| e.requirement.extras.contains(extra));
                    (!has).then_some((file?, entry?, reason.clone()))
                })
            }
            Effect::Extra { .. } => None,
        };
        if let Some((at_file, at, message)) = broken {
            findings.push(Finding::new(&KNOWN_BAD, at_file, at.line, message));
        }
    }
}

/// Whether the code imports the class or function `api` names (`module.Name`) by name.
fn imports(facts: &Facts<'_>, api: &str) -> bool {
    let Some((module, name)) = api.rsplit_once('.') else {
        return false;
    };
    facts.python.iter().any(|(_, m)| {
        m.imports
            .iter()
            .any(|i| i.module == module && i.name.as_deref() == Some(name))
    })
}

/// The requirement on `name` that lets pip install a version `forbidden` excludes, when that
/// is certain: it has no upper bound, the forbidden range has none either, and a known release
/// of `name` lies in both (so the newest release pip picks does too).
fn newest_forbidden<'a>(
    entries: Option<&'a Vec<(&'a str, Entry)>>,
    matrix: &matrix::Matrix,
    name: &str,
    forbidden: &pep440_rs::VersionSpecifiers,
) -> Option<(&'a str, &'a Entry)> {
    let (file, entry) = entries?.first()?;
    let open = |specifiers: &pep440_rs::VersionSpecifiers| {
        specifiers.iter().all(|s| {
            matches!(
                s.operator(),
                pep440_rs::Operator::GreaterThan
                    | pep440_rs::Operator::GreaterThanEqual
                    | pep440_rs::Operator::NotEqual
                    | pep440_rs::Operator::NotEqualStar
            )
        })
    };
    let allowed = &entry.requirement.versions;
    let known = matrix.packages.get(name)?;
    (open(allowed)
        && open(forbidden)
        && known
            .iter()
            .any(|v| allowed.contains(v) && forbidden.contains(v)))
    .then_some((*file, entry))
}

/// Whether the code imports what an extra provides: a module with a path segment named after
/// it below another package (`sqlalchemy.ext.asyncio`, `sqlmodel.ext.asyncio.session`), not
/// the standard library's `asyncio` itself.
fn uses_extra(facts: &Facts<'_>, extra: &str) -> bool {
    facts.python.iter().any(|(_, module)| {
        module.imports.iter().any(|import| {
            let mut segments = import.module.split('.');
            let root = segments.next();
            root != Some(extra) && segments.any(|s| s == extra)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Project;

    fn found(files: &[(&str, &str)]) -> Vec<(&'static str, String, usize)> {
        let mut out = Vec::new();
        check(&Facts::of(&Project::from_files(files)), &mut out);
        let mut out: Vec<_> = out
            .into_iter()
            .map(|f| (f.rule.id, f.file, f.line))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn pinned_consistent_sets_pass() {
        let reqs = "fastapi==0.165.0\nsqlalchemy[asyncio]==2.1.9\n";
        let dev = "-r requirements.txt\npytest==9.0.0\nfastapi==0.165.0\n";
        assert_eq!(
            found(&[("requirements.txt", reqs), ("requirements-dev.txt", dev)]),
            vec![]
        );
    }

    #[test]
    fn loose_duplicate_and_conflicting_pins_are_found() {
        let reqs = "fastapi>=0.100\nuvicorn==0.30.0\nuvicorn==0.30.0\n";
        let dev = "uvicorn==0.31.0\n";
        assert_eq!(
            found(&[("requirements.txt", reqs), ("requirements-dev.txt", dev)]),
            vec![
                ("SG401", "requirements.txt".into(), 1),
                ("SG402", "requirements.txt".into(), 2),
                ("SG402", "requirements.txt".into(), 3),
                ("SG403", "requirements.txt".into(), 3),
            ]
        );
    }

    #[test]
    fn one_pin_per_environment_marker_is_not_a_conflict() {
        let reqs = "numpy==2.4.6 ; python_full_version == '3.11.*'\nnumpy==2.5.5 ; python_full_version >= '3.12'\n";
        assert_eq!(found(&[("requirements.txt", reqs)]), vec![]);
    }

    #[test]
    fn the_matrix_rules_apply_to_pins() {
        let reqs = "sqlmodel==0.0.22\npydantic==2.10.0\nsqlalchemy==2.1.9\n";
        let code = "from sqlalchemy.ext.asyncio import create_async_engine\n";
        let ids: Vec<_> = found(&[("requirements.txt", reqs), ("app/db.py", code)])
            .into_iter()
            .map(|(id, _, line)| (id, line))
            .collect();
        assert!(ids.contains(&("SG404", 2)), "{ids:?}");
        assert!(ids.contains(&("SG404", 3)), "{ids:?}");
    }

    /// The SG404 messages for `reqs` with `code` in app/main.py, by line.
    fn known_bad_of(reqs: &str, code: &str) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        let project = Project::from_files(&[("requirements.txt", reqs), ("app/main.py", code)]);
        check(&Facts::of(&project), &mut out);
        out.into_iter()
            .filter(|f| f.rule.id == "SG404")
            .map(|f| (f.line, f.message))
            .collect()
    }

    #[test]
    fn an_unbounded_requirement_gets_the_newest_release_a_rule_forbids() {
        for reqs in [
            "sentence-transformers==2.2.2\nhuggingface-hub>=0.20\n",
            "sentence-transformers==2.2.2\nhuggingface-hub\n",
            "sentence-transformers==2.2.2\nhuggingface_hub!=0.30.0\n",
        ] {
            let found = known_bad_of(reqs, "");
            assert_eq!(found.len(), 1, "{reqs}: {found:?}");
            assert_eq!(found[0].0, 2, "{reqs}");
            assert!(
                found[0].1.starts_with("huggingface-hub is not pinned (")
                    && found[0].1.contains("sentence-transformers-cached-download"),
                "{}",
                found[0].1
            );
        }
        assert!(
            known_bad_of("sentence-transformers==2.2.2\nhuggingface-hub\n", "")[0]
                .1
                .contains("(any version)")
        );
        for fine in [
            "sentence-transformers==2.2.2\nhuggingface-hub<0.26\n",
            "sentence-transformers==2.2.2\nhuggingface-hub~=0.25.0\n",
            "sentence-transformers==2.2.2\nhuggingface-hub==0.25.2\n",
            "sentence-transformers==3.0.1\nhuggingface-hub\n",
            "sentence-transformers>=2.0\nhuggingface-hub\n",
            // A forbidden range with an upper bound may be skipped by the newest release.
            "sqlmodel==0.0.22\npydantic>=2.0\n",
        ] {
            assert_eq!(known_bad_of(fine, ""), vec![], "{fine}");
        }
    }

    #[test]
    fn a_rule_about_an_api_applies_where_the_code_imports_it() {
        let code = "from huggingface_hub import HfFolder\n\ntoken = HfFolder.get_token()\n";
        let pinned = known_bad_of("fastapi==0.165.0\nhuggingface-hub==1.0.0\n", code);
        assert_eq!(pinned.len(), 1, "{pinned:?}");
        assert_eq!(pinned[0].0, 2);
        assert!(pinned[0].1.starts_with("huggingface-hub-1.0-hffolder ("));
        let open = known_bad_of("huggingface-hub>=0.20\n", code);
        assert!(
            open[0]
                .1
                .starts_with("huggingface-hub is not pinned (>=0.20)"),
            "{open:?}"
        );
        assert_eq!(known_bad_of("huggingface-hub==0.36.2\n", code), vec![]);
        assert_eq!(
            known_bad_of("huggingface-hub==1.0.0\n", "import huggingface_hub\n"),
            vec![]
        );
    }

    #[test]
    fn an_extra_is_required_only_where_the_code_uses_it() {
        let reqs = "sqlalchemy==2.1.9\n";
        let sync = "from sqlalchemy import create_engine\nimport asyncio\n";
        assert_eq!(
            found(&[("requirements.txt", reqs), ("app/db.py", sync)]),
            vec![]
        );
    }

    #[test]
    fn only_the_files_the_image_installs_are_checked() {
        let dockerfile = "FROM python:3.11\nWORKDIR /app\nCOPY backend_requirements.txt .\nRUN pip install -r backend_requirements.txt\nCOPY . .\n";
        let files = [
            ("Dockerfile", dockerfile),
            ("backend_requirements.txt", "fastapi\n"),
            ("requirements.txt", "streamlit\n"),
        ];
        assert_eq!(
            found(&files),
            vec![("SG401", "backend_requirements.txt".into(), 1)]
        );
        // A Dockerfile that installs nothing says nothing about what is installed.
        let files = [("Dockerfile", ""), ("requirements.txt", "streamlit\n")];
        assert_eq!(found(&files), vec![("SG401", "requirements.txt".into(), 1)]);
    }

    #[test]
    fn packages_named_on_the_install_command_line() {
        let dockerfile = "FROM python:3.11\nRUN pip install --upgrade pip && \\\n    pip install cython onnxruntime==1.20.1\n";
        assert_eq!(
            found(&[("Dockerfile", dockerfile)]),
            vec![("SG401", "Dockerfile".into(), 2)]
        );
        let constrained = "FROM python:3.11\nCOPY c.txt .\nRUN pip install -c c.txt cython\n";
        assert_eq!(
            found(&[("Dockerfile", constrained), ("c.txt", "cython==3.0.0\n")]),
            vec![]
        );
    }

    #[test]
    fn a_project_install_without_its_lock_resolves_afresh() {
        let uv =
            "[project]\nname = \"x\"\ndependencies = [\"fastapi>=0.110\", \"sqlmodel==0.0.22\"]\n";
        let poetry = "[tool.poetry.dependencies]\npython = \"^3.11\"\nfastapi = \"^0.110\"\nuvicorn = { version = \"0.30.0\" }\n";
        let pinned = "[tool.poetry.dependencies]\npython = \"^3.11\"\nfastapi = \"0.110.0\"\n";
        let cases = [
            (
                "FROM p\nWORKDIR /app\nCOPY pyproject.toml ./\nRUN uv sync --no-dev\n",
                uv,
                4,
            ),
            ("FROM p\nCOPY . .\nRUN pip install .\n", uv, 3),
            (
                "FROM p\nCOPY pyproject.toml .\nRUN poetry install\n",
                poetry,
                3,
            ),
        ];
        for (dockerfile, pyproject, line) in cases {
            let files = [
                ("Dockerfile", dockerfile),
                ("pyproject.toml", pyproject),
                ("uv.lock", ""),
                ("poetry.lock", ""),
            ];
            assert_eq!(
                found(&files),
                vec![("SG401", "Dockerfile".into(), line)],
                "{dockerfile}"
            );
        }
        for (dockerfile, pyproject) in [
            (
                "FROM p\nWORKDIR /app\nCOPY pyproject.toml uv.lock ./\nRUN uv sync --locked\n",
                uv,
            ),
            ("FROM p\nCOPY . .\nRUN poetry install --no-root\n", poetry),
            (
                "FROM p\nCOPY pyproject.toml .\nRUN poetry install\n",
                pinned,
            ),
            (
                "FROM p\nCOPY . .\nRUN pip install -r requirements.txt && pip install -e .\n",
                uv,
            ),
        ] {
            let files = [
                ("Dockerfile", dockerfile),
                ("pyproject.toml", pyproject),
                ("uv.lock", ""),
                ("poetry.lock", ""),
                ("requirements.txt", "fastapi==0.110.0\nsqlmodel==0.0.22\n"),
            ];
            assert_eq!(found(&files), vec![], "{dockerfile}");
        }
    }
}

//! What a deployment installs: every requirements file's pins, against each other and against
//! the incompatibility rules of spacegen's matrix (`blueprints/matrix.toml`, the same rules the
//! lock obeys). A Space rebuilds from scratch; an unpinned package is whatever the index
//! offers that day. The requirements files and their pins are read here, by
//! [`Requirements::of`], for every rule of the family.

pub(super) mod requirement_conflict;
pub(super) mod requirement_duplicate;
pub(super) mod requirement_known_bad;
pub(super) mod requirement_unpinned;

use std::collections::{BTreeMap, BTreeSet};

use super::Facts;
use crate::check::requirements::{entries, Entry};

/// Every requirement by package and marker, with its file.
pub(super) type Pins<'a> = BTreeMap<(String, String), Vec<(&'a str, Entry)>>;

/// The requirements a project lists.
pub(super) struct Requirements<'a> {
    /// Every requirements file, and those the image installs under other names, by path.
    pub files: BTreeMap<&'a str, &'a str>,
    /// Packages a constraints file the image installs with pins: they are pinned wherever
    /// they are installed.
    pub constrained: BTreeSet<String>,
    /// Every requirement of `files`, by package and marker.
    pub all: Pins<'a>,
}

impl<'a> Requirements<'a> {
    pub(super) fn of(facts: &'a Facts<'_>) -> Requirements<'a> {
        let project = facts.project;
        let installs = &facts.installs;
        let mut files: BTreeMap<&str, &str> = project.requirements().collect();
        files.extend(
            installs
                .files
                .iter()
                .filter_map(|f| project.text(f).map(|t| (f.as_str(), t))),
        );
        let constrained: BTreeSet<String> = installs
            .constraints
            .iter()
            .filter_map(|f| project.text(f))
            .flat_map(entries)
            .filter(|e| e.pinned().is_some())
            .map(|e| e.requirement.name)
            .collect();
        let mut all: Pins<'a> = BTreeMap::new();
        for (file, text) in &files {
            for entry in entries(text) {
                let key = (entry.requirement.name.clone(), entry.marker.clone());
                all.entry(key).or_default().push((*file, entry));
            }
        }
        Requirements {
            files,
            constrained,
            all,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::check::rules::{registry, Facts};
    use crate::check::Project;

    fn found(files: &[(&str, &str)]) -> Vec<(&'static str, String, usize)> {
        let project = Project::from_files(files);
        let facts = Facts::of(&project);
        let mut out = Vec::new();
        for entry in registry::RULES
            .iter()
            .filter(|e| e.family == "requirements")
        {
            (entry.check)(&facts, &mut out);
        }
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
        super::requirement_known_bad::check(&Facts::of(&project), &mut out);
        out.into_iter().map(|f| (f.line, f.message)).collect()
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

//! What a project's requirement files (`requirements*.txt`, `pyproject.toml`'s
//! `[project] dependencies`) say about one package's versions. Requirements files are read as
//! pip reads them ([`entries`]: continuations joined, `--hash` options dropped); a requirement
//! that is not valid is ignored, and nothing here guesses what an unpinned one resolves to.

use std::str::FromStr;

use pep440_rs::{Operator, Version};

use super::requirements::entries;
use super::Project;
use crate::requirement::{normalise, Requirement};

/// A requirement on a package, where it was written.
#[derive(Debug, Clone)]
pub(crate) struct Pin {
    pub file: String,
    /// 1-based.
    pub line: usize,
    pub requirement: Requirement,
}

impl Pin {
    /// Whether every version the requirement allows is at least `version`.
    pub(crate) fn at_least(&self, version: &str) -> bool {
        let Ok(floor) = Version::from_str(version) else {
            return false;
        };
        self.requirement.versions.iter().any(|s| {
            matches!(
                s.operator(),
                Operator::Equal
                    | Operator::ExactEqual
                    | Operator::GreaterThanEqual
                    | Operator::GreaterThan
                    | Operator::TildeEqual
            ) && *s.version() >= floor
        })
    }

    /// `name==1.2` as written, for messages.
    pub(crate) fn describe(&self) -> String {
        format!("{}{}", self.requirement.name, self.requirement.versions)
    }
}

/// Every requirement on `package` (any spelling of its name) in the project.
pub(crate) fn pins(project: &Project, package: &str) -> Vec<Pin> {
    let Ok(wanted) = normalise(package) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for (file, text) in project.requirements() {
        for entry in entries(text) {
            if entry.requirement.name == wanted {
                found.push(Pin {
                    file: file.to_owned(),
                    line: entry.line,
                    requirement: entry.requirement,
                });
            }
        }
    }
    for (file, text) in project.named(|n| n == "pyproject.toml") {
        let Ok(doc) = toml::from_str::<toml::Value>(text) else {
            continue;
        };
        let deps = doc
            .get("project")
            .and_then(|p| p.get("dependencies"))
            .and_then(toml::Value::as_array);
        for dep in deps.into_iter().flatten().filter_map(toml::Value::as_str) {
            let line = text
                .lines()
                .position(|l| l.contains(dep))
                .map_or(0, |i| i + 1);
            push(&mut found, file, line, dep, &wanted);
        }
    }
    found
}

fn push(found: &mut Vec<Pin>, file: &str, line: usize, text: &str, wanted: &str) {
    if let Ok(requirement) = Requirement::parse(text) {
        if requirement.name == wanted {
            found.push(Pin {
                file: file.to_owned(),
                line,
                requirement,
            });
        }
    }
}

/// The first requirement on `package` that allows only versions from `version` on.
pub(crate) fn proven_at_least(project: &Project, package: &str, version: &str) -> Option<Pin> {
    pins(project, package)
        .into_iter()
        .find(|p| p.at_least(version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_floor_is_proven_only_by_a_lower_bound_at_or_above_it() {
        let project = Project::from_files(&[
            (
                "requirements.txt",
                "fastapi\nqdrant_client>=1.16.2 # vectors\nhuggingface-hub\n",
            ),
            (
                "pyproject.toml",
                "[project]\nname = \"x\"\ndependencies = [\n  \"huggingface_hub==0.25.2\",\n]\n",
            ),
        ]);
        let pin = proven_at_least(&project, "qdrant-client", "1.16.0").unwrap();
        assert_eq!((pin.file.as_str(), pin.line), ("requirements.txt", 2));
        assert!(proven_at_least(&project, "qdrant-client", "1.17.0").is_none());
        assert!(proven_at_least(&project, "huggingface-hub", "0.26.0").is_none());
        let hub = pins(&project, "huggingface_hub");
        assert_eq!(hub.len(), 2);
        assert_eq!((hub[1].file.as_str(), hub[1].line), ("pyproject.toml", 4));
        assert!(hub[1].at_least("0.25.0") && !hub[1].at_least("0.26.0"));
    }

    #[test]
    fn a_hashed_requirement_continued_on_the_next_lines_is_a_pin() {
        let project = Project::from_files(&[(
            "requirements.txt",
            "# The async Postgres driver
asyncpg==0.32.0 \\
    --hash=sha256:aa \\
    --hash=sha256:bb
qdrant-client>=1.16.2 \\
    --hash=sha256:cc
",
        )]);
        let asyncpg = pins(&project, "asyncpg");
        assert_eq!(asyncpg.len(), 1);
        assert_eq!(
            (asyncpg[0].file.as_str(), asyncpg[0].line),
            ("requirements.txt", 2)
        );
        assert!(proven_at_least(&project, "qdrant-client", "1.16.0").is_some());
    }
}

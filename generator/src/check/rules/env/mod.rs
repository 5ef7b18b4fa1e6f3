//! The environment variables the code reads, against what `.env.example` documents.
//! Reads are `os.environ["X"]`, `os.environ.get("X")`, `os.getenv("X")` (and `environ`/`getenv`
//! imported from `os`) with a literal name, and the fields of pydantic `BaseSettings` classes
//! (`env_prefix`, `alias`, `validation_alias`, `AliasChoices`). Names computed at run time are
//! never guessed. Code under `tests/`, and modules the Space does not serve (see
//! [`super::served`]), do not count.

use std::collections::{BTreeMap, BTreeSet};

pub(super) mod env_example_incomplete;

use super::Facts;
use crate::check::dockerfile;
use crate::check::python::{Class, Field, Kind, Module, Place};

/// Variables the platform or the image provides: a Space sets `SPACE_*`, `ACCELERATOR`,
/// `CPU_CORES`, `MEMORY` and `OAUTH_*` (with OAuth) at run time (hub-docs:
/// docs/hub/spaces-overview.md, "Helper environment variables"); the base image and the shell
/// set `HOME`, `PATH`, `HOSTNAME`; `PORT`, `HOST`, `HF_HOME` and `PYTHONPATH` are the server's
/// and the image's own, not the deployer's, settings.
pub(super) const PROVIDED: &[&str] = &[
    "PORT",
    "HOST",
    "HOSTNAME",
    "HOME",
    "PATH",
    "PYTHONPATH",
    "HF_HOME",
    "SPACE_ID",
    "SPACE_HOST",
    "SPACE_AUTHOR_NAME",
    "SPACE_REPO_NAME",
    "SPACE_TITLE",
    "SPACE_CREATOR_USER_ID",
    "ACCELERATOR",
    "CPU_CORES",
    "MEMORY",
    // Set by other hosts to say where the code runs; code tests them, no deployer sets them.
    "RENDER",
    "VERCEL",
    "DYNO",
    "KUBERNETES_SERVICE_HOST",
    "AWS_LAMBDA_FUNCTION_NAME",
    "CI",
];

/// Prefixes of variables the platform sets (on a Space, `OAUTH_*`; on the other hosts a
/// project may also deploy to, the variables they set to say so: Render's `RENDER_*`,
/// Vercel's `VERCEL_*`, Railway's `RAILWAY_*`, Fly's `FLY_*`, Cloud Run's `K_*`).
pub(super) const PROVIDED_PREFIXES: &[&str] =
    &["OAUTH_", "RENDER_", "VERCEL_", "RAILWAY_", "FLY_", "K_"];

/// One variable the code reads: the names any of which documents it.
pub(super) struct Read<'a> {
    file: &'a str,
    place: Place,
    /// Each name with whether it is compared without case.
    names: Vec<(String, bool)>,
    /// Documented by any line starting with this (a nested settings field).
    nested_prefix: Option<(String, bool)>,
}

impl Read<'_> {
    fn shown(&self) -> &str {
        self.names.first().map_or("", |(n, _)| n.as_str())
    }
}

/// The names `.env`-style text documents: `NAME=`, `export NAME=`, `# NAME=`.
pub(super) fn documented(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim_start().trim_start_matches('#').trim_start();
            let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
            let (name, _) = line.split_once('=')?;
            let name = name.trim_end();
            let ok =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            ok.then(|| name.to_owned())
        })
        .collect()
}

/// What the platform and the Dockerfiles' `ENV` provide.
pub(super) fn provided(facts: &Facts<'_>) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = PROVIDED.iter().map(|n| (*n).to_owned()).collect();
    for (_, text) in facts.project.dockerfiles() {
        for instruction in dockerfile::parse(text).instructions {
            if !instruction.keyword.eq_ignore_ascii_case("ENV") {
                continue;
            }
            let text = instruction.text();
            let words: Vec<&str> = text.split_whitespace().collect();
            match words.first() {
                Some(first) if !first.contains('=') => {
                    names.insert((*first).to_owned());
                }
                _ => {
                    for word in words {
                        if let Some((name, _)) = word.split_once('=') {
                            names.insert(name.to_owned());
                        }
                    }
                }
            }
        }
    }
    names
}

/// `os.environ[…]`, `os.environ.get(…)`, `os.getenv(…)` and their `from os import` forms.
pub(super) fn os_reads<'a>(file: &'a str, module: &Module) -> Vec<Read<'a>> {
    let from_os = |name: &str| {
        module
            .imports
            .iter()
            .any(|i| i.module == "os" && i.name.as_deref() == Some(name))
    };
    let environ = from_os("environ");
    let getenv = from_os("getenv");
    let mut reads = Vec::new();
    let mut add = |name: &str, place: Place| {
        reads.push(Read {
            file,
            place,
            names: vec![(name.to_owned(), false)],
            nested_prefix: None,
        });
    };
    for call in &module.calls {
        let reads_env = match call.name.as_str() {
            "os.getenv" | "os.environ.get" => true,
            "getenv" => getenv,
            "environ.get" => environ,
            _ => false,
        };
        if let Some(name) = call
            .arg(0, "key")
            .and_then(|v| v.as_str())
            .filter(|_| reads_env)
        {
            add(name, call.place);
        }
    }
    for (target, key, place) in &module.subscripts {
        if target == "os.environ" || (environ && target == "environ") {
            add(key, *place);
        }
    }
    reads
}

/// The fields of every `BaseSettings` subclass (directly or through another settings class of
/// the project) that no other settings class extends, with the fields it inherits (a subclass's
/// field overrides its parent's) and the configuration it has or inherits. A field is reported
/// where it is declared.
pub(super) fn settings_reads<'a>(served: &[(&'a str, &'a Module)]) -> Vec<Read<'a>> {
    let classes: BTreeMap<&str, (&'a str, &'a Class)> = served
        .iter()
        .flat_map(|(file, m)| m.classes.iter().map(move |c| (c.name.as_str(), (*file, c))))
        .collect();
    let parent = |class: &Class| {
        class
            .bases
            .iter()
            .find_map(|b| classes.get(b.rsplit('.').next().unwrap_or(b)).copied())
    };
    // A class's chain of ancestors, itself first, up to `BaseSettings`; `None` when it is no
    // settings class.
    let chain = |file: &'a str, class: &'a Class| {
        let mut chain = vec![(file, class)];
        let mut current = class;
        for _ in 0..32 {
            if current
                .bases
                .iter()
                .any(|b| b.rsplit('.').next() == Some("BaseSettings"))
            {
                return Some(chain);
            }
            let next = parent(current)?;
            chain.push(next);
            current = next.1;
        }
        None
    };
    let settings: Vec<Vec<(&'a str, &'a Class)>> = served
        .iter()
        .flat_map(|(file, m)| m.classes.iter().map(move |c| (*file, c)))
        .filter_map(|(file, c)| chain(file, c))
        .collect();
    // A settings class another one extends is read through the one that extends it.
    let extended: BTreeSet<*const Class> = settings
        .iter()
        .flat_map(|chain| chain.iter().skip(1).map(|(_, c)| *c as *const Class))
        .collect();
    let mut reads: Vec<Read<'a>> = Vec::new();
    let mut seen = BTreeSet::new();
    for chain in settings {
        if extended.contains(&(chain[0].1 as *const Class)) {
            continue;
        }
        let setting = |key: &str| {
            chain
                .iter()
                .find_map(|(_, c)| c.config.iter().find(|(k, _)| k == key).map(|(_, v)| v))
        };
        let prefix = match setting("env_prefix").map(|v| &v.kind) {
            None => String::new(),
            Some(Kind::Str(p)) => p.clone(),
            // A prefix computed at run time: the names are not known.
            Some(_) => continue,
        };
        let nocase = !matches!(
            setting("case_sensitive").map(|v| &v.kind),
            Some(Kind::Bool(true))
        );
        let delimiter = match setting("env_nested_delimiter").map(|v| &v.kind) {
            Some(Kind::Str(d)) if !d.is_empty() => Some(d.clone()),
            _ => None,
        };
        // Each field once, from the class nearest the leaf that declares it.
        let mut fields: BTreeMap<&str, (&'a str, &'a Field)> = BTreeMap::new();
        for (file, class) in &chain {
            for field in &class.fields {
                fields.entry(field.name.as_str()).or_insert((file, field));
            }
        }
        for (file, field) in fields.into_values() {
            if field.name.starts_with('_') {
                continue;
            }
            let Some(aliases) = &field.aliases else {
                continue;
            };
            let names: Vec<String> = if aliases.is_empty() {
                vec![format!("{prefix}{}", field.name)]
            } else {
                aliases.clone()
            };
            let names: Vec<(String, bool)> = names
                .into_iter()
                .map(|n| (if nocase { n.to_ascii_uppercase() } else { n }, nocase))
                .collect();
            if !seen.insert((file, field.place.line, names[0].0.clone())) {
                continue;
            }
            let nested_prefix = delimiter
                .as_ref()
                .map(|d| (format!("{}{d}", names[0].0), nocase));
            reads.push(Read {
                file,
                place: field.place,
                names,
                nested_prefix,
            });
        }
    }
    reads
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(files: &[(&str, &str)]) -> Vec<(&'static str, usize)> {
        super::super::found_by("env", files)
    }

    #[test]
    fn example_lines_document_names_commented_or_exported() {
        assert_eq!(
            documented("A=1\n# B=\n  export C=x\n#D = 2\nnot a line\n=x\n# a comment: E=1\n"),
            vec!["A", "B", "C", "D"]
        );
    }

    #[test]
    fn only_literal_reads_of_the_served_code_count() {
        let code = "import os\nfrom os import environ\nA = os.environ['A']\nB = environ.get('B')\nC = os.getenv(name)\nos.environ['D'] = '1'\nE = os.getenv('PORT')\n";
        assert_eq!(found(&[("app.py", code)]), vec![("SG220", 0)]);
        let documented = [("app.py", code), (".env.example", "A=\n# B=\n")];
        assert_eq!(found(&documented), vec![]);
        let partly = [("app.py", code), ("example.env", "B=\n")];
        assert_eq!(found(&partly), vec![("SG220", 3)]);
        let tests = [("tests/test_app.py", code), ("app/conftest.py", code)];
        assert_eq!(found(&tests), vec![]);
        // `environ` and `getenv` not imported from `os` are something else.
        let other = [(
            "app.py",
            "from app import environ, getenv\nx = environ['A']\ny = getenv('B')\n",
        )];
        assert_eq!(found(&other), vec![]);
    }

    #[test]
    fn settings_fields_use_prefix_aliases_and_inheritance() {
        let code = "from pydantic_settings import BaseSettings, SettingsConfigDict\n\
                    from pydantic import Field, AliasChoices\n\
                    class S(BaseSettings):\n    model_config = SettingsConfigDict(env_prefix='APP_', case_sensitive=True)\n    \
                    url: str = ''\n    key: str = Field('', alias='OPENAI_API_KEY')\n    \
                    other: str = Field('', validation_alias=AliasChoices('X1', 'X2'))\n    \
                    dyn: str = Field('', alias=NAME)\n\
                    class T(S):\n    extra: int = 1\n    url: str = Field('', alias='T_URL')\n\
                    class Plain:\n    not_read: str = ''\n\
                    class U(BaseSettings):\n    NAME: ClassVar[str] = 'X'\n";
        let env = [
            ("config.py", code),
            (".env.example", "app_url=\nOPENAI_API_KEY=\nX2=\n"),
        ];
        // T, the class read, overrides `url` with an alias.
        assert_eq!(found(&env), vec![("SG220", 10), ("SG220", 11)]);
        // With case_sensitive=True the field name keeps its case.
        let all = [
            ("config.py", code),
            (".env.example", "T_URL=\nOPENAI_API_KEY=\nX2=\nAPP_extra=\n"),
        ];
        assert_eq!(found(&all), vec![]);
    }

    #[test]
    fn only_served_modules_count() {
        let docker = "FROM python:3.12\nCOPY . .\nCMD uvicorn main:app\n";
        let main =
            "import os\nfrom fastapi import FastAPI\napp = FastAPI()\nKEY = os.getenv('API_KEY')\n";
        let script = "import os\nTOKEN = os.environ['SEED_TOKEN']\n";
        let files = [
            ("Dockerfile", docker),
            ("main.py", main),
            ("seed.py", script),
            (".env.example", "API_KEY=\n"),
        ];
        assert_eq!(found(&files), vec![]);
        let served = [
            ("Dockerfile", docker),
            ("main.py", script),
            (".env.example", ""),
        ];
        assert_eq!(found(&served), vec![("SG220", 2)]);
    }

    #[test]
    fn dockerfile_env_and_platform_variables_are_provided() {
        let code = "import os\na = os.environ['SPACE_ID']\nb = os.getenv('MODEL_DIR')\nc = os.getenv('OAUTH_CLIENT_ID')\nd = os.getenv('LOG_LEVEL')\ne = os.getenv('RENDER')\nf = os.getenv('VERCEL_URL')\n";
        let files = [
            ("app.py", code),
            (
                "Dockerfile",
                "FROM python:3.12\nENV MODEL_DIR=/m \\\n    X=1\nENV LOG_LEVEL info\n",
            ),
        ];
        assert_eq!(found(&files), vec![]);
    }
}

//! How the database schema is made and changed: `metadata.create_all` against a Postgres that
//! outlives the container with no migrations, and models that Alembic's revisions do not
//! build. The revisions are read from the folders `alembic.ini` names (`script_location`'s
//! `versions`, or `version_locations`), or, without one, from `migrations/versions/` and
//! `alembic/versions/` folders. The rules conclude only from revisions they can follow whole
//! (see [`revisions`]), models they can read (see [`models`]), and say nothing otherwise.

pub(super) mod create_all_on_postgres;
pub(super) mod model_without_revision;
mod models;
mod revisions;

use std::collections::BTreeMap;

use super::{is_test, Facts};
use crate::check::pins::pins;
use crate::check::python::{Import, Kind, Module, Place};
use crate::check::Project;

/// A `metadata.create_all` call: `Base.metadata.create_all(engine)`, or the method passed to
/// `conn.run_sync(SQLModel.metadata.create_all)`.
struct CreateAll<'a> {
    pub file: &'a str,
    pub place: Place,
    /// As written: `SQLModel.metadata.create_all`.
    pub name: String,
}

/// Every `metadata.create_all` of the project's code (tests left out).
fn create_all_calls<'a>(facts: &'a Facts<'_>) -> Vec<CreateAll<'a>> {
    let on_metadata = |name: &str| {
        name.strip_suffix(".create_all")
            .is_some_and(|r| r == "metadata" || r.ends_with(".metadata"))
    };
    let mut found = Vec::new();
    for (file, module) in facts.python.iter().filter(|(f, _)| !is_test(f)) {
        for call in &module.calls {
            if on_metadata(&call.name) {
                found.push(CreateAll {
                    file,
                    place: call.place,
                    name: call.name.clone(),
                });
            }
            for arg in &call.args {
                if let Kind::Name(name) = &arg.kind {
                    if on_metadata(name) {
                        found.push(CreateAll {
                            file,
                            place: arg.place,
                            name: name.clone(),
                        });
                    }
                }
            }
        }
    }
    found
}

/// Whether the project has a migration tool: Alembic among its requirements, an
/// `alembic.ini`, or a `migrations/` or `alembic/` folder.
fn has_migrations(project: &Project) -> bool {
    !pins(project, "alembic").is_empty()
        || project.files().any(|(path, _)| {
            path == "alembic.ini"
                || path.ends_with("/alembic.ini")
                || path
                    .split('/')
                    .rev()
                    .skip(1)
                    .any(|folder| folder == "migrations" || folder == "alembic")
        })
}

/// A project's Alembic revisions, every one of them followed.
struct Alembic {
    pub revisions: Vec<revisions::Revision>,
    /// The folders of the revision files.
    pub folders: Vec<String>,
}

/// The project's Alembic revisions, when it has some and every one can be followed (with the
/// project's modules they import); `None` otherwise.
fn alembic(facts: &Facts<'_>) -> Option<Alembic> {
    let folders = version_folders(facts.project)?;
    let files: Vec<&str> = facts
        .project
        .python()
        .map(|(path, _)| path)
        .filter(|path| {
            let name = path.rsplit('/').next().unwrap_or(path);
            name != "__init__.py" && inside_any(path, &folders)
        })
        .collect();
    if files.is_empty() {
        return None;
    }
    let mut revisions = Vec::new();
    for file in &files {
        let module = parsed(facts, file)?;
        revisions.push(revisions::read(module).ok()?);
        for helper in imported(facts, file, &module.imports) {
            let changes = parsed(facts, helper).map(revisions::read);
            if !matches!(changes, Some(Ok(r)) if r.ops.is_empty()) {
                return None;
            }
        }
    }
    Some(Alembic { revisions, folders })
}

/// The parsed module of a project file; `None` when it did not parse.
fn parsed<'a>(facts: &'a Facts<'_>, file: &str) -> Option<&'a Module> {
    facts
        .python
        .iter()
        .find(|(f, _)| *f == file)
        .map(|(_, m)| m)
}

/// The project's Python files a file's imports name (`from app.schema import adopt` names
/// `app/schema.py`, wherever `app` is), itself left out.
fn imported<'a>(facts: &'a Facts<'_>, file: &str, imports: &[Import]) -> Vec<&'a str> {
    let folder = file.rsplit_once('/').map_or("", |(d, _)| d);
    let mut wanted = Vec::new();
    for import in imports {
        let mut base = import.module.replace('.', "/");
        if import.level > 0 {
            let mut dir: Vec<&str> = folder.split('/').filter(|s| !s.is_empty()).collect();
            for _ in 1..import.level {
                dir.pop();
            }
            dir.extend(base.split('/').filter(|s| !s.is_empty()));
            base = dir.join("/");
        }
        let named = import.name.as_ref().map(|n| join(&base, n));
        for path in std::iter::once(base).chain(named) {
            if !path.is_empty() {
                wanted.push(format!("{path}.py"));
                wanted.push(format!("{path}/__init__.py"));
            }
        }
    }
    facts
        .project
        .python()
        .map(|(path, _)| path)
        .filter(|path| *path != file)
        .filter(|path| {
            wanted
                .iter()
                .any(|w| path == w || path.ends_with(&format!("/{w}")))
        })
        .collect()
}

/// Whether `path` is below one of `folders` (`""` is the root).
fn inside_any(path: &str, folders: &[String]) -> bool {
    folders.iter().any(|folder| {
        folder.is_empty()
            || path
                .strip_prefix(folder.as_str())
                .is_some_and(|r| r.starts_with('/'))
    })
}

/// The folders holding the revisions: those `alembic.ini` names, or, with no `alembic.ini`,
/// every `migrations/versions` and `alembic/versions` folder with Python in it. `None` when an
/// `alembic.ini` names a folder this reading cannot place (a package resource, an absolute
/// path, an interpolation).
fn version_folders(project: &Project) -> Option<Vec<String>> {
    let inis: Vec<(&str, &str)> = project.named(|n| n == "alembic.ini").collect();
    if inis.is_empty() {
        let mut folders: Vec<String> = project
            .python()
            .filter_map(|(path, _)| path.rsplit_once('/').map(|(d, _)| d))
            .filter(|d| {
                ["migrations/versions", "alembic/versions"]
                    .iter()
                    .any(|v| *d == *v || d.ends_with(&format!("/{v}")))
            })
            .map(str::to_owned)
            .collect();
        folders.dedup();
        return Some(folders);
    }
    let mut folders = Vec::new();
    for (path, text) in inis {
        let here = path.rsplit_once('/').map_or("", |(d, _)| d);
        for section in ini_sections(text) {
            let Some(script) = section.get("script_location") else {
                continue;
            };
            match section.get("version_locations") {
                Some(locations) => {
                    for location in locations
                        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':'))
                        .filter(|l| !l.is_empty())
                    {
                        folders.push(place(here, location)?);
                    }
                }
                None => folders.push(join(&place(here, script)?, "versions")),
            }
        }
    }
    Some(folders)
}

/// The sections of an ini file, each as its keys and values (continuation lines joined).
fn ini_sections(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut sections: Vec<BTreeMap<String, String>> = vec![BTreeMap::new()];
    let mut last: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if trimmed.starts_with('[') {
            sections.push(BTreeMap::new());
            last = None;
            continue;
        }
        let Some(section) = sections.last_mut() else {
            continue;
        };
        if line.starts_with(char::is_whitespace) {
            if let Some(value) = last.as_ref().and_then(|k| section.get_mut(k)) {
                value.push(' ');
                value.push_str(trimmed);
            }
            continue;
        }
        if let Some((key, value)) = trimmed.split_once(['=', ':']) {
            let key = key.trim().to_owned();
            section.insert(key.clone(), value.trim().to_owned());
            last = Some(key);
        }
    }
    sections
}

/// A folder an `alembic.ini` in `here` names (`%(here)s/app/migrations`, or relative to
/// `here`), from the project's root; `None` when it cannot be placed (a package resource, an
/// absolute path, another interpolation, a climb above the root).
fn place(here: &str, location: &str) -> Option<String> {
    let location = location.replace('\\', "/");
    let relative = location.strip_prefix("%(here)s").unwrap_or(&location);
    if relative.contains("%(") || relative.contains(['$', ':']) || location.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in here.split('/').chain(relative.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

/// `folder/name`, `folder` being `""` for the root.
fn join(folder: &str, name: &str) -> String {
    if folder.is_empty() {
        name.to_owned()
    } else {
        format!("{folder}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alembic_ini_places_the_versions_folder() {
        let ini = "[alembic]\nscript_location = %(here)s/app/migrations\nprepend_sys_path = .\n";
        let project = Project::from_files(&[("backend/alembic.ini", ini)]);
        assert_eq!(
            version_folders(&project),
            Some(vec!["backend/app/migrations/versions".to_owned()])
        );
        let ini = "[alembic]\nscript_location = migrations\nversion_locations = %(here)s/a/versions %(here)s/b\n";
        let project = Project::from_files(&[("alembic.ini", ini)]);
        assert_eq!(
            version_folders(&project),
            Some(vec!["a/versions".to_owned(), "b".to_owned()])
        );
        let ini = "[alembic]\nscript_location = myapp:migrations\n";
        let project = Project::from_files(&[("alembic.ini", ini)]);
        assert_eq!(version_folders(&project), None);
        let project = Project::from_files(&[
            ("src/alembic/versions/0001_init.py", ""),
            ("other/versions/x.py", ""),
        ]);
        assert_eq!(
            version_folders(&project),
            Some(vec!["src/alembic/versions".to_owned()])
        );
    }
}

//! The schema revisions an update brings: the Alembic revision files (`…/migrations/versions/
//! *.py`) it creates, each with its `revision` id: what the project's next start applies to its
//! database (or `alembic upgrade heads`, by hand). Nothing here touches the disk.

use super::merge::{Action, FileUpdate};
use crate::check::python::Module;

/// Whether `path` is an Alembic revision file.
fn is_revision_file(path: &str) -> bool {
    let Some((folder, name)) = path.rsplit_once('/') else {
        return false;
    };
    (folder == "migrations/versions" || folder.ends_with("/migrations/versions"))
        && name.ends_with(".py")
        && !name.starts_with('_')
}

/// The ids of the revisions the update adds, in path order; a revision file whose id is not a
/// literal string is named by its path.
pub(crate) fn added(files: &[FileUpdate]) -> Vec<String> {
    files
        .iter()
        .filter(|f| f.action == Action::Create && is_revision_file(&f.path))
        .filter_map(|f| {
            let after = f.after.as_ref()?;
            let text = String::from_utf8_lossy(&after.contents);
            let id = Module::parse(&text).and_then(|module| {
                module
                    .assigns
                    .iter()
                    .filter(|a| a.module_level && a.target == "revision")
                    .find_map(|a| a.value.as_str().map(str::to_owned))
            });
            Some(id.unwrap_or_else(|| f.path.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::project::plan::PlannedFile;

    fn file(path: &str, action: Action, text: &str) -> FileUpdate {
        FileUpdate {
            path: path.to_owned(),
            action,
            after: Some(PlannedFile {
                contents: Arc::from(text.as_bytes()),
                executable: false,
            }),
            before: None,
        }
    }

    #[test]
    fn created_revision_files_are_named_by_their_ids() {
        let files = [
            file(
                "app/migrations/versions/base_0002_x.py",
                Action::Create,
                "revision: str = \"base_0002\"\ndown_revision = \"base_0001\"\n",
            ),
            file(
                "app/migrations/versions/legacy.py",
                Action::Create,
                "revision = 'abc123'\n",
            ),
            // Not created by the update, not a revision file, or no literal id.
            file(
                "app/migrations/versions/base_0001.py",
                Action::Replace,
                "revision = \"base_0001\"\n",
            ),
            file("app/migrations/env.py", Action::Create, "revision = 'no'\n"),
            file("app/migrations/versions/__init__.py", Action::Create, ""),
            file(
                "app/migrations/versions/odd.py",
                Action::Create,
                "revision = make_id()\n",
            ),
            file("app/main.py", Action::Create, "revision = 'no'\n"),
        ];
        assert_eq!(
            added(&files),
            ["base_0002", "abc123", "app/migrations/versions/odd.py"]
        );
    }
}

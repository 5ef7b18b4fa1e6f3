//! Writing a plan to disk, atomically.
//!
//! A new project is written into a temporary folder next to the destination and renamed into
//! place, so an interrupted run leaves no half-written project. Writing into an existing folder
//! (`--force`) stages every file first and then replaces files one by one with atomic renames;
//! files the plan does not produce are never touched. Nothing here renders anything.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::plan::{Plan, PlannedFile};
use crate::error::{Error, Result};

const STAGING_PREFIX: &str = ".spacegen-staging-";

/// What a destination holds before writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Destination {
    /// Missing or an empty folder.
    Fresh,
    /// A folder with content; the plan's files that already exist there are listed.
    Existing { overwritten: Vec<String> },
}

/// Inspects `dest` without changing anything, and refuses what cannot be written safely:
/// a destination that is a file, and any symbolic link or type clash on a planned path.
pub(crate) fn inspect(plan: &Plan, dest: &Path) -> Result<Destination> {
    let meta = match fs::symlink_metadata(dest) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Destination::Fresh),
        // A path through a file (`a-file/sub`) can never be a folder: bad input, not a failure.
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            return Err(Error::Destination(format!(
                "destination {} is inside a file, not a folder; choose another path",
                dest.display()
            )))
        }
        Err(e) => return Err(Error::io("inspect", dest, e)),
    };
    let dest_is_dir = meta.is_dir() || (meta.file_type().is_symlink() && dest.is_dir());
    if !dest_is_dir {
        return Err(Error::Destination(format!(
            "destination {} exists and is not a folder; choose another path",
            dest.display()
        )));
    }
    let mut entries = fs::read_dir(dest).map_err(|e| Error::io("read", dest, e))?;
    if entries.next().is_none() {
        return Ok(Destination::Fresh);
    }
    let mut problems = Vec::new();
    let mut overwritten = Vec::new();
    for path in plan.files().keys() {
        let segments: Vec<&str> = path.split('/').collect();
        let mut current = dest.to_path_buf();
        for (i, segment) in segments.iter().enumerate() {
            current.push(segment);
            let last = i + 1 == segments.len();
            match fs::symlink_metadata(&current) {
                Err(_) => break,
                Ok(m) if m.file_type().is_symlink() => {
                    problems.push(format!(
                        "{} is a symbolic link; spacegen does not write through links",
                        current.display()
                    ));
                    break;
                }
                Ok(m) if !last && !m.is_dir() => {
                    problems.push(format!(
                        "{} is a file, but {path} needs it to be a folder",
                        current.display()
                    ));
                    break;
                }
                Ok(m) if last && m.is_dir() => {
                    problems.push(format!(
                        "{} is a folder, but the blueprint writes a file there",
                        current.display()
                    ));
                }
                Ok(_) if last => overwritten.push(path.clone()),
                Ok(_) => {}
            }
        }
    }
    // Several planned files below one link or file give the same problem: report it once.
    let mut seen = std::collections::BTreeSet::new();
    problems.retain(|p| seen.insert(p.clone()));
    if !problems.is_empty() {
        return Err(Error::Destination(format!(
            "cannot write into {}:\n  - {}",
            dest.display(),
            problems.join("\n  - ")
        )));
    }
    Ok(Destination::Existing { overwritten })
}

/// Writes `plan` to `dest`. An existing non-empty folder is refused unless `force`.
pub(crate) fn write(plan: &Plan, dest: &Path, force: bool) -> Result<Destination> {
    let state = inspect(plan, dest)?;
    match &state {
        Destination::Fresh => write_fresh(plan, dest)?,
        Destination::Existing { .. } if !force => return Err(Error::NotEmpty(dest.to_path_buf())),
        Destination::Existing { .. } => write_into(plan, dest)?,
    }
    Ok(state)
}

fn parent_of(dest: &Path) -> Result<PathBuf> {
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| Error::io("create folder", &parent, e))?;
    Ok(parent)
}

fn staging(parent: &Path) -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(parent)
        .map_err(|e| Error::io("create a staging folder in", parent, e))
}

fn write_fresh(plan: &Plan, dest: &Path) -> Result<()> {
    let parent = parent_of(dest)?;
    let stage = staging(&parent)?;
    for (path, file) in plan.files() {
        put(&stage.path().join(path), file)?;
    }
    set_dir_mode(stage.path())?;
    // An empty destination folder is replaced; rename refuses a non-empty one, so nothing the
    // user had can be lost here.
    if dest.is_dir() {
        fs::remove_dir(dest).map_err(|e| Error::io("replace the empty folder", dest, e))?;
    }
    let staged = stage.keep();
    fs::rename(&staged, dest).map_err(|e| {
        let _ = fs::remove_dir_all(&staged);
        Error::io("move the project into", dest, e)
    })
}

fn write_into(plan: &Plan, dest: &Path) -> Result<()> {
    let stage = staging(&parent_of(dest)?)?;
    for (i, (_, file)) in plan.files().iter().enumerate() {
        put(&stage.path().join(i.to_string()), file)?;
    }
    for (i, (path, _)) in plan.files().iter().enumerate() {
        let target = dest.join(path);
        if let Some(dir) = target.parent() {
            create_dirs(dest, dir)?;
        }
        fs::rename(stage.path().join(i.to_string()), &target)
            .map_err(|e| Error::io("replace", &target, e))?;
    }
    Ok(())
}

/// Creates `dir` and its missing parents below `root` with mode 0755.
fn create_dirs(root: &Path, dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        if parent != root {
            create_dirs(root, parent)?;
        }
    }
    fs::create_dir(dir).map_err(|e| Error::io("create folder", dir, e))?;
    set_mode(dir, 0o755)
}

fn put(path: &Path, file: &PlannedFile) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| Error::io("create folder", dir, e))?;
    }
    let mut f = fs::File::create(path).map_err(|e| Error::io("create", path, e))?;
    f.write_all(&file.contents)
        .map_err(|e| Error::io("write", path, e))?;
    f.sync_all().map_err(|e| Error::io("flush", path, e))?;
    set_mode(path, file.mode())
}

fn set_dir_mode(root: &Path) -> Result<()> {
    for entry in walkdir::WalkDir::new(root) {
        let entry = entry.map_err(|e| Error::io("read", root, e.into()))?;
        if entry.file_type().is_dir() {
            set_mode(entry.path(), 0o755)?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io("set the mode of", path, e))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(files: &[(&str, &str)]) -> Plan {
        let mut p = Plan::default();
        for (path, text) in files {
            p.insert(
                path.to_string(),
                PlannedFile {
                    contents: text.as_bytes().to_vec(),
                    executable: path.ends_with(".sh"),
                },
                "t",
            )
            .unwrap();
        }
        p
    }

    #[test]
    fn fresh_write_creates_everything_with_fixed_modes() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a/b/project");
        write(&plan(&[("x/y.txt", "1"), ("run.sh", "2")]), &dest, false).unwrap();
        assert_eq!(fs::read_to_string(dest.join("x/y.txt")).unwrap(), "1");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dest.join("run.sh")), 0o755);
            assert_eq!(mode(&dest.join("x/y.txt")), 0o644);
            assert_eq!(mode(&dest.join("x")), 0o755);
        }
        let leftovers: Vec<_> = fs::read_dir(dest.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "staging folder left behind");
    }

    #[test]
    fn non_empty_destination_needs_force_and_keeps_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("p");
        fs::create_dir_all(&dest).unwrap();
        fs::write(dest.join("mine.txt"), "keep").unwrap();
        fs::write(dest.join("a.txt"), "old").unwrap();
        let p = plan(&[("a.txt", "new"), ("d/b.txt", "b")]);
        let err = write(&p, &dest, false).unwrap_err();
        assert!(matches!(err, Error::NotEmpty(_)), "{err}");
        assert_eq!(fs::read_to_string(dest.join("a.txt")).unwrap(), "old");
        let state = write(&p, &dest, true).unwrap();
        assert_eq!(
            state,
            Destination::Existing {
                overwritten: vec!["a.txt".into()]
            }
        );
        assert_eq!(fs::read_to_string(dest.join("a.txt")).unwrap(), "new");
        assert_eq!(fs::read_to_string(dest.join("mine.txt")).unwrap(), "keep");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "staging folder left behind"
        );
    }

    #[test]
    fn empty_destination_folder_is_fresh() {
        let dir = tempfile::tempdir().unwrap();
        write(&plan(&[("a", "1")]), dir.path(), false).unwrap();
        assert_eq!(fs::read_to_string(dir.path().join("a")).unwrap(), "1");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_inside_the_destination_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let dest = dir.path().join("p");
        fs::create_dir_all(&dest).unwrap();
        std::os::unix::fs::symlink(outside.path(), dest.join("app")).unwrap();
        let err = write(&plan(&[("app/main.py", "x")]), &dest, true).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_file_as_destination_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("f");
        fs::write(&dest, "x").unwrap();
        assert!(write(&plan(&[("a", "1")]), &dest, true).is_err());
    }
}

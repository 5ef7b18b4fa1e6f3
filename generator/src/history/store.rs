//! The history folder on disk: `releases.toml` and `objects/`.
//!
//! `spacegen lock` records there the release of every blueprint it locked (one per version: a
//! version not yet released is replaced each time it is locked again, and a version keeps its
//! last state once the blueprint moves on), and `spacegen history record` does the same from
//! another blueprint folder and lock, e.g. an older checkout. Objects are written before the
//! index that names them and removed only after no index names them, each replace atomic, so
//! an interrupted run leaves a history that is whole (at worst with objects nobody names,
//! which the next run removes).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::pack::is_object_name;
use crate::blueprint::hash::{sha256, tree_hash};
use crate::blueprint::source::FileTree;
use crate::error::{Error, Result};
use crate::lock::{LockedArtifact, LockedBlueprint};

/// The index's file name.
pub(crate) const INDEX: &str = "releases.toml";
/// The objects' folder name.
pub(crate) const OBJECTS: &str = "objects";
/// The history folder's name, beside `spaces.lock`.
pub(crate) const FOLDER: &str = "history";
/// The index format this spacegen reads and writes.
const FORMAT: u32 = 1;

const HEADER: &str = "\
# spacegen's history: every released version of every blueprint (its folders' files and its
# entry of spaces.lock), by the sha256 of the objects in objects/. The binary embeds it, so
# `spacegen update` can render a project as it was generated.
# Written by `spacegen lock` and `spacegen history record`; do not edit it by hand.
";

/// One release of a blueprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct Release {
    pub blueprint: String,
    pub version: semver::Version,
    pub content_hash: String,
    /// The object holding its lock entry, without the artifacts.
    pub lock: String,
    /// The objects holding its lock entry's artifacts, in the entry's order.
    pub artifacts: Vec<String>,
    /// Paths (`folder/path`) of the executable files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub executable: Vec<String>,
    /// Every file of its folders, `folder/path` → object.
    pub files: BTreeMap<String, String>,
}

impl Release {
    /// Every object it names.
    pub(crate) fn objects(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.lock.as_str())
            .chain(self.artifacts.iter().map(String::as_str))
            .chain(self.files.values().map(String::as_str))
    }
}

/// The index: every release, ordered by blueprint and version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Index {
    pub format: u32,
    #[serde(default, rename = "release")]
    pub releases: Vec<Release>,
}

/// The index in `text`; `origin` names it in errors.
pub(crate) fn parse_index(text: &str, origin: &str) -> Result<Index> {
    if text.trim().is_empty() {
        return Ok(Index {
            format: FORMAT,
            releases: Vec::new(),
        });
    }
    let index: Index = toml::from_str(text)
        .map_err(|e| Error::Other(format!("{origin}: not a history index: {e}")))?;
    if index.format != FORMAT {
        return Err(Error::Other(format!(
            "{origin}: history format {} is not the {FORMAT} this spacegen reads",
            index.format
        )));
    }
    for release in &index.releases {
        if let Some(bad) = release.objects().find(|o| !is_object_name(o)) {
            return Err(Error::Other(format!(
                "{origin}: {} {} names '{bad}', which is not an object name (64 hex digits)",
                release.blueprint, release.version
            )));
        }
    }
    Ok(index)
}

/// A lock entry's object: the entry without its artifacts, as TOML.
fn entry_object(entry: &LockedBlueprint) -> Result<String> {
    let mut bare = entry.clone();
    bare.artifacts.clear();
    toml::to_string(&bare).map_err(|e| Error::Other(format!("cannot write a lock entry: {e}")))
}

/// An artifact's object, as TOML.
fn artifact_object(artifact: &LockedArtifact) -> Result<String> {
    toml::to_string(artifact).map_err(|e| Error::Other(format!("cannot write an artifact: {e}")))
}

/// The lock entry (without artifacts) an object holds.
pub(crate) fn entry_from_object(bytes: &[u8], label: &str) -> Result<LockedBlueprint> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|t| toml::from_str(t).ok())
        .ok_or_else(|| Error::Other(format!("the history of {label}: its lock entry is damaged")))
}

/// The artifact an object holds.
pub(crate) fn artifact_from_object(bytes: &[u8], label: &str) -> Result<LockedArtifact> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|t| toml::from_str(t).ok())
        .ok_or_else(|| Error::Other(format!("the history of {label}: an artifact is damaged")))
}

/// A blueprint's folders by name, layers first.
pub(crate) type Folders = Vec<(String, FileTree)>;

/// Releases made from recordings, and the objects they name.
struct Made {
    releases: Vec<Release>,
    objects: BTreeMap<String, Vec<u8>>,
}

/// What is recorded of one blueprint: its folders (the blueprint's chain, layers first, as
/// its content hash covers them) and its lock entry.
pub(crate) struct Recording<'a> {
    pub blueprint: &'a str,
    pub version: &'a semver::Version,
    pub folders: Folders,
    pub entry: &'a LockedBlueprint,
}

/// What recording changed, a line each (`sqlite-demo 0.3.0: recorded`).
pub(crate) type Changes = Vec<String>;

/// A history folder.
pub(crate) struct Store {
    dir: PathBuf,
}

impl Store {
    pub(crate) fn new(dir: &Path) -> Store {
        Store {
            dir: dir.to_path_buf(),
        }
    }

    /// The history folder beside the lock at `lock_path`, when there is one: a blueprint set
    /// keeps a history only when its maintainers made the folder.
    pub(crate) fn beside(lock_path: &Path) -> Option<Store> {
        let dir = match lock_path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.join(FOLDER),
            _ => PathBuf::from(FOLDER),
        };
        dir.is_dir().then(|| Store::new(&dir))
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    fn index_path(&self) -> PathBuf {
        self.dir.join(INDEX)
    }

    fn object_path(&self, name: &str) -> PathBuf {
        self.dir.join(OBJECTS).join(name)
    }

    /// The index (empty when there is none yet).
    pub(crate) fn index(&self) -> Result<Index> {
        let path = self.index_path();
        match std::fs::read_to_string(&path) {
            Ok(text) => parse_index(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => parse_index("", ""),
            Err(e) => Err(Error::io("read", &path, e)),
        }
    }

    /// Object `name`, checked against its name.
    pub(crate) fn object(&self, name: &str) -> Result<Arc<[u8]>> {
        let path = self.object_path(name);
        let bytes = std::fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
        if sha256(&bytes).strip_prefix("sha256:") != Some(name) {
            return Err(Error::Other(format!(
                "{} does not hash to its name: the history is damaged (take the folder from git again)",
                path.display()
            )));
        }
        Ok(Arc::from(bytes))
    }

    /// The releases `recordings` make, checked: the files must hash to the content hash the
    /// lock entry records, or the lock is not the blueprint's.
    fn releases(recordings: &[Recording<'_>]) -> Result<Made> {
        let mut objects = BTreeMap::new();
        let mut put = |bytes: Vec<u8>| -> String {
            let name = sha256(&bytes)
                .strip_prefix("sha256:")
                .unwrap_or_default()
                .to_owned();
            objects.entry(name.clone()).or_insert(bytes);
            name
        };
        let mut releases = Vec::new();
        for r in recordings {
            let trees: Vec<(&str, &FileTree)> =
                r.folders.iter().map(|(n, t)| (n.as_str(), t)).collect();
            let hash = tree_hash(&trees);
            if hash != r.entry.content_hash {
                return Err(Error::Other(format!(
                    "{} {}: its files hash to {hash}, but its lock entry is for {}: lock it first (`spacegen lock`)",
                    r.blueprint, r.version, r.entry.content_hash
                )));
            }
            let mut files = BTreeMap::new();
            let mut executable = Vec::new();
            for (folder, tree) in &r.folders {
                for (path, file) in tree {
                    let key = format!("{folder}/{path}");
                    if file.executable {
                        executable.push(key.clone());
                    }
                    files.insert(key, put(file.contents.to_vec()));
                }
            }
            let lock = put(entry_object(r.entry)?.into_bytes());
            let artifacts = r
                .entry
                .artifacts
                .iter()
                .map(|a| artifact_object(a).map(|t| put(t.into_bytes())))
                .collect::<Result<Vec<_>>>()?;
            releases.push(Release {
                blueprint: r.blueprint.to_owned(),
                version: r.version.clone(),
                content_hash: hash,
                lock,
                artifacts,
                executable,
                files,
            });
        }
        Ok(Made { releases, objects })
    }

    /// Whether the history already records `recordings` as they are; else what recording them
    /// would change.
    pub(crate) fn missing(&self, recordings: &[Recording<'_>]) -> Result<Changes> {
        let index = self.index()?;
        let Made { releases, objects } = Store::releases(recordings)?;
        let mut changes = Vec::new();
        for release in releases {
            let label = format!("{} {}", release.blueprint, release.version);
            match index
                .releases
                .iter()
                .find(|r| r.blueprint == release.blueprint && r.version == release.version)
            {
                Some(r) if *r == release => {
                    if let Some(name) = release
                        .objects()
                        .find(|o| !self.object_path(o).is_file() && objects.contains_key(*o))
                    {
                        changes.push(format!("{label}: object {name} is missing"));
                    }
                }
                Some(_) => changes.push(format!("{label}: recorded with other contents")),
                None => changes.push(format!("{label}: not recorded")),
            }
        }
        Ok(changes)
    }

    /// Records `recordings`, each replacing the release of the same blueprint and version;
    /// removes the objects no release names any more. Says what changed.
    pub(crate) fn record(&self, recordings: &[Recording<'_>]) -> Result<Changes> {
        let mut index = self.index()?;
        let Made { releases, objects } = Store::releases(recordings)?;
        let mut changes = Vec::new();
        for release in releases {
            let label = format!("{} {}", release.blueprint, release.version);
            let at = index
                .releases
                .iter()
                .position(|r| r.blueprint == release.blueprint && r.version == release.version);
            match at {
                Some(i) if index.releases[i] == release => {}
                Some(i) => {
                    index.releases[i] = release;
                    changes.push(format!("{label}: recorded again (its contents changed)"));
                }
                None => {
                    index.releases.push(release);
                    changes.push(format!("{label}: recorded"));
                }
            }
        }
        index
            .releases
            .sort_by(|a, b| (&a.blueprint, &a.version).cmp(&(&b.blueprint, &b.version)));
        let objects_dir = self.dir.join(OBJECTS);
        std::fs::create_dir_all(&objects_dir)
            .map_err(|e| Error::io("create folder", &objects_dir, e))?;
        let named: BTreeSet<&str> = index.releases.iter().flat_map(Release::objects).collect();
        for (name, bytes) in &objects {
            let path = self.object_path(name);
            if named.contains(name.as_str()) && !path.is_file() {
                crate::lock::file::replace(&path, bytes)?;
            }
        }
        let text = index_text(&index)?;
        let path = self.index_path();
        let old = std::fs::read_to_string(&path).ok();
        if old.as_deref() != Some(text.as_str()) {
            crate::lock::file::replace(&path, text.as_bytes())?;
        }
        self.prune(&named)?;
        Ok(changes)
    }

    /// Removes the objects `named` does not hold (and anything else in `objects/`).
    fn prune(&self, named: &BTreeSet<&str>) -> Result<()> {
        let dir = self.dir.join(OBJECTS);
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::io("read folder", &dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("read folder", &dir, e))?;
            let name = entry.file_name();
            if !named.contains(name.to_string_lossy().as_ref()) {
                let path = entry.path();
                std::fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
            }
        }
        Ok(())
    }
}

/// The index as written: the header, then canonical TOML.
pub(crate) fn index_text(index: &Index) -> Result<String> {
    let body = toml::to_string_pretty(index)
        .map_err(|e| Error::Other(format!("cannot write the history index: {e}")))?;
    Ok(format!("{HEADER}\n{body}"))
}

/// The folders of `bp`'s chain, layers first (as its content hash covers them), read from
/// `source`; a layer it lacks comes from the embedded blueprints, as loading takes it.
pub(crate) fn folders(
    source: &crate::blueprint::Source,
    bp: &crate::blueprint::Blueprint,
) -> Result<Folders> {
    bp.layers
        .iter()
        .chain(std::iter::once(&bp.name))
        .map(|name| {
            let tree = match source.read(name)? {
                Some(tree) => tree,
                None => crate::blueprint::Source::Embedded
                    .read(name)?
                    .ok_or_else(|| Error::Other(format!("blueprint folder '{name}' is gone")))?,
            };
            Ok((name.clone(), tree))
        })
        .collect()
}

use std::collections::BTreeMap;

use super::store::{self, Recording, Store};
use super::*;
use crate::answers::Provided;
use crate::blueprint::hash::tree_hash;
use crate::blueprint::{self, Kind};
use crate::lock::file;
use crate::project::generate;

/// Every release the binary keeps is whole: its files hash to its content hash, its lock entry
/// is for those files, it loads, and it renders with its defaults.
#[test]
fn every_embedded_release_restores_loads_and_renders() {
    let history = History::embedded().unwrap();
    assert!(!history.releases.is_empty(), "the history is empty");
    for release in &history.releases {
        let label = format!("{} {}", release.blueprint, release.version);
        let restored = history.restore(release).unwrap();
        let Source::Archived(archived) = &restored.source else {
            panic!("{label}: not an archived source");
        };
        let trees: Vec<(&str, &FileTree)> = archived
            .folders
            .iter()
            .map(|(n, t)| (n.as_str(), t))
            .collect();
        // The folders in chain order (layers first) hash to the content hash.
        let bp = blueprint::load(&restored.source, &release.blueprint).unwrap();
        let chain: Vec<(&str, &FileTree)> = bp
            .layers
            .iter()
            .chain(std::iter::once(&bp.name))
            .map(|name| {
                let tree = trees.iter().find(|(n, _)| n == name).unwrap();
                (tree.0, tree.1)
            })
            .collect();
        assert_eq!(
            chain.len(),
            trees.len(),
            "{label}: folders beyond its chain"
        );
        assert_eq!(tree_hash(&chain), release.content_hash, "{label}");
        assert_eq!(bp.content_hash, release.content_hash, "{label}");
        assert_eq!(bp.version, release.version, "{label}");
        assert_eq!(restored.entry.content_hash, release.content_hash, "{label}");
        assert!(
            !restored.entry.artifacts.is_empty(),
            "{label}: no artifacts"
        );
        let generated = generate::generate(&bp, &restored.entry, &Provided::default(), None)
            .unwrap_or_else(|e| panic!("{label} does not render: {e}"));
        assert!(generated.plan.files().contains_key("requirements.txt"));
    }
}

/// `spacegen lock` records every blueprint it locks: the embedded blueprints, at the content
/// the embedded lock locks, are in the embedded history with that lock entry.
#[test]
fn the_embedded_blueprints_are_in_the_embedded_history() {
    let history = History::embedded().unwrap();
    let lock = file::embedded().unwrap();
    for name in Source::Embedded.names().unwrap() {
        let bp = blueprint::load(&Source::Embedded, &name).unwrap();
        if bp.kind == Kind::Layer {
            continue;
        }
        let release = history
            .by_hash(&bp.name, &bp.content_hash)
            .unwrap_or_else(|| {
                panic!(
                    "{} {} is not in history/: run `spacegen lock`",
                    bp.name, bp.version
                )
            });
        assert_eq!(release.version, bp.version);
        let restored = history.restore(release).unwrap();
        assert_eq!(
            &restored.entry,
            lock.lock.blueprints.get(&bp.name).unwrap(),
            "{}: history/ holds another lock entry than spaces.lock: run `spacegen lock`",
            bp.name
        );
    }
}

fn pack_of(objects: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut sorted = objects.to_vec();
    sorted.sort();
    pack::pack(sorted.iter().map(|(n, b)| (n.as_str(), &b[..]))).unwrap()
}

fn object(bytes: &[u8]) -> (String, Vec<u8>) {
    let name = crate::blueprint::hash::sha256(bytes)
        .strip_prefix("sha256:")
        .unwrap()
        .to_owned();
    (name, bytes.to_vec())
}

#[test]
fn a_damaged_history_is_refused_with_the_reason() {
    let (name, bytes) = object(b"hello");
    // An object whose bytes are not what its name says.
    let err = History::from_parts("", &pack_of(&[(name.clone(), b"hellO".to_vec())])).unwrap_err();
    assert!(err.contains("does not hash to its name"), "{err}");
    // A release naming an object the pack lacks.
    let index = format!(
        "format = 1\n[[release]]\nblueprint = \"x\"\nversion = \"1.0.0\"\ncontent-hash = \"sha256:00\"\nlock = \"{name}\"\nartifacts = []\nfiles = {{ \"x/blueprint.toml\" = \"{}\" }}\n",
        "a".repeat(64)
    );
    let err = History::from_parts(&index, &pack_of(&[(name.clone(), bytes.clone())])).unwrap_err();
    assert!(err.contains("is not there"), "{err}");
    // A name that is no object name, and another format.
    let bad = index.replace(&name, "not-a-name");
    assert!(History::from_parts(&bad, &pack_of(&[]))
        .unwrap_err()
        .contains("not an object name"));
    let later = index.replace("format = 1", "format = 2");
    assert!(History::from_parts(&later, &pack_of(&[]))
        .unwrap_err()
        .contains("format 2"));
}

/// Two versions recorded, one of them again with other contents: the index keeps one release
/// per version, objects are shared, and objects nobody names are removed.
#[test]
fn recording_keeps_one_release_per_version_and_prunes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let source = Source::Embedded;
    let bp = blueprint::load(&source, "sqlite-demo").unwrap();
    let folders = store::folders(&source, &bp).unwrap();
    let entry = file::embedded().unwrap().lock.blueprints["sqlite-demo"].clone();
    let v1 = semver::Version::new(9, 0, 0);
    let first = [Recording {
        blueprint: "sqlite-demo",
        version: &v1,
        folders: folders.clone(),
        entry: &entry,
    }];
    assert_eq!(
        store.missing(&first).unwrap(),
        vec!["sqlite-demo 9.0.0: not recorded"]
    );
    assert_eq!(
        store.record(&first).unwrap(),
        vec!["sqlite-demo 9.0.0: recorded"]
    );
    assert!(store.missing(&first).unwrap().is_empty());
    assert!(
        store.record(&first).unwrap().is_empty(),
        "recording again changes nothing"
    );
    let objects = |d: &std::path::Path| std::fs::read_dir(d.join("objects")).unwrap().count();
    let one = objects(dir.path());

    // The same version with an edited file and a new lock entry: replaced.
    let mut edited = folders.clone();
    let readme = edited.last_mut().unwrap();
    let key = readme.1.keys().next().unwrap().clone();
    readme.1.get_mut(&key).unwrap().contents = b"edited\n"[..].into();
    let trees: Vec<(&str, &FileTree)> = edited.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let mut entry2 = entry.clone();
    entry2.content_hash = tree_hash(&trees);
    let again = [Recording {
        blueprint: "sqlite-demo",
        version: &v1,
        folders: edited.clone(),
        entry: &entry2,
    }];
    assert_eq!(
        store.missing(&again).unwrap(),
        vec!["sqlite-demo 9.0.0: recorded with other contents"]
    );
    assert_eq!(
        store.record(&again).unwrap(),
        vec!["sqlite-demo 9.0.0: recorded again (its contents changed)"]
    );
    assert_eq!(
        objects(dir.path()),
        one,
        "the old file's and entry's objects pruned, the new ones added"
    );

    // A second version shares every object with the first.
    let v2 = semver::Version::new(9, 1, 0);
    let second = [Recording {
        blueprint: "sqlite-demo",
        version: &v2,
        folders: edited,
        entry: &entry2,
    }];
    store.record(&second).unwrap();
    assert_eq!(
        objects(dir.path()),
        one,
        "a release shares the objects it has in common"
    );
    let index = store.index().unwrap();
    let versions: Vec<String> = index
        .releases
        .iter()
        .map(|r| r.version.to_string())
        .collect();
    assert_eq!(versions, ["9.0.0", "9.1.0"]);

    // What was recorded restores to the same files and entry.
    let release = &index.releases[1];
    let restored = restore(release, |n| store.object(n)).unwrap();
    assert_eq!(restored.entry, entry2);
    let Source::Archived(a) = restored.source else {
        panic!()
    };
    let expected: BTreeMap<String, FileTree> = second[0].folders.iter().cloned().collect();
    assert_eq!(a.folders, expected);

    // A lock entry for other files is refused.
    let wrong = [Recording {
        blueprint: "sqlite-demo",
        version: &v2,
        folders: folders.clone(),
        entry: &entry2,
    }];
    let err = store.record(&wrong).unwrap_err().to_string();
    assert!(err.contains("lock it first"), "{err}");

    // A damaged object on disk is named.
    let name = &release.lock;
    std::fs::write(dir.path().join("objects").join(name), "x").unwrap();
    let err = store.object(name).unwrap_err().to_string();
    assert!(err.contains("does not hash to its name"), "{err}");
}

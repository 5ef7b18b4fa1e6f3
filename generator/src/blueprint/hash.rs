//! Content hashes of blueprints, in the spirit of a NAR hash: sha256 over a canonical listing
//! of every file (layer, path, executable bit, length, bytes), independent of file system
//! order, timestamps or where the blueprint was read from.

use sha2::{Digest, Sha256};

use super::source::FileTree;

/// `sha256:<hex>` of `data`.
pub(crate) fn sha256(data: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(data))
}

/// The content hash of a blueprint with its layers. `trees` lists (folder name, files) from the
/// outermost layer to the blueprint itself.
pub(crate) fn tree_hash(trees: &[(&str, &FileTree)]) -> String {
    let mut h = Sha256::new();
    h.update(b"spacegen-blueprint-v1\0");
    for (name, tree) in trees {
        h.update(b"layer\0");
        h.update(name.as_bytes());
        h.update(b"\0");
        for (path, entry) in tree.iter() {
            h.update(path.as_bytes());
            h.update(if entry.executable { b"\0x\0" } else { b"\0-\0" });
            h.update((entry.contents.len() as u64).to_le_bytes());
            h.update(&entry.contents);
        }
    }
    format!("sha256:{:x}", h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blueprint::source::FileEntry;

    fn tree(files: &[(&str, &str, bool)]) -> FileTree {
        files
            .iter()
            .map(|(p, c, x)| {
                (
                    p.to_string(),
                    FileEntry {
                        contents: c.as_bytes().into(),
                        executable: *x,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn hash_changes_with_content_path_mode_and_layer() {
        let a = tree(&[("a", "1", false)]);
        let base = tree_hash(&[("bp", &a)]);
        assert_ne!(base, tree_hash(&[("bp", &tree(&[("a", "2", false)]))]));
        assert_ne!(base, tree_hash(&[("bp", &tree(&[("b", "1", false)]))]));
        assert_ne!(base, tree_hash(&[("bp", &tree(&[("a", "1", true)]))]));
        assert_ne!(base, tree_hash(&[("other", &a)]));
        assert_eq!(base, tree_hash(&[("bp", &tree(&[("a", "1", false)]))]));
    }

    #[test]
    fn boundaries_between_files_are_unambiguous() {
        let one = tree(&[("a", "bc", false)]);
        let two = tree(&[("ab", "c", false)]);
        assert_ne!(tree_hash(&[("x", &one)]), tree_hash(&[("x", &two)]));
    }
}

//! Finds the blueprints, the lock and the history to embed; records which embedded blueprint
//! files are executable (`include_dir` keeps contents only, and generated projects must keep a
//! template's executable bit); packs the history's objects into one deflate stream.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

#[allow(dead_code, unreachable_pub)]
#[path = "src/history/pack.rs"]
mod pack;

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            walk(root, &path, out);
        } else if meta.is_file() && is_executable(&meta) {
            if let Ok(rel) = path.strip_prefix(root) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
}

#[cfg(unix)]
fn is_executable(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &fs::Metadata) -> bool {
    false
}

/// Where the blueprints, their lock and their history come from: the repository's
/// `blueprints/`, `spaces.lock` and `history/` beside this crate, or, in the crate as packaged
/// for crates.io (which cannot reach outside its folder), the copies `.ci/crate` puts under
/// `embedded/`.
fn sources(manifest: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let repository = manifest.parent().unwrap_or(manifest);
    if repository.join("blueprints").is_dir() && repository.join("spaces.lock").is_file() {
        return (
            repository.join("blueprints"),
            repository.join("spaces.lock"),
            repository.join("history"),
        );
    }
    let embedded = manifest.join("embedded");
    assert!(
        embedded.join("blueprints").is_dir() && embedded.join("spaces.lock").is_file(),
        "neither ../blueprints and ../spaces.lock (a checkout of the repository) nor \
         embedded/blueprints and embedded/spaces.lock (the packaged crate) are here: package the \
         crate with `.ci/crate package`"
    );
    (
        embedded.join("blueprints"),
        embedded.join("spaces.lock"),
        embedded.join("history"),
    )
}

/// Packs `history/objects/` into `OUT_DIR/history.pack` and deflates `history/releases.toml`
/// beside it, and points the sources at both (`include_bytes!(env!("SPACEGEN_HISTORY_PACK"))`,
/// `include_bytes!(env!("SPACEGEN_HISTORY_INDEX"))`). Without a history folder both are empty.
fn history(dir: &Path, out: &Path) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let objects_dir = dir.join("objects");
    println!("cargo:rerun-if-changed={}", objects_dir.display());
    let mut names: Vec<String> = fs::read_dir(&objects_dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| pack::is_object_name(n))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let objects: Vec<(String, Vec<u8>)> = names
        .into_iter()
        .map(|name| {
            let bytes = fs::read(objects_dir.join(&name))
                .unwrap_or_else(|e| panic!("cannot read history object {name}: {e}"));
            (name, bytes)
        })
        .collect();
    let packed =
        pack::pack(objects.iter().map(|(n, b)| (n.as_str(), &b[..]))).expect("packing into memory");
    let pack_path = out.join("history.pack");
    fs::write(&pack_path, packed).expect("OUT_DIR is writable");
    let index = fs::read(dir.join("releases.toml")).unwrap_or_default();
    let deflated = pack::deflate(&index).expect("deflating into memory");
    let index = out.join("releases.toml.deflate");
    fs::write(&index, deflated).expect("OUT_DIR is writable");
    println!(
        "cargo:rustc-env=SPACEGEN_HISTORY_PACK={}",
        pack_path.display()
    );
    println!("cargo:rustc-env=SPACEGEN_HISTORY_INDEX={}", index.display());
}

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let (root, lock, history_dir) = sources(&manifest);
    println!("cargo:rerun-if-changed={}", root.display());
    println!("cargo:rerun-if-changed={}", lock.display());
    // What the sources embed: `include_dir!("$SPACEGEN_BLUEPRINTS_DIR")`,
    // `include_str!(env!("SPACEGEN_LOCK_FILE"))`.
    println!("cargo:rustc-env=SPACEGEN_BLUEPRINTS_DIR={}", root.display());
    println!("cargo:rustc-env=SPACEGEN_LOCK_FILE={}", lock.display());
    let mut executables = Vec::new();
    walk(&root, &root, &mut executables);
    let mut code = String::from("/// Embedded blueprint files with the executable bit.\n");
    code.push_str("pub(crate) static EXECUTABLES: &[&str] = &[\n");
    for path in executables {
        let _ = writeln!(code, "    {path:?},");
    }
    code.push_str("];\n");
    let out = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    fs::write(out.join("executables.rs"), code).expect("OUT_DIR is writable");
    history(&history_dir, &out);
}

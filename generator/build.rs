//! Finds the blueprints and the lock to embed, and records which embedded blueprint files are
//! executable: `include_dir` keeps contents only, and generated projects must keep a
//! template's executable bit.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

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

/// Where the blueprints and their lock come from: the repository's `blueprints/` and
/// `spaces.lock` beside this crate, or, in the crate as packaged for crates.io (which cannot
/// reach outside its folder), the copies `.ci/crate` puts under `embedded/`.
fn sources(manifest: &Path) -> (PathBuf, PathBuf) {
    let repository = manifest.parent().unwrap_or(manifest);
    if repository.join("blueprints").is_dir() && repository.join("spaces.lock").is_file() {
        return (
            repository.join("blueprints"),
            repository.join("spaces.lock"),
        );
    }
    let embedded = manifest.join("embedded");
    assert!(
        embedded.join("blueprints").is_dir() && embedded.join("spaces.lock").is_file(),
        "neither ../blueprints and ../spaces.lock (a checkout of the repository) nor \
         embedded/blueprints and embedded/spaces.lock (the packaged crate) are here: package the \
         crate with `.ci/crate package`"
    );
    (embedded.join("blueprints"), embedded.join("spaces.lock"))
}

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let (root, lock) = sources(&manifest);
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
    let out = PathBuf::from(env::var("OUT_DIR").expect("set by cargo")).join("executables.rs");
    fs::write(out, code).expect("OUT_DIR is writable");
}

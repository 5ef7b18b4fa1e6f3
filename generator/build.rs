//! Records which embedded blueprint files are executable: `include_dir` keeps contents only,
//! and generated projects must keep a template's executable bit.

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

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest.join("../blueprints");
    println!("cargo:rerun-if-changed={}", root.display());
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

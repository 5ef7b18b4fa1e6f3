//! The integration tests, one binary for all (as just's `tests/lib.rs`): each file of
//! `tests/` is a module here, so `tests/common` is compiled once and one executable is linked,
//! not one per file. `cargo test --test integration -- cli::` runs one file's tests. A new file
//! of `tests/` runs only once it is declared here (`autotests = false` in Cargo.toml).

mod common;
mod postgres;

mod check;
mod check_hostile;
mod check_output;
mod cli;
mod crashers;
mod crate_package;
mod docker;
mod e2e;
mod edges;
mod editor_schemas;
mod history;
mod load;
mod lock;
mod migrations;
mod moving_index;
mod outdated;
mod platforms;
mod update;
mod update_workflow;
mod variants;
mod wheel;
mod workflows;
mod write;

/// Every file of `tests/` is declared above: a file left out would never run.
#[test]
fn every_test_file_is_a_module_of_this_binary() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let lib = std::fs::read_to_string(dir.join("lib.rs")).expect("tests/lib.rs");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("tests/") {
        let path = entry.expect("an entry").path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let module = path.extension().is_some_and(|e| e == "rs") || path.join("mod.rs").is_file();
        if module && stem != "lib" && !lib.contains(&format!("\nmod {stem};")) {
            missing.push(stem.to_owned());
        }
    }
    assert!(
        missing.is_empty(),
        "not declared in tests/lib.rs: {missing:?}"
    );
}

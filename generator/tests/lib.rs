//! The integration tests, one binary for all (as just's `tests/lib.rs`): each file of
//! `tests/` is a module here, so `tests/common` is compiled once and one executable is linked,
//! not one per file. `cargo test --test integration -- cli::` runs one file's tests. A new file
//! of `tests/` runs only once it is declared here (`autotests = false` in Cargo.toml).

mod common;
mod postgres;

mod check;
mod check_output;
mod cli;
mod crashers;
mod crate_package;
mod docker;
mod e2e;
mod editor_schemas;
mod lock;
mod platforms;
mod variants;
mod wheel;
mod workflows;
mod write;

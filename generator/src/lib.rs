//! spacegen: generates deploy-ready FastAPI backends for Hugging Face Docker Spaces.
//!
//! Two pipelines, each a folder, data flowing one way:
//!
//! - generation: [`blueprint`] (loaded with its layers) → [`answers`] (collected) → `lock`
//!   (the pins) → `template` (the engine and the context) → [`project`] (rendered into a plan in
//!   memory, then written atomically);
//! - locking: the matrix → the resolver → pip's transitive set → `spaces.lock`, and
//!   [`verify`], which proves a locked set by generating, installing, testing and booting it.
//!
//! Beside them, [`check`] audits any Space backend folder, generated or not.
//!
//! `cli` is the edge: it parses arguments, calls the core, prints what the core returns and
//! maps errors to exit codes. Nothing below it prints. A module imports only modules below it
//! in its pipeline; `error`, `requirement` and `progress` are shared by both.

#![deny(unreachable_pub)]

#[cfg(test)]
#[macro_use]
mod test_support;

mod answers;
mod blueprint;
mod check;
mod cli;
pub mod error;
mod history;
mod lock;
mod progress;
mod project;
mod requirement;
#[cfg(test)]
mod robustness;
#[cfg(test)]
mod schema;
mod template;
mod update;
mod verify;

// What the binary, the benchmarks and the end-to-end tests use; everything else is the crate's.
pub use blueprint::{load as load_blueprint, Blueprint, Kind, Source};
pub use cli::main;
pub use lock::matrix::{Condition, Effect, Matrix, Rule};
pub use lock::relock::request;
pub use lock::resolve::{resolve, Failure, Request, Resolution};
pub use requirement::Requirement;
pub use verify::probe::{wait_for_health, BootFailure, Health};

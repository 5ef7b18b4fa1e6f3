//! Keeping a generated project current: what a project is behind ([`outdated`]), and the
//! update to today's blueprint and lock ([`prepare`], deciding each file with [`merge`]), from
//! its record (`.spacegen/answers.toml`). Nothing here reads or writes the disk: the caller
//! hands in the project's files and writes the result through `project::write`.

pub(crate) mod merge;
pub(crate) mod outdated;
pub(crate) mod prepare;
pub(crate) mod revisions;

//! Keeping a generated project current: what a project is behind ([`outdated`]), from its
//! record (`.spacegen/answers.toml`) against the blueprint and lock this spacegen has. Nothing
//! here reads or writes the disk: the caller hands in the project's files.

pub(crate) mod outdated;

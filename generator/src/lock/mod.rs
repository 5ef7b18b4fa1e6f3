//! Locks: the `spaces.lock` [`file`], the dependency [`matrix`], the [`resolve`]r, the [`pins`]
//! generation reads, the universal transitive set from [`uv`], the interpreter checks of
//! [`interpreter`] and locking anew ([`relock`]). Proving a locked set works is [`crate::verify`]'s job, above generation.

pub(crate) mod claims;
pub(crate) mod evidence;
pub(crate) mod file;
pub(crate) mod index;
pub(crate) mod interpreter;
pub(crate) mod matrix;
mod model;
pub(crate) mod pins;
pub(crate) mod platforms;
pub(crate) mod pylock;
pub(crate) mod relock;
pub(crate) mod resolve;
pub(crate) mod uv;
pub(crate) mod whole;
mod wire;

pub(crate) use file::{LoadedLock, LockedArtifact, LockedBlueprint, Verification};

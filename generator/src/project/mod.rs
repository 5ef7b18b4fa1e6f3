//! Projects: [`generate`] collects answers and renders a blueprint into a [`plan::Plan`] held in
//! memory ([`render`], with the [`record`] of how it was made); [`write`] puts a plan on disk
//! atomically. Rendering never touches the disk; writing never renders.

pub(crate) mod generate;
pub(crate) mod plan;
pub(crate) mod record;
pub(crate) mod render;
pub(crate) mod write;

pub(crate) use generate::{generate, generate_once};
pub(crate) use plan::{Plan, MAX_NAME_BYTES};
pub(crate) use write::Destination;

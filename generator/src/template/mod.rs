//! Templates: the liquid [`engine`] with spacegen's [`filters`], the [`context`] templates are
//! rendered over, the static check of the [`names`] they read and the [`markup`] scanner both
//! errors and that check point with. Nothing here touches the disk or knows what a project is.

pub(crate) mod context;
pub(crate) mod engine;
pub(crate) mod filters;
pub(crate) mod markup;
pub(crate) mod names;

pub(crate) use context::Context;
pub(crate) use engine::{Engine, Origin};

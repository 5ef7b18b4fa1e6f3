//! Templates: the liquid [`engine`] with spacegen's [`filters`], the [`context`] templates are
//! rendered over, the static check of the [`names`] they read and the [`markup`] scanner both
//! errors and that check point with, and the limits that keep any template from crashing or
//! hanging the process: [`bounds`] on a text, the [`includes`] graph of the partials and the
//! run-time [`guard`]. Nothing here touches the disk or knows what a project is.

pub(crate) mod bounds;
pub(crate) mod compact;
pub(crate) mod context;
pub(crate) mod engine;
pub(crate) mod filters;
pub(crate) mod guard;
pub(crate) mod includes;
pub(crate) mod markup;
pub(crate) mod names;
pub(crate) mod sizes;

pub(crate) use context::Context;
pub(crate) use engine::{Engine, Origin};

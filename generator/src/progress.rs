//! Progress of the long steps (pip, verification), reported as events. The core calls these;
//! the command line decides whether and how to show them.

use std::time::Duration;

/// Receives progress events; every method does nothing unless overridden.
pub(crate) trait Progress {
    /// uv is asked for a blueprint's transitive set.
    fn resolving(&mut self, _blueprint: &str) {}
    /// uv answered after `elapsed`, or failed (`None`).
    fn resolved(&mut self, _elapsed: Option<Duration>) {}
    /// Verification of a blueprint starts.
    fn verifying(&mut self, _blueprint: &str) {}
    /// Step `n` of `total` starts.
    fn step_started(&mut self, _n: usize, _total: usize, _name: &str) {}
    /// The step that started last passed after `elapsed`, or failed (`None`).
    fn step_finished(&mut self, _elapsed: Option<Duration>) {}
}

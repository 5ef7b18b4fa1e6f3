//! One generation, start to plan: answers collected, templates rendered, the record added.
//! Used by `spacegen new` and by `spacegen lock --verify`. Nothing here touches the disk.

use crate::answers::{self, Answers, Prompter, Provided};
use crate::blueprint::Blueprint;
use crate::error::Result;
use crate::lock::LockedBlueprint;
use crate::plan::Plan;
use crate::record;
use crate::render::{self, Engine};

/// Collects answers for `bp` and renders the whole project in memory.
pub fn project(
    bp: &Blueprint,
    entry: &LockedBlueprint,
    provided: &Provided,
    prompter: Option<&mut dyn Prompter>,
) -> Result<(Plan, Answers)> {
    let engine = Engine::new(bp)?;
    let answers = answers::collect(bp, &engine, provided, prompter)?;
    let globals = render::globals(bp, &answers, entry)?;
    let mut plan = render::render(bp, &engine, &globals)?;
    record::add(&mut plan, bp, &answers)?;
    Ok((plan, answers))
}

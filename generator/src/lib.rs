//! spacegen: generates deploy-ready FastAPI backends for Hugging Face Docker Spaces.
//!
//! Data flows one way: [`blueprint`] loads a blueprint (with its layers) from [`source`];
//! [`answers`] collects a value for every variable; [`lock`] supplies the pinned packages;
//! [`render`] turns all of that into a [`plan::Plan`] in memory; [`write`] puts the plan on
//! disk atomically. [`cli`] wires the commands together.

pub mod answers;
pub mod blueprint;
pub mod cli;
pub mod error;
pub mod filters;
pub mod generate;
pub mod hash;
pub mod lock;
pub mod locking;
pub mod matrix;
pub mod names;
pub mod plan;
pub mod prompt;
pub mod python;
pub mod record;
pub mod render;
pub mod resolve;
pub mod source;
pub mod variables;
pub mod write;

//! `spacegen list`: the embedded blueprints, layers left out.

use super::printer::Printer;
use crate::blueprint::{self, Kind, Source, DEFAULT_BLUEPRINT};
use crate::error::Result;

pub(super) fn run(printer: &Printer) -> Result<()> {
    let source = Source::Embedded;
    for name in source.names()? {
        let bp = blueprint::load(&source, &name)?;
        if bp.kind == Kind::Layer {
            continue;
        }
        let default = if bp.name == DEFAULT_BLUEPRINT {
            " (default)"
        } else {
            ""
        };
        printer.out(format_args!(
            "{:<20} {:<8} {}{default}",
            bp.name, bp.version, bp.description
        ))?;
    }
    Ok(())
}

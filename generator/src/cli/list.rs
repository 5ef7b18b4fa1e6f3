//! `spacegen list`: the embedded blueprints, layers left out.

use serde_json::json;

use super::args::Format;
use super::printer::Printer;
use crate::blueprint::{self, Kind, Source, DEFAULT_BLUEPRINT};
use crate::error::Result;

/// The version of the JSON shapes of `list`, `show` and `lock --check`; it changes only when a
/// field is removed or changes meaning.
pub(super) const JSON_VERSION: u32 = 1;

pub(super) fn run(format: Format, printer: &Printer) -> Result<()> {
    let source = Source::Embedded;
    let mut shown = Vec::new();
    for name in source.names()? {
        let bp = blueprint::load(&source, &name)?;
        if bp.kind == Kind::Layer {
            continue;
        }
        let default = bp.name == DEFAULT_BLUEPRINT;
        if format == Format::Json {
            shown.push(json!({
                "name": bp.name,
                "version": bp.version.to_string(),
                "description": bp.description,
                "default": default,
            }));
            continue;
        }
        printer.out(format_args!(
            "{:<20} {:<8} {}{}",
            bp.name,
            bp.version,
            bp.description,
            if default { " (default)" } else { "" }
        ))?;
    }
    if format == Format::Json {
        return printer.out(pretty(&json!({
            "version": JSON_VERSION,
            "blueprints": shown,
        })));
    }
    Ok(())
}

/// `value` as indented JSON.
pub(super) fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

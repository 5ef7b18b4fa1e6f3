//! Rendering a blueprint's templates over a context into a [`Plan`]. Nothing here touches
//! the disk.

use super::plan::{Plan, PlannedFile, RECORD_DIR};
use crate::blueprint::{Blueprint, Condition, Template};
use crate::error::{Error, Result};
use crate::template::{Context, Engine, Origin};

/// Renders every template of `bp` whose conditions hold into a plan.
pub(crate) fn render(bp: &Blueprint, engine: &Engine, context: &Context) -> Result<Plan> {
    let mut plan = Plan::default();
    for (output, template) in &bp.templates {
        let mut raw = false;
        let mut include = true;
        for rule in bp.rules.iter().filter(|r| r.matches(output)) {
            raw |= rule.raw;
            if let Some(when) = &rule.when {
                include &= holds(engine, when, context)?;
            }
        }
        if !include {
            continue;
        }
        let path = if output.contains("{{") || output.contains("{%") {
            let file = format!("{} (file name)", template.source);
            engine.render(&Origin::file(&file), output, context)?
        } else {
            output.clone()
        };
        if path == RECORD_DIR || path.starts_with(&format!("{RECORD_DIR}/")) {
            return Err(Error::blueprint(
                &template.source,
                format!("{RECORD_DIR}/ is reserved for spacegen's own record"),
            ));
        }
        let contents = contents(engine, template, raw, context)?;
        let file = PlannedFile {
            contents,
            executable: template.executable,
        };
        plan.insert(path, file, &template.source)?;
    }
    Ok(plan)
}

/// Whether `condition` holds over `context`.
pub(crate) fn holds(engine: &Engine, condition: &Condition, context: &Context) -> Result<bool> {
    let origin = Origin {
        file: &condition.file,
        within: condition.position.as_ref(),
    };
    engine.condition(&origin, &condition.expr, context)
}

fn contents(engine: &Engine, t: &Template, raw: bool, context: &Context) -> Result<Vec<u8>> {
    if !t.render || raw {
        return Ok(t.contents.clone());
    }
    let text = std::str::from_utf8(&t.contents)
        .map_err(|_| Error::blueprint(&t.source, "a .liquid template must be UTF-8 text"))?;
    let rendered = engine.render(&Origin::file(&t.source), text, context)?;
    Ok(rendered.replace("\r\n", "\n").into_bytes())
}

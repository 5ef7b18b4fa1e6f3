//! Rendering a blueprint's templates over a context into a [`Plan`]. Nothing here touches
//! the disk.

use std::collections::BTreeMap;

use super::plan::{fold_case, Naming, Plan, PlannedFile, RECORD_DIR};
use crate::blueprint::{Blueprint, Condition, Template};
use crate::error::{Error, Result};
use crate::template::markup::markups;
use crate::template::{Context, Engine, Origin};

/// Renders every one of `templates` (the templates of `bp`, or a copy of them) whose
/// conditions hold into a plan. Each template is let go once rendered: when they are the only
/// holder of its bytes, the plan ends up as the one copy in memory.
pub(crate) fn render(
    bp: &Blueprint,
    templates: BTreeMap<String, Template>,
    engine: &Engine,
    context: &Context,
) -> Result<Plan> {
    let mut plan = Plan::default();
    for (output, template) in templates {
        let output = &output;
        let template = &template;
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
        let path = render_path(engine, &template.source, output, context)?;
        let naming = if path == *output {
            Naming::Literal
        } else {
            Naming::Rendered
        };
        let top = path.split('/').next().unwrap_or_default();
        if fold_case(top) == fold_case(RECORD_DIR) {
            let why = format!("{RECORD_DIR}/ is reserved for spacegen's own record");
            return Err(match naming {
                Naming::Literal => Error::blueprint(&template.source, why),
                Naming::Rendered => Error::Destination(format!(
                    "{} would write to {path:?}: {why}; pick another value for the name",
                    template.source
                )),
            });
        }
        let contents = contents(engine, template, raw, context)?;
        let file = PlannedFile {
            contents,
            executable: template.executable,
        };
        plan.insert_as(path, file, &template.source, naming)?;
    }
    Ok(plan)
}

/// The output path `output` rendered segment by segment: what a segment renders to stays one
/// segment, so a value holding a `/` cannot add folders.
fn render_path(engine: &Engine, source: &str, output: &str, context: &Context) -> Result<String> {
    if !output.contains("{{") && !output.contains("{%") {
        return Ok(output.to_owned());
    }
    let file = format!("{source} (file name)");
    let marks = markups(output);
    let inside = |i: usize| marks.iter().any(|m| m.span.contains(&i));
    let mut segments = Vec::new();
    let mut start = 0;
    for (i, _) in output.match_indices('/').filter(|(i, _)| !inside(*i)) {
        segments.push(&output[start..i]);
        start = i + 1;
    }
    segments.push(&output[start..]);
    let mut rendered = Vec::with_capacity(segments.len());
    for segment in segments {
        if !segment.contains("{{") && !segment.contains("{%") {
            rendered.push(segment.to_owned());
            continue;
        }
        let text = engine.render(&Origin::file(&file), segment, context)?;
        if let Some(c) = text.chars().find(|c| matches!(c, '/' | '\\')) {
            return Err(Error::Destination(format!(
                "{source} would write to a path whose segment {segment:?} renders to {text:?}, which holds '{c}': a value in a file or folder name makes one name; pick a value without '{c}'"
            )));
        }
        rendered.push(text);
    }
    Ok(rendered.join("/"))
}

/// Whether `condition` holds over `context`.
pub(crate) fn holds(engine: &Engine, condition: &Condition, context: &Context) -> Result<bool> {
    let origin = Origin {
        file: &condition.file,
        within: condition.position.as_ref(),
    };
    engine.condition(&origin, &condition.expr, context)
}

/// The bytes of one planned file: the blueprint's own when copied as is (shared, not copied),
/// else the rendered text with CRLF line ends made LF.
fn contents(
    engine: &Engine,
    t: &Template,
    raw: bool,
    context: &Context,
) -> Result<std::sync::Arc<[u8]>> {
    if !t.render || raw {
        return Ok(std::sync::Arc::clone(&t.contents));
    }
    let text = std::str::from_utf8(&t.contents)
        .map_err(|_| Error::blueprint(&t.source, "a .liquid template must be UTF-8 text"))?;
    let rendered = engine.render(&Origin::file(&t.source), text, context)?;
    let rendered = if rendered.contains('\r') {
        rendered.replace("\r\n", "\n")
    } else {
        rendered
    };
    Ok(rendered.into_bytes().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(output: &str, name: &str) -> Result<String> {
        let engine = Engine::new(&Default::default(), "t")?;
        let context = Context::empty().with("name", name);
        render_path(&engine, "t/template/x", output, &context)
    }

    #[test]
    fn each_segment_renders_to_one_segment() {
        assert_eq!(path("{{ name }}/f.py", "pkg").unwrap(), "pkg/f.py");
        assert_eq!(
            path("a/{{ \"x/y\" | split: \"/\" | last }}{{ name }}.py", "z").unwrap(),
            "a/yz.py"
        );
        for evil in ["a/b", "..\\x", "/abs"] {
            let e = path("src/{{ name }}/f.py", evil).unwrap_err();
            assert_eq!(e.exit_code(), crate::error::exit::USAGE, "{evil}");
            assert!(e.to_string().contains("segment \"{{ name }}\""), "{e}");
        }
    }
}

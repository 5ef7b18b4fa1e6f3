//! Rendering: a blueprint, answers and locked pins in; a [`Plan`] out. Nothing here touches
//! the disk.

use liquid::model::{Object, Value as L};
use liquid::partials::{EagerCompiler, InMemorySource};

use crate::answers::Answers;
use crate::blueprint::{Blueprint, Group, Template};
use crate::error::{Error, Result};
use crate::lock::{self, LockedBlueprint};
use crate::plan::{Plan, PlannedFile, RECORD_DIR};
use crate::{filters, names};

/// Names every template sees besides the variables; a variable may not take one of them.
pub const RESERVED: &[&str] = &[
    "spacegen",
    "blueprint",
    "python",
    "requirements",
    "dev_requirements",
];

impl Engine {
    /// Refuses a template that reads a variable the context does not have, naming each line.
    fn check_names(&self, origin: &str, text: &str, globals: &Object) -> Result<()> {
        let partials = |name: &str| self.partials.get(name).cloned();
        let unknown = names::undefined(text, &|n| globals.contains_key(n), &partials);
        if unknown.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = unknown
            .iter()
            .map(|u| match &u.partial {
                Some(p) => format!(
                    "partials/{p}.liquid line {}: unknown variable '{}'",
                    u.line, u.name
                ),
                None => format!("line {}: unknown variable '{}'", u.line, u.name),
            })
            .collect();
        Err(Error::blueprint(origin, list.join("; ")))
    }
}

/// A liquid parser with spacegen's filters and the blueprint's partials.
pub struct Engine {
    parser: liquid::Parser,
    partials: std::collections::BTreeMap<String, String>,
}

impl Engine {
    pub fn new(bp: &Blueprint) -> Result<Engine> {
        let mut source = InMemorySource::new();
        for (name, text) in &bp.partials {
            source.add(name.as_str(), text.as_str());
        }
        let builder = liquid::ParserBuilder::with_stdlib().partials(EagerCompiler::new(source));
        let parser = filters::register(builder).build().map_err(|e| {
            Error::blueprint(
                format!("{} (partials)", bp.origin),
                describe(&e.to_string(), None),
            )
        })?;
        Ok(Engine {
            parser,
            partials: bp.partials.clone(),
        })
    }

    /// Renders `text`; errors name `origin` and, where it can be found, the line.
    pub fn render(&self, origin: &str, text: &str, globals: &Object) -> Result<String> {
        self.check_names(origin, text, globals)?;
        let template = self
            .parser
            .parse(text)
            .map_err(|e| Error::blueprint(origin, describe(&e.to_string(), Some(text))))?;
        template
            .render(globals)
            .map_err(|e| Error::blueprint(origin, describe(&e.to_string(), Some(text))))
    }

    /// Evaluates a liquid condition such as `github_sync` or `db == "sqlite"`.
    pub fn condition(&self, origin: &str, expr: &str, globals: &Object) -> Result<bool> {
        let text = format!("{{% if {expr} %}}true{{% else %}}false{{% endif %}}");
        Ok(self.render(origin, &text, globals)? == "true")
    }
}

/// Turns a liquid error into one readable message with the template line it points at.
fn describe(message: &str, source: Option<&str>) -> String {
    let lines: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let position = lines.iter().find_map(|l| {
        let at = l.find("--> ")?;
        l[at + 4..].split(':').next()?.parse::<usize>().ok()
    });
    let first = lines
        .first()
        .map(|l| l.trim_start_matches("liquid:").trim())
        .unwrap_or("");
    let mut head = lines
        .iter()
        .find_map(|l| l.strip_prefix("= "))
        .map(str::to_owned)
        .unwrap_or_else(|| {
            if first.is_empty() {
                "template error".into()
            } else {
                first.to_owned()
            }
        });
    let detail = |key: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(key))
            .map(str::to_owned)
    };
    if let Some(v) = detail("requested variable=") {
        head = format!("unknown variable '{v}'");
    } else if let Some(f) = detail("requested filter=") {
        head = format!("unknown filter '{f}'");
    } else if let (Some(v), Some(i)) = (detail("variable="), detail("requested index=")) {
        head = format!("'{v}' has no key '{i}'");
    }
    let fragment = detail("from: ");
    let line = position.or_else(|| {
        let src = source?;
        let at = src.find(fragment.as_deref()?.trim())?;
        Some(src[..at].matches('\n').count() + 1)
    });
    match line {
        Some(n) => format!("line {n}: {head}"),
        None => head,
    }
}

/// The globals every template sees besides the variables.
pub fn base_globals(bp: &Blueprint) -> Object {
    let mut g = Object::new();
    g.insert(
        "spacegen".into(),
        L::Object(obj([("version", env!("CARGO_PKG_VERSION").to_owned())])),
    );
    g.insert(
        "blueprint".into(),
        L::Object(obj([
            ("name", bp.name.clone()),
            ("version", bp.version.to_string()),
        ])),
    );
    g
}

fn obj<const N: usize>(pairs: [(&str, String); N]) -> Object {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned().into(), L::scalar(v)))
        .collect()
}

fn group_value(name: &str, comment: &str, pins: Vec<lock::Pin>) -> L {
    let packages = pins
        .into_iter()
        .map(|p| {
            L::Object(obj([
                ("name", p.name),
                ("version", p.version),
                ("line", p.line),
            ]))
        })
        .collect();
    let mut g = obj([("name", name.to_owned()), ("comment", comment.to_owned())]);
    g.insert("packages".into(), L::Array(packages));
    L::Object(g)
}

/// The blueprint's groups with their pins, then the transitive packages the lock pins.
fn groups_value(groups: &[Group], entry: &LockedBlueprint, dev: bool) -> Result<L> {
    let mut out = Vec::new();
    for group in groups {
        let pins = group
            .packages
            .iter()
            .map(|p| lock::pin(entry, p))
            .collect::<Result<Vec<_>>>()?;
        out.push(group_value(&group.name, &group.comment, pins));
    }
    let transitive = entry.transitive(dev);
    if !transitive.is_empty() {
        let comment = "Dependencies of the packages above, pinned by spaces.lock";
        out.push(group_value("transitive", comment, transitive));
    }
    Ok(L::Array(out))
}

/// The full template context: base globals, answers, Python version and pins.
pub fn globals(bp: &Blueprint, answers: &Answers, entry: &LockedBlueprint) -> Result<Object> {
    let mut g = base_globals(bp);
    g.insert(
        "python".into(),
        L::Object(obj([("version", entry.python.clone())])),
    );
    g.insert(
        "requirements".into(),
        groups_value(&bp.dependencies.groups, entry, false)?,
    );
    g.insert(
        "dev_requirements".into(),
        groups_value(&bp.dependencies.dev, entry, true)?,
    );
    for (name, value) in answers.public() {
        g.insert(name.to_owned().into(), value.to_liquid());
    }
    Ok(g)
}

/// Renders every template of `bp` into a plan.
pub fn render(bp: &Blueprint, engine: &Engine, globals: &Object) -> Result<Plan> {
    let mut plan = Plan::default();
    for (output, template) in &bp.templates {
        let mut raw = false;
        let mut include = true;
        for rule in bp.rules.iter().filter(|r| r.matches(output)) {
            raw |= rule.raw;
            if let Some(when) = &rule.when {
                include &= engine.condition(
                    &format!("{} (files.when for {output})", rule.origin),
                    when,
                    globals,
                )?;
            }
        }
        if !include {
            continue;
        }
        let path = if output.contains("{{") || output.contains("{%") {
            engine.render(&format!("{} (file name)", template.source), output, globals)?
        } else {
            output.clone()
        };
        if path == RECORD_DIR || path.starts_with(&format!("{RECORD_DIR}/")) {
            return Err(Error::blueprint(
                &template.source,
                format!("{RECORD_DIR}/ is reserved for spacegen's own record"),
            ));
        }
        let contents = render_contents(engine, template, raw, globals)?;
        plan.insert(
            path,
            PlannedFile {
                contents,
                executable: template.executable,
            },
            &template.source,
        )?;
    }
    Ok(plan)
}

fn render_contents(engine: &Engine, t: &Template, raw: bool, globals: &Object) -> Result<Vec<u8>> {
    if !t.render || raw {
        return Ok(t.contents.clone());
    }
    let text = std::str::from_utf8(&t.contents)
        .map_err(|_| Error::blueprint(&t.source, "a .liquid template must be UTF-8 text"))?;
    let rendered = engine.render(&t.source, text, globals)?;
    Ok(rendered.replace("\r\n", "\n").into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        let bp = crate::blueprint::load(&crate::source::Source::Embedded, "sqlite-demo").unwrap();
        Engine::new(&bp).unwrap()
    }

    #[test]
    fn undefined_variables_are_errors_with_a_line() {
        let e = engine();
        let err = e
            .render("t.liquid", "a\nb\n{{ nope }}\n", &Object::new())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("t.liquid: line 3: unknown variable 'nope'"),
            "{err}"
        );
    }

    #[test]
    fn syntax_errors_have_a_line() {
        let err = engine()
            .render("t.liquid", "x\n{% if %}\n", &Object::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("t.liquid: line 2"), "{err}");
    }

    #[test]
    fn undefined_variables_in_conditions_are_errors() {
        let err = engine()
            .condition("c", "nope", &Object::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown variable 'nope'"), "{err}");
    }

    #[test]
    fn conditions_evaluate() {
        let mut g = Object::new();
        g.insert("on".into(), L::scalar(true));
        g.insert("db".into(), L::scalar("sqlite"));
        let e = engine();
        assert!(e.condition("c", "on", &g).unwrap());
        assert!(e.condition("c", "db == \"sqlite\"", &g).unwrap());
        assert!(!e.condition("c", "on == false", &g).unwrap());
    }
}

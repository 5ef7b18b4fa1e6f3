//! The template engine: liquid with spacegen's filters and a blueprint's partials. It renders
//! text over a [`Context`] and knows nothing of answers, locks or plans.
//!
//! Every error is a [`Diagnostic`] pointing at the markup it is about. Positions are found by
//! spacegen itself ([`super::markup`]): an unknown name by the static check before rendering, a
//! syntax error by parsing each markup on its own until one fails.
//!
//! No template crashes, aborts or hangs the process: texts out of [`super::bounds`] and
//! partials that include each other ([`super::includes`]) are refused before liquid sees them,
//! and liquid parses and renders on a thread of [`super::guard`], within its budget and
//! deadline, a panic there being an error like any other.

use std::collections::BTreeMap;
use std::sync::Arc;

use liquid::partials::{EagerCompiler, InMemorySource};

use super::compact::{self, Expanded};
use super::context::Context;
use super::guard::{self, Capped, Counted, Loop, Stopped};
use super::markup::{closing_tag, is_inner_tag, markups};
use super::{bounds, filters, includes, names, sizes};
use crate::error::{Diagnostic, Error, FileKind, Position, Result};

/// A liquid parser with spacegen's filters and the blueprint's partials.
pub(crate) struct Engine {
    parser: Arc<liquid::Parser>,
    partials: BTreeMap<String, String>,
    /// The blueprint, as errors name it.
    file: String,
}

/// Where a text to render comes from, for errors: a file, and where in it the text starts when
/// it is a value inside a larger file (a condition in `blueprint.toml`).
#[derive(Debug, Clone)]
pub(crate) struct Origin<'a> {
    pub file: &'a str,
    /// The position of the whole text inside `file`, when it is part of it.
    pub within: Option<&'a Position>,
}

impl<'a> Origin<'a> {
    /// A whole file.
    pub(crate) fn file(file: &'a str) -> Origin<'a> {
        Origin { file, within: None }
    }
}

impl Engine {
    /// An engine with the blueprint's `partials` (name → text). `file` names the blueprint in
    /// errors.
    pub(crate) fn new(partials: &BTreeMap<String, String>, file: &str) -> Result<Engine> {
        let partial_file = |name: &str| format!("{file}/partials/{name}.liquid");
        let mut source = InMemorySource::new();
        for (name, text) in partials {
            if let Err(r) = bounds::check(text) {
                return Err(
                    Diagnostic::new(FileKind::Blueprint, partial_file(name), r.message)
                        .at(text.as_str(), r.span)
                        .into(),
                );
            }
            source.add(name.as_str(), text.as_str());
        }
        if let Err(bad) = includes::check(partials) {
            let text = partials.get(&bad.partial).cloned().unwrap_or_default();
            return Err(Diagnostic::new(
                FileKind::Blueprint,
                partial_file(&bad.partial),
                bad.message,
            )
            .at(text, bad.span)
            .into());
        }
        let builder = liquid::ParserBuilder::with_stdlib()
            .block(Loop(liquid_lib::stdlib::ForBlock))
            .block(Loop(liquid_lib::stdlib::TableRowBlock))
            .tag(Counted(liquid_lib::stdlib::IncludeTag))
            .tag(Counted(liquid_lib::stdlib::RenderTag))
            .tag(sizes::Assign(liquid_lib::stdlib::AssignTag))
            .block(sizes::Capture)
            .partials(EagerCompiler::new(source));
        let built = guard::quietly(|| filters::register(builder).build());
        let parser = match built {
            Ok(Ok(parser)) => parser,
            Ok(Err(e)) => {
                return Err(Error::blueprint(
                    format!("{file} (partials)"),
                    liquid_message(&e),
                ))
            }
            Err(stopped) => {
                return Err(Error::blueprint(
                    format!("{file} (partials)"),
                    stopped_message(&stopped),
                ))
            }
        };
        Ok(Engine {
            parser: Arc::new(parser),
            partials: partials.clone(),
            file: file.to_owned(),
        })
    }

    /// Renders `text`. A name the context does not have is an error, as is any liquid error.
    pub(crate) fn render(
        &self,
        origin: &Origin<'_>,
        text: &str,
        context: &Context,
    ) -> Result<String> {
        if let Err(r) = bounds::check(text) {
            return Err(diagnostic(origin, text, Some(r.span), r.message).into());
        }
        self.check_names(origin, text, context)?;
        if let Some(compacted) = compact::compact(text) {
            if compacted.plain {
                return Ok(text.to_owned());
            }
            if let Ok(Ok(rendered)) = self.parse_and_render(compacted.markup.clone(), context) {
                match compacted.expand(&rendered, guard::MAX_OUTPUT) {
                    Expanded::Done(out) => return Ok(out),
                    Expanded::TooLarge => {
                        let span = first_loop(text);
                        return Err(
                            diagnostic(origin, text, span, guard::output_too_large()).into()
                        );
                    }
                    Expanded::NotOurs => {}
                }
            }
            // Any failure is told from the whole text, with liquid's own words and positions.
        }
        let outcome = self.parse_and_render(text.to_owned(), context);
        match outcome {
            Ok(Ok(rendered)) => Ok(rendered),
            Ok(Err(Failure::Parse(e))) => {
                let span = self.locate_syntax_error(text);
                Err(diagnostic(origin, text, span, liquid_message(&e)).into())
            }
            Ok(Err(Failure::Render(message))) => {
                let span = self.locate_render_error(text, context);
                Err(diagnostic(origin, text, span, message).into())
            }
            Ok(Err(Failure::TooLarge(message, culprit))) => {
                let span = sizes::locate(text, &culprit)
                    .or_else(|| self.locate_render_error(text, context));
                Err(diagnostic(origin, text, span, message).into())
            }
            Err(stopped) => {
                let span = match stopped {
                    Stopped::TimedOut => first_loop(text),
                    Stopped::Panicked(_) => self.locate_render_error(text, context),
                };
                Err(diagnostic(origin, text, span, stopped_message(&stopped)).into())
            }
        }
    }

    /// Parses and renders `text` on the render thread, within the limits of [`guard`].
    pub(crate) fn parse_and_render(
        &self,
        text: String,
        context: &Context,
    ) -> std::result::Result<std::result::Result<String, Failure>, Stopped> {
        let parser = Arc::clone(&self.parser);
        let globals = context.shared();
        guard::run(move || {
            let template = sizes::numbered(|| parser.parse(&text)).map_err(Failure::Parse)?;
            let mut out = Capped::new();
            match template.render_to(&mut out, &*globals) {
                Ok(()) => String::from_utf8(out.bytes)
                    .map_err(|_| Failure::Render("the output is not UTF-8".to_owned())),
                Err(_) if out.overflowed => Err(Failure::Render(guard::output_too_large())),
                Err(e) => match sizes::refused() {
                    Some(culprit) => Err(Failure::TooLarge(liquid_message(&e), culprit)),
                    None => Err(Failure::Render(liquid_message(&e))),
                },
            }
        })
    }

    /// Evaluates a liquid condition such as `github_sync` or `db == "sqlite"`.
    pub(crate) fn condition(
        &self,
        origin: &Origin<'_>,
        expr: &str,
        context: &Context,
    ) -> Result<bool> {
        let prefix = "{% if ";
        let text = format!("{prefix}{expr} %}}true{{% else %}}false{{% endif %}}");
        let rendered = self
            .render(&Origin::file(origin.file), &text, context)
            .map_err(|e| match e {
                // Point into the condition as written, not into the wrapper around it.
                Error::Diagnostic(mut d) => {
                    let span = d.position.take().map_or(0..expr.len(), |p| {
                        let start = p.span.start.saturating_sub(prefix.len()).min(expr.len());
                        start
                            ..p.span
                                .end
                                .saturating_sub(prefix.len())
                                .clamp(start, expr.len())
                    });
                    d.position = Some(shift(origin, expr, span));
                    Error::Diagnostic(d)
                }
                other => other,
            })?;
        Ok(rendered == "true")
    }

    /// Refuses a template that includes a partial the blueprint does not have, or reads a name
    /// the context does not have, pointing at each.
    fn check_names(&self, origin: &Origin<'_>, text: &str, context: &Context) -> Result<()> {
        for m in markups(text).iter().filter(|m| m.tag == "include") {
            let name = m.rest.trim_matches(|c| c == '"' || c == '\'');
            if !self.partials.contains_key(name) {
                let known: Vec<&str> = self.partials.keys().map(String::as_str).collect();
                return Err(diagnostic(
                    origin,
                    text,
                    Some(m.span.clone()),
                    format!("unknown partial '{name}'"),
                )
                .help(format!(
                    "partials are named by their path under partials/, without .liquid: {}",
                    known.join(", ")
                ))
                .into());
            }
        }
        let partials = |name: &str| self.partials.get(name).cloned();
        let unknown = names::undefined(text, &|n| context.has(n), &partials);
        let mut diagnostics: Vec<Diagnostic> = unknown
            .into_iter()
            .map(|u| {
                let message = format!("unknown variable '{}'", u.name);
                match &u.partial {
                    Some(p) => {
                        let partial = self.partials.get(p).cloned().unwrap_or_default();
                        Diagnostic::new(
                            FileKind::Blueprint,
                            format!("{}/partials/{p}.liquid", self.file),
                            message,
                        )
                        .at(partial, u.span)
                        .help(format!("included from {}", origin.file))
                    }
                    None => diagnostic(origin, text, Some(u.span), message),
                }
            })
            .collect();
        match diagnostics.len() {
            0 => Ok(()),
            1 => Err(diagnostics.remove(0).into()),
            _ => Err(Error::Diagnostics(diagnostics)),
        }
    }

    /// The first markup that does not parse on its own (a block opener is given its closing
    /// tag), the first inner tag outside any block, or the first block left open or closed
    /// twice.
    fn locate_syntax_error(&self, text: &str) -> Option<std::ops::Range<usize>> {
        let all = markups(text);
        let pieces: Vec<(std::ops::Range<usize>, String)> = all
            .iter()
            .filter_map(|m| Some((m.span.clone(), alone(m, text)?)))
            .collect();
        let parser = Arc::clone(&self.parser);
        let failing = guard::run(move || {
            pieces
                .into_iter()
                .find(|(_, piece)| parser.parse(piece).is_err())
                .map(|(span, _)| span)
        });
        if let Ok(Some(span)) = failing {
            return Some(span);
        }
        let mut open: Vec<&super::markup::Markup<'_>> = Vec::new();
        for m in &all {
            if closing_tag(m.tag).is_some() {
                open.push(m);
            } else if is_inner_tag(m.tag) && !m.tag.starts_with("end") && open.is_empty() {
                return Some(m.span.clone());
            } else if m.tag.starts_with("end") {
                match open.pop() {
                    Some(o) if closing_tag(o.tag) == Some(m.tag) => {}
                    _ => return Some(m.span.clone()),
                }
            }
        }
        if let Some(m) = open.first() {
            return Some(m.span.clone());
        }
        // A markup left unclosed ends the scan: point at where it opens.
        let from = all.last().map_or(0, |m| m.span.end);
        let opens = ["{{", "{%"]
            .iter()
            .filter_map(|o| text[from..].find(o))
            .min()?;
        Some(from + opens..text.len())
    }

    /// The first output or tag (a block given its closing tag) that fails to render on its own over the
    /// context (reading only names the context has), else the first loop or include.
    fn locate_render_error(&self, text: &str, context: &Context) -> Option<std::ops::Range<usize>> {
        let pieces: Vec<(std::ops::Range<usize>, String)> = markups(text)
            .into_iter()
            .filter(|m| m.output || !is_inner_tag(m.tag))
            .filter(|m| {
                let mut read = Vec::new();
                names::reads(m.rest, &mut read);
                read.iter().all(|(n, _)| context.has(n))
            })
            .filter_map(|m| Some((m.span.clone(), alone(&m, text)?)))
            .collect();
        let parser = Arc::clone(&self.parser);
        let globals = context.shared();
        let failing = guard::run(move || {
            pieces
                .into_iter()
                .find(|(_, piece)| {
                    parser
                        .parse(piece)
                        .and_then(|t| t.render_to(&mut Capped::new(), &*globals))
                        .is_err()
                })
                .map(|(span, _)| span)
        });
        match failing {
            Ok(Some(span)) => Some(span),
            _ => first_loop(text),
        }
    }
}

/// What went wrong on the render thread.
#[derive(Debug)]
pub(crate) enum Failure {
    Parse(liquid::Error),
    Render(String),
    /// A value grew past [`sizes::MAX_VALUE`] at this markup.
    TooLarge(String, sizes::Culprit),
}

/// `m` as a template of its own: a block opener given its closing tag; `None` for a tag that
/// only makes sense inside a block.
fn alone(m: &super::markup::Markup<'_>, text: &str) -> Option<String> {
    let raw = m.raw(text);
    match (m.output, closing_tag(m.tag)) {
        (true, _) => Some(raw.to_owned()),
        (false, Some(end)) => Some(format!("{raw}{{% {end} %}}")),
        (false, None) if is_inner_tag(m.tag) => None,
        (false, None) => Some(raw.to_owned()),
    }
}

fn is_include(tag: &str) -> bool {
    matches!(tag, "include" | "render")
}

/// The first loop or include of `text`: where a render that ran too long most likely spent it.
fn first_loop(text: &str) -> Option<std::ops::Range<usize>> {
    markups(text)
        .into_iter()
        .find(|m| matches!(m.tag, "for" | "tablerow") || is_include(m.tag))
        .map(|m| m.span)
}

/// What a stopped render says.
fn stopped_message(stopped: &Stopped) -> String {
    match stopped {
        Stopped::Panicked(message) => format!("the template engine failed: {message}"),
        Stopped::TimedOut => format!(
            "rendering took longer than {} s (an unbounded loop?)",
            guard::DEADLINE.as_secs()
        ),
    }
}

/// A diagnostic about `span` of `text`, which comes from `origin`.
fn diagnostic(
    origin: &Origin<'_>,
    text: &str,
    span: Option<std::ops::Range<usize>>,
    message: String,
) -> Diagnostic {
    let d = Diagnostic::new(FileKind::Blueprint, origin.file, message);
    match span {
        Some(span) if origin.within.is_none() => d.at(Arc::<str>::from(text), span),
        Some(span) => d.at_position(Some(shift(origin, text, span))),
        None => d.at_position(origin.within.cloned()),
    }
}

/// `span` of `text`, moved to where `text` sits inside `origin`'s file.
fn shift(origin: &Origin<'_>, text: &str, span: std::ops::Range<usize>) -> Position {
    match origin.within {
        // The value is written as a TOML string: its text starts after the opening quote.
        Some(p) => Position::new(
            p.text.clone(),
            p.span.start + 1 + span.start..p.span.start + 1 + span.end,
        ),
        None => Position::new(Arc::<str>::from(text), span),
    }
}

/// What went wrong, in liquid's words: the summary line of its message.
fn liquid_message(e: &liquid::Error) -> String {
    let text = e.to_string();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let detail = |key: &str| lines.iter().find_map(|l| l.strip_prefix(key));
    if let Some(v) = detail("requested variable=") {
        return format!("unknown variable '{v}'");
    }
    if let Some(f) = detail("requested filter=") {
        return format!("unknown filter '{f}'");
    }
    if let (Some(v), Some(i)) = (detail("variable="), detail("requested index=")) {
        return format!("'{v}' has no key '{i}'");
    }
    if let Some(summary) = detail("= ") {
        return summary.to_owned();
    }
    lines
        .first()
        .map(|l| l.trim_start_matches("liquid:").trim())
        .filter(|l| !l.is_empty())
        .unwrap_or("template error")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        let mut partials = BTreeMap::new();
        partials.insert("p".to_owned(), "one\n{{ missing }}".to_owned());
        Engine::new(&partials, "t").unwrap()
    }

    fn error(text: &str, context: &Context) -> Diagnostic {
        match engine().render(&Origin::file("t.liquid"), text, context) {
            Err(Error::Diagnostic(d)) => *d,
            other => panic!("{other:?}"),
        }
    }

    fn pointed(d: &Diagnostic) -> (usize, usize, String) {
        let p = d.position.clone().expect("a position");
        (p.line, p.column, p.text[p.span].to_owned())
    }

    #[test]
    fn undefined_variables_point_at_the_name() {
        let d = error("a\nb\n{{ x }}\n", &Context::empty());
        assert_eq!(d.message, "unknown variable 'x'");
        let Err(Error::Diagnostics(all)) = engine().render(
            &Origin::file("t"),
            "{{ x | append: nope }}",
            &Context::empty(),
        ) else {
            panic!("two unknown names give two diagnostics");
        };
        assert_eq!(pointed(&all[1]), (1, 16, "nope".into()));
        let d = error("a\nb\n  {{ x }}\n", &Context::empty());
        assert_eq!(pointed(&d), (3, 6, "x".into()));
    }

    #[test]
    fn an_unknown_partial_points_at_the_include() {
        let d = error("a\n  {% include \"nope\" %}", &Context::empty());
        assert_eq!(d.message, "unknown partial 'nope'");
        assert_eq!(pointed(&d), (2, 3, "{% include \"nope\" %}".into()));
        assert!(d.help.unwrap().contains(": p"));
    }

    #[test]
    fn names_read_in_partials_point_into_the_partial() {
        let d = error("{% include \"p\" %}", &Context::empty());
        assert_eq!(d.file, "t/partials/p.liquid");
        assert_eq!(pointed(&d), (2, 4, "missing".into()));
    }

    #[test]
    fn syntax_errors_point_at_the_markup() {
        let d = error("x\n{% if %}\n{% endif %}", &Context::empty());
        assert_eq!(pointed(&d), (2, 1, "{% if %}".into()));
        let d = error("x\n{% for a in b %}\n", &Context::empty().with("b", 1));
        assert_eq!(pointed(&d), (2, 1, "{% for a in b %}".into()));
        let d = error("ok\n{{% if 0 %}", &Context::empty());
        assert_eq!((pointed(&d).0, pointed(&d).1), (2, 1));
        let d = error("{{ 1 | no_such_filter }}", &Context::empty());
        assert!(d.message.contains("no_such_filter"), "{}", d.message);
        assert_eq!(pointed(&d).2, "{{ 1 | no_such_filter }}");
    }

    #[test]
    fn conditions_evaluate_and_errors_point_into_them() {
        let c = Context::empty().with("on", true).with("db", "sqlite");
        let e = engine();
        let o = Origin::file("c");
        assert!(e.condition(&o, "on", &c).unwrap());
        assert!(e.condition(&o, "db == \"sqlite\"", &c).unwrap());
        assert!(!e.condition(&o, "on == false", &c).unwrap());
        let manifest = Position::new("when = \"on and nope\"", 7..20);
        let o = Origin {
            file: "blueprint.toml",
            within: Some(&manifest),
        };
        let Err(Error::Diagnostic(d)) = e.condition(&o, "on and nope", &c) else {
            panic!("an unknown name in a condition is an error");
        };
        assert_eq!(pointed(&d), (1, 16, "nope".into()));
    }
}

//! A static check of the names a liquid template reads.
//!
//! liquid reports an unknown variable in `{{ … }}` only when it renders, without a line, and
//! treats one in `{% if … %}` as false. This pass finds every variable a template reads that is
//! neither a global nor set inside the template (`assign`, `capture`, `for`), with its line, so
//! a typo in a template is an error naming the file and line instead of a silent empty string.

use std::collections::BTreeSet;
use std::ops::Range;

use super::markup::{markups, offset_in};

use regex::Regex;
use std::sync::OnceLock;

/// Words liquid reads as its own (operators, literals, loop objects), never as a variable.
pub(crate) const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "contains",
    "in",
    "empty",
    "blank",
    "nil",
    "null",
    "true",
    "false",
    "reversed",
    "limit",
    "offset",
    "with",
    "as",
    "cols",
    "forloop",
    "tablerowloop",
];

fn identifier() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| super::markup::ascii_regex(r"[A-Za-z_][A-Za-z0-9_-]*"))
}

/// Root names read by an expression such as `a.b | append: c, "d"`, with their byte spans
/// relative to `expr`.
pub(crate) fn reads(expr: &str, names: &mut Vec<(String, Range<usize>)>) {
    // Blank out string literals, keeping every byte offset.
    let cleaned = super::markup::blank_strings(expr);
    let mut offset = 0;
    for (i, segment) in cleaned.split('|').enumerate() {
        let seg_start = offset;
        offset += segment.len() + 1;
        let (args, args_start) = if i == 0 {
            (segment, seg_start)
        } else {
            // `filter: arg, arg`: the filter's name is not a variable.
            match segment.split_once(':') {
                Some((name, args)) => (args, seg_start + name.len() + 1),
                None => continue,
            }
        };
        for m in identifier().find_iter(args) {
            let before = &args[..m.start()];
            let after = &args[m.end()..];
            let member = before.ends_with('.') && !before.ends_with("..");
            let named_arg = after.trim_start().starts_with(':');
            if member || named_arg || KEYWORDS.contains(&m.as_str()) {
                continue;
            }
            let start = args_start + m.start();
            names.push((m.as_str().to_owned(), start..start + m.len()));
        }
    }
}

/// Where an unknown name was read: the partial (if any) and the line in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unknown {
    /// `None` for the template itself, else the partial's name.
    pub partial: Option<String>,
    /// The byte span of the name in the template or partial.
    pub span: Range<usize>,
    pub name: String,
}

/// Every variable `text` reads that `known` does not know and that the template does not set
/// itself. `{% include %}` is followed: a partial shares the includer's scope, so what it
/// assigns is known after it, and what it reads is checked where it is included.
pub(crate) fn undefined(
    text: &str,
    known: &dyn Fn(&str) -> bool,
    partials: &dyn Fn(&str) -> Option<String>,
) -> Vec<Unknown> {
    let mut locals = BTreeSet::new();
    let mut found = Vec::new();
    scan(text, None, known, partials, &mut locals, &mut found, 0);
    found
}

fn scan(
    text: &str,
    partial: Option<&str>,
    known: &dyn Fn(&str) -> bool,
    partials: &dyn Fn(&str) -> Option<String>,
    locals: &mut BTreeSet<String>,
    found: &mut Vec<Unknown>,
    depth: usize,
) {
    for m in markups(text) {
        let mut read = Vec::new();
        let mut read_in = |expr: &str| {
            let at = offset_in(text, expr);
            let mut names = Vec::new();
            reads(expr, &mut names);
            read.extend(
                names
                    .into_iter()
                    .map(|(n, s)| (n, at + s.start..at + s.end)),
            );
        };
        match m.tag {
            "" | "if" | "elsif" | "unless" | "case" | "when" | "cycle" | "echo" => read_in(m.rest),
            "assign" => {
                if let Some((name, expr)) = m.rest.split_once('=') {
                    read_in(expr);
                    locals.insert(name.trim().to_owned());
                }
            }
            "capture" | "increment" | "decrement" => {
                locals.insert(m.rest.to_owned());
            }
            "for" | "tablerow" => {
                if let Some((var, expr)) = m.rest.split_once(" in ") {
                    read_in(expr);
                    locals.insert(var.trim().to_owned());
                }
            }
            "include" if depth < 16 => {
                let name = m.rest.trim_matches(|c| c == '"' || c == '\'');
                if let Some(inner) = partials(name) {
                    scan(
                        &inner,
                        Some(name),
                        known,
                        partials,
                        locals,
                        found,
                        depth + 1,
                    );
                }
            }
            _ => {}
        }
        for (name, span) in read {
            if !locals.contains(&name) && !known(&name) {
                found.push(Unknown {
                    partial: partial.map(str::to_owned),
                    span,
                    name,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Vec<(usize, String)> {
        let partials = |name: &str| match name {
            "readme/header" => Some("{{ title }}".to_owned()),
            "sets" => {
                Some("{% assign from_partial = title %}\n{{ missing_in_partial }}".to_owned())
            }
            _ => None,
        };
        undefined(
            text,
            &|n| matches!(n, "title" | "items" | "python"),
            &partials,
        )
        .into_iter()
        .map(|u| {
            let src = match &u.partial {
                Some(p) => partials(p).unwrap(),
                None => text.to_owned(),
            };
            (
                src[..u.span.start].matches('\n').count() + 1,
                match u.partial {
                    Some(p) => format!("{p}:{}", u.name),
                    None => u.name,
                },
            )
        })
        .collect()
    }

    #[test]
    fn includes_share_scope_and_are_checked_where_included() {
        let t = "{% include \"sets\" %}\n{{ from_partial }}";
        assert_eq!(check(t), vec![(2, "sets:missing_in_partial".into())]);
    }

    #[test]
    fn finds_unknown_names_with_lines() {
        let t = "a {{ title }}\n{% if github_sync %}x{% endif %}\n{{ title | append: suffix }}";
        assert_eq!(
            check(t),
            vec![(2, "github_sync".into()), (3, "suffix".into())]
        );
    }

    #[test]
    fn locals_members_filters_and_strings_are_fine() {
        let t = r#"{% for g in items %}{{ g.name | upcase }}{{ forloop.index }}{% endfor %}
{% assign x = title | slug %}{{ x }}{{ python.version | append: "a|b c" }}
{%- if title contains "z" and x == empty -%}{%- endif -%}{% for i in (1..items.size) %}{% endfor %}
{% raw %}{{ not_a_var }}{% endraw %}{% comment %}{{ nor_this }}{% endcomment %}
{% include "readme/header" %}"#;
        assert_eq!(check(t), vec![]);
    }
}

//! Static bounds on a template's text, checked before liquid parses it.
//!
//! liquid's parser and renderer recurse once per nested block (and per `elsif`, and per
//! `and`/`or` in a condition), panic on an integer literal that does not fit 64 bits or on a
//! table of zero columns, and build a counted range `(a..b)` as a list in memory. So a text is
//! refused, pointing at the markup, when it nests blocks deeper than [`MAX_NESTING`], chains
//! more than [`MAX_OPERATORS`] `and`/`or`, writes an integer that does not fit, a literal range
//! of more than [`MAX_RANGE`] items, a literal `cols` below 1, or includes a partial by anything
//! but a string literal (so that the include graph is known before rendering). Whatever passes
//! here can still fail at render time, as a liquid error: the bounds there are in
//! [`super::guard`].

use std::ops::Range;
use std::sync::OnceLock;

use regex::Regex;

use super::markup::ascii_regex;

use super::markup::{closing_tag, markups, offset_in, Markup};

/// How deep blocks may nest in one text (an `elsif` counts as one more level).
pub(crate) const MAX_NESTING: usize = 64;
/// How many `and`/`or` one tag may chain.
pub(crate) const MAX_OPERATORS: usize = 64;
/// How many items a range written with literal bounds may have.
pub(crate) const MAX_RANGE: i128 = 10_000;

/// Why a text is refused: the span it is about and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub span: Range<usize>,
    pub message: String,
}

/// The first thing in `text` that is out of bounds, if any.
pub(crate) fn check(text: &str) -> Result<(), Refusal> {
    let all = markups(text);
    nesting(&all)?;
    for m in &all {
        let at = offset_in(text, m.rest);
        let refuse = |span: Range<usize>, message: String| Refusal {
            span: at + span.start..at + span.end,
            message,
        };
        if matches!(m.tag, "include" | "render") && include_name(m.rest).is_none() {
            return Err(Refusal {
                span: m.span.clone(),
                message: format!(
                    "a partial must be named by a string literal: {{% {} \"name\" %}}",
                    m.tag
                ),
            });
        }
        let cleaned = blank_strings(m.rest);
        let operators = words()
            .find_iter(&cleaned)
            .filter(|w| matches!(w.as_str(), "and" | "or"))
            .count();
        if operators > MAX_OPERATORS {
            return Err(Refusal {
                span: m.span.clone(),
                message: format!("more than {MAX_OPERATORS} 'and'/'or' in one condition"),
            });
        }
        for (span, digits) in integers(&cleaned) {
            if digits.parse::<i64>().is_err() {
                return Err(refuse(
                    span,
                    format!("the integer {digits} does not fit in 64 bits"),
                ));
            }
        }
        for c in ranges().captures_iter(&cleaned) {
            let (Some(whole), Ok(start), Ok(end)) =
                (c.get(0), c[1].parse::<i128>(), c[2].parse::<i128>())
            else {
                continue;
            };
            if end - start + 1 > MAX_RANGE {
                return Err(refuse(
                    whole.range(),
                    format!("a range of more than {MAX_RANGE} items"),
                ));
            }
        }
        if m.tag == "tablerow" {
            for c in columns().captures_iter(&cleaned) {
                if let (Some(whole), Ok(cols)) = (c.get(0), c[1].parse::<i64>()) {
                    if cols < 1 {
                        return Err(refuse(whole.range(), "cols must be at least 1".to_owned()));
                    }
                }
            }
        }
    }
    Ok(())
}

/// The partial an `include`/`render` tag names, when it is a string literal: `"name"` or
/// `'name'`, maybe followed by arguments.
pub(crate) fn include_name(rest: &str) -> Option<&str> {
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = &rest[1..];
    let end = inner.find(quote)?;
    let after = inner[end + 1..].trim_start();
    (after.is_empty() || after.starts_with(',') || after.starts_with(char::is_alphabetic))
        .then(|| &inner[..end])
}

/// Refuses blocks nested deeper than [`MAX_NESTING`], pointing at the first tag too deep.
fn nesting(all: &[Markup<'_>]) -> Result<(), Refusal> {
    let mut open: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    for m in all {
        if closing_tag(m.tag).is_some() {
            depth += 1;
            open.push(1);
        } else if m.tag == "elsif" {
            depth += 1;
            if let Some(levels) = open.last_mut() {
                *levels += 1;
            }
        } else if m.tag.starts_with("end") {
            depth -= open.pop().unwrap_or(0);
        }
        if depth > MAX_NESTING {
            return Err(Refusal {
                span: m.span.clone(),
                message: format!("blocks nested more than {MAX_NESTING} deep"),
            });
        }
    }
    Ok(())
}

/// `expr` with the insides of its string literals blanked, every byte offset kept.
fn blank_strings(expr: &str) -> String {
    super::markup::blank_strings(expr)
}

/// The integer literals of `expr` (signed, not part of a name or of a float), with spans.
fn integers(expr: &str) -> Vec<(Range<usize>, &str)> {
    let bytes = expr.as_bytes();
    let name_char = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    numbers()
        .find_iter(expr)
        .filter_map(|m| {
            let (start, end) = (m.start(), m.end());
            let digits_start = if bytes[start] == b'-' {
                start + 1
            } else {
                start
            };
            let before = bytes.get(start.wrapping_sub(1)).copied();
            let float_tail =
                start >= 2 && before == Some(b'.') && bytes[start - 2].is_ascii_digit();
            let float_head =
                bytes.get(end) == Some(&b'.') && bytes.get(end + 1).is_some_and(u8::is_ascii_digit);
            let in_name = before.is_some_and(name_char) || bytes[digits_start..end].is_empty();
            (!float_tail && !float_head && !in_name).then(|| (start..end, &expr[start..end]))
        })
        .collect()
}

fn numbers() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| ascii_regex(r"-?[0-9]+"))
}

fn ranges() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| ascii_regex(r"\(\s*(-?[0-9]+)\s*\.\.\s*(-?[0-9]+)\s*\)"))
}

fn columns() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| ascii_regex(r"\bcols\s*:\s*(-?[0-9]+)"))
}

fn words() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| ascii_regex(r"[A-Za-z_][A-Za-z0-9_-]*"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> Option<(String, String)> {
        check(text)
            .err()
            .map(|r| (text[r.span].to_owned(), r.message))
    }

    #[test]
    fn ordinary_templates_pass() {
        for t in [
            "{% for i in (1..10) %}{{ i | plus: 1.5 }}{% endfor %}",
            "{% if a and b or c %}{{ \"99999999999999999999\" }}{% elsif d %}{% endif %}",
            "{{ x2 | slice: -3, 2 }}{% include \"p\" %}{% include 'a/b', x: 1 %}",
            "{% tablerow x in xs cols:3 %}{% endtablerow %}{{ 123456789012.5 }}",
            "{% raw %}{{ 99999999999999999999 }}{% endraw %}",
        ] {
            assert_eq!(refused(t), None, "{t}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_at_the_first_tag_too_deep() {
        let ok = "{% if x %}".repeat(MAX_NESTING) + &"{% endif %}".repeat(MAX_NESTING);
        assert_eq!(refused(&ok), None);
        let deep = "{% if x %}".repeat(MAX_NESTING + 1);
        let (markup, message) = refused(&deep).unwrap();
        assert_eq!(markup, "{% if x %}");
        assert!(message.contains("nested"), "{message}");
        let chain = format!(
            "{{% if x %}}{}{{% endif %}}",
            "{% elsif x %}".repeat(MAX_NESTING)
        );
        assert_eq!(refused(&chain).unwrap().0, "{% elsif x %}");
    }

    #[test]
    fn overflowing_integers_and_huge_literal_ranges_are_refused() {
        let (at, message) = refused("{{ 99999999999999999999999 }}").unwrap();
        assert_eq!(at, "99999999999999999999999");
        assert!(message.contains("64 bits"), "{message}");
        assert_eq!(refused("{{ -9223372036854775808 }}"), None);
        let (at, _) = refused("{% for i in (1..999999999999) %}{% endfor %}").unwrap();
        assert_eq!(at, "(1..999999999999)");
        assert_eq!(refused("{% for i in (1..10000) %}{% endfor %}"), None);
    }

    #[test]
    fn zero_columns_long_conditions_and_computed_includes_are_refused() {
        let (at, _) = refused("{% tablerow x in (1..3) cols:0 %}{% endtablerow %}").unwrap();
        assert_eq!(at, "cols:0");
        let long = format!(
            "{{% if a{} %}}{{% endif %}}",
            " or a".repeat(MAX_OPERATORS + 1)
        );
        assert!(refused(&long).unwrap().1.contains("'or'"));
        assert!(refused("{% include name %}")
            .unwrap()
            .1
            .contains("string literal"));
        assert!(refused("{% render p %}").is_some());
        assert_eq!(include_name("'a/b', x: 1"), Some("a/b"));
        assert_eq!(include_name("\"p\""), Some("p"));
        assert_eq!(include_name("p"), None);
    }
}

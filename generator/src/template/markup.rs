//! The markup of a liquid template: every `{{ output }}` and `{% tag %}` with its byte span,
//! found without liquid's parser, so that errors can point at the markup they are about.

use std::ops::Range;

/// One tag or output of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Markup<'a> {
    /// From `{{`/`{%` to `}}`/`%}` inclusive.
    pub span: Range<usize>,
    /// `{{ … }}` rather than `{% … %}`.
    pub output: bool,
    /// The tag name (`if`, `endfor`, …); empty for an output.
    pub tag: &'a str,
    /// What follows the tag name (or the whole expression of an output), trimmed.
    pub rest: &'a str,
}

impl<'a> Markup<'a> {
    /// The markup as written.
    pub(crate) fn raw(&self, text: &'a str) -> &'a str {
        &text[self.span.clone()]
    }
}

/// Every markup of `text` in order, skipping the insides of `raw` and `comment` blocks. An
/// unclosed `{{` or `{%` ends the scan.
pub(crate) fn markups(text: &str) -> Vec<Markup<'_>> {
    let mut out = Vec::new();
    let mut from = 0;
    let mut skip_until: Option<&str> = None;
    while let Some(pos) = text[from..].find('{').map(|p| p + from) {
        let open = &text[pos..];
        let (output, close) = if open.starts_with("{{") {
            (true, "}}")
        } else if open.starts_with("{%") {
            (false, "%}")
        } else {
            from = pos + 1;
            continue;
        };
        let Some(end) = text[pos + 2..].find(close).map(|e| e + pos + 4) else {
            break;
        };
        from = end;
        let body = text[pos + 2..end - 2].trim_matches('-').trim();
        let tag = if output {
            ""
        } else {
            body.split_whitespace().next().unwrap_or("")
        };
        if let Some(until) = skip_until {
            if tag == until {
                skip_until = None;
            } else {
                continue;
            }
        }
        match tag {
            "raw" => skip_until = Some("endraw"),
            "comment" => skip_until = Some("endcomment"),
            _ => {}
        }
        out.push(Markup {
            span: pos..end,
            output,
            tag,
            rest: body[tag.len()..].trim(),
        });
    }
    out
}

/// `expr` with the insides of its string literals (`"…"`, `'…'`) blanked with spaces, every
/// byte offset kept; a quote that is never closed is left as it is.
pub(crate) fn blank_strings(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut rest = expr;
    while let Some(open) = rest.find(['"', '\'']) {
        let quote = &rest[open..=open];
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        if let Some(close) = rest.find(quote) {
            out.extend(std::iter::repeat_n(' ', close));
            out.push_str(quote);
            rest = &rest[close + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// A regular expression over ASCII only: compiled in a fraction of the time a Unicode-aware one
/// takes, which matters for a command that runs for milliseconds. `pattern` is a constant.
pub(crate) fn ascii_regex(pattern: &str) -> regex::Regex {
    regex::RegexBuilder::new(pattern)
        .unicode(false)
        .build()
        .unwrap_or_else(|e| unreachable!("{e}"))
}

/// The byte offset of `part` inside `whole`; `part` must be a subslice of it.
pub(crate) fn offset_in(whole: &str, part: &str) -> usize {
    (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize)
}

/// Tags that open a block, with the tag that closes it.
pub(crate) fn closing_tag(tag: &str) -> Option<&'static str> {
    Some(match tag {
        "if" => "endif",
        "unless" => "endunless",
        "for" => "endfor",
        "case" => "endcase",
        "capture" => "endcapture",
        "tablerow" => "endtablerow",
        "raw" => "endraw",
        "comment" => "endcomment",
        "ifchanged" => "endifchanged",
        _ => return None,
    })
}

/// Tags that only make sense inside a block.
pub(crate) fn is_inner_tag(tag: &str) -> bool {
    matches!(tag, "else" | "elsif" | "when" | "break" | "continue") || tag.starts_with("end")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_literals_are_blanked_in_place() {
        assert_eq!(blank_strings(r#"a "b|c" 'd' e"#), r#"a "   " ' ' e"#);
        assert_eq!(blank_strings(r#"x "ü" y"#), "x \"  \" y");
        assert_eq!(blank_strings(r#"a"b 'c' d"#), r#"a"b ' ' d"#);
        assert_eq!(blank_strings("'' \"\""), "'' \"\"");
    }

    #[test]
    fn ascii_patterns_compile() {
        assert!(ascii_regex(r"(?-u:\b)cols\s*:").is_match("a cols :"));
    }

    #[test]
    fn markups_have_spans_tags_and_rest() {
        let t = "a {{ x | upcase }}\n{%- if y -%}b{% endif %}";
        let m = markups(t);
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].raw(t), "{{ x | upcase }}");
        assert_eq!((m[0].output, m[0].rest), (true, "x | upcase"));
        assert_eq!((m[1].tag, m[1].rest), ("if", "y"));
        assert_eq!(m[2].raw(t), "{% endif %}");
        assert_eq!(offset_in(t, m[1].rest), t.find("y -%}").unwrap());
    }

    #[test]
    fn raw_and_comment_blocks_hide_their_insides() {
        let t = "{% raw %}{{ a }}{% endraw %}{% comment %}{% if %}{% endcomment %}{{ b }}";
        let tags: Vec<&str> = markups(t).iter().map(|m| m.rest).collect();
        assert_eq!(tags, vec!["", "", "", "", "b"]);
    }
}

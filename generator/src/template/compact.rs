//! Plain text handed to liquid as short stand-ins. liquid's parser reads text between markups
//! one character at a time, which makes it the slowest step of generating a project; the text
//! itself is never changed by rendering, only repeated or left out. So each stretch of text is
//! replaced by a stand-in that liquid copies as it would have copied the text (the whitespace
//! that `{{-`/`-%}` remove is removed first, exactly as liquid's grammar removes it), and the
//! stand-ins are put back in the output.
//!
//! Where a template does anything that could see the text itself (`capture`, `raw`,
//! `comment`), or where spacegen's markup scanner and liquid's might disagree (quotes holding a
//! closing `}}` or `%}`, an unclosed markup, a stand-in character already present), the text
//! is left whole: the result is then liquid's alone.

use super::markup::markups;

/// Opens a stand-in; a private-use character no template or answer is expected to hold.
const OPEN: char = '\u{E000}';
/// Closes a stand-in.
const CLOSE: char = '\u{E001}';

/// A template with its text replaced by stand-ins, and the text they stand for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Compacted<'a> {
    /// What liquid parses.
    pub markup: String,
    texts: Vec<&'a str>,
    /// Tells this template's stand-ins from anything a value could hold.
    nonce: u64,
    /// There is no markup at all: the text renders to itself.
    pub plain: bool,
}

/// The output with the text put back.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Expanded {
    Done(String),
    /// Something in the output looks like a stand-in but is not one of this template's: the
    /// whole text must be rendered instead.
    NotOurs,
    /// The output would be larger than the limit.
    TooLarge,
}

/// `text` with every stretch of plain text replaced by a stand-in, or `None` when it must be
/// parsed whole.
pub(crate) fn compact(text: &str) -> Option<Compacted<'_>> {
    if text.contains(OPEN) || text.contains(CLOSE) {
        return None;
    }
    let found = markups(text);
    if found.iter().any(|m| {
        matches!(
            m.tag,
            "capture" | "raw" | "comment" | "endraw" | "endcomment"
        )
    }) {
        return None;
    }
    let nonce = nonce();
    let mut out = Compacted {
        markup: String::new(),
        texts: Vec::new(),
        nonce,
        plain: found.is_empty(),
    };
    let mut from = 0;
    let mut trim_next = false;
    for m in &found {
        let raw = m.raw(text);
        if !closes_where_liquid_does(raw) {
            return None;
        }
        let mut between = &text[from..m.span.start];
        if trim_next {
            between = between.trim_start_matches(is_liquid_space);
        }
        if raw[2..].starts_with('-') {
            between = between.trim_end_matches(is_liquid_space);
        }
        out.push_text(between);
        out.markup.push_str(raw);
        trim_next = raw[..raw.len() - 2].ends_with('-');
        from = m.span.end;
    }
    let mut rest = &text[from..];
    if rest.contains("{{") || rest.contains("{%") {
        // An unclosed markup: liquid's error, from the whole text.
        return None;
    }
    if trim_next {
        rest = rest.trim_start_matches(is_liquid_space);
    }
    out.push_text(rest);
    Some(out)
}

impl<'a> Compacted<'a> {
    fn push_text(&mut self, text: &'a str) {
        if text.is_empty() {
            return;
        }
        let i = self.texts.len();
        self.texts.push(text);
        self.markup
            .push_str(&format!("{OPEN}{:x}.{i}{CLOSE}", self.nonce));
    }

    /// The output with every stand-in put back, at most `limit` bytes long.
    pub(crate) fn expand(&self, rendered: &str, limit: usize) -> Expanded {
        let prefix = format!("{OPEN}{:x}.", self.nonce);
        let mut out = String::with_capacity((rendered.len() + self.len()).min(limit));
        let mut rest = rendered;
        while let Some(start) = rest.find(OPEN) {
            out.push_str(&rest[..start]);
            let Some(tail) = rest[start..].strip_prefix(&prefix) else {
                return Expanded::NotOurs;
            };
            let Some(end) = tail.find(CLOSE) else {
                return Expanded::NotOurs;
            };
            let Some(text) = tail[..end]
                .parse()
                .ok()
                .and_then(|i: usize| self.texts.get(i))
            else {
                return Expanded::NotOurs;
            };
            if out.len() + text.len() > limit {
                return Expanded::TooLarge;
            }
            out.push_str(text);
            rest = &tail[end + CLOSE.len_utf8()..];
        }
        out.push_str(rest);
        Expanded::Done(out)
    }

    fn len(&self) -> usize {
        self.texts.iter().map(|t| t.len()).sum()
    }
}

/// liquid's whitespace in its grammar: spaces and line ends, not tabs.
fn is_liquid_space(c: char) -> bool {
    matches!(c, ' ' | '\n' | '\r')
}

/// Whether the first closing `}}`/`%}` of a markup is outside quotes, so the scanner's span
/// and liquid's agree.
fn closes_where_liquid_does(raw: &str) -> bool {
    let close = &raw[raw.len() - 2..];
    let body = &raw[2..raw.len() - 2];
    let mut quote: Option<char> = None;
    for c in body.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None => {}
        }
    }
    quote.is_none() && !body.contains(close) && !body.contains("{{") && !body.contains("{%")
}

/// A number that differs between runs and between templates.
fn nonce() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn liquid(text: &str) -> String {
        let parser = liquid::ParserBuilder::with_stdlib().build().unwrap();
        let globals = liquid::object!({ "x": "X", "xs": ["a", "b"], "yes": true });
        parser.parse(text).unwrap().render(&globals).unwrap()
    }

    fn through_stand_ins(text: &str) -> String {
        let c = compact(text).expect("compactable");
        match c.expand(&liquid(&c.markup), usize::MAX) {
            Expanded::Done(out) => out,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn renders_exactly_as_liquid_does() {
        for text in [
            "plain text only\n",
            "a {{ x }} b",
            "line\n  {{- x -}}  \n next",
            "\t{%- if yes -%}\t yes \n{%- endif %}\n",
            "{% for i in xs %}[{{ i }}]\n{% endfor %}tail",
            "{% if yes %}A{% else %}B{% endif %}{{ x | append: \"}\" }}",
            "  \r\n{{- x }}\r\n",
            "{% assign y = 'q' %}{{ y }} and {{ x }}",
        ] {
            assert_eq!(through_stand_ins(text), liquid(text), "{text:?}");
        }
    }

    #[test]
    fn text_that_markup_could_see_or_that_scanners_could_split_stays_whole() {
        for text in [
            "{% capture c %}text{% endcapture %}{{ c | upcase }}",
            "{% raw %}{{ x }}{% endraw %}",
            "{% comment %}x{% endcomment %}",
            "{{ 'a}}b' }}",
            "{{ x }} {{ unclosed",
            "has \u{E000} already",
        ] {
            assert_eq!(compact(text), None, "{text:?}");
        }
    }

    #[test]
    fn plain_text_is_recognised() {
        assert!(compact("no markup here").unwrap().plain);
        assert!(!compact("a {{ x }}").unwrap().plain);
    }

    #[test]
    fn a_value_that_looks_like_a_stand_in_is_not_taken_for_one() {
        let c = compact("a {{ x }}").unwrap();
        let forged = format!("{}{OPEN}0.0{CLOSE}", c.markup);
        assert_eq!(c.expand(&forged, usize::MAX), Expanded::NotOurs);
    }

    #[test]
    fn the_output_limit_counts_the_text_put_back() {
        let text = format!("{}{{{{ x }}}}", "t".repeat(100));
        let c = compact(&text).unwrap();
        let rendered = liquid(&c.markup);
        assert_eq!(c.expand(&rendered, 50), Expanded::TooLarge);
        assert!(matches!(c.expand(&rendered, 101), Expanded::Done(_)));
    }
}

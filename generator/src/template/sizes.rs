//! Bounds on the size of the values a render makes, not only of what it writes.
//!
//! Invariant: no value a template assigns, captures or gets from a filter weighs more than
//! [`MAX_VALUE`] (see [`weight`]), and no filter allocates a result past it: `append` doubling
//! a string forty times, `replace` of every character by a long string, `split` of a long text
//! into one-character items or `join` with a long separator are refused before the result is
//! built (where it can be told from the input and arguments) or as soon as it is. The assign,
//! capture or filter at fault is told by its place in the text: each is numbered, per tag or
//! filter name, as the template is parsed (in the text's order), and the number of the one
//! refused is kept for [`super::engine`] to point at.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::io::Write;

use liquid_core::model::{KString, ScalarCow};
use liquid_core::parser::{FilterArguments, Tag};
use liquid_core::{
    BlockReflection, Error, Expression, Filter, FilterReflection, Language, ParseBlock,
    ParseFilter, ParseTag, Renderable, Result, Runtime, TagBlock, TagReflection, TagTokenIter,
    Template, Value, ValueView,
};

/// The most a value may weigh: as much as a whole render may write.
pub(crate) const MAX_VALUE: usize = super::guard::MAX_OUTPUT;
/// What one item of a list or object weighs beyond its contents.
const ITEM: usize = 16;

/// Which markup of a text refused a value: the `index`th (from 0) `assign` or `capture` tag,
/// or the `index`th use of filter `name`, in the text's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Culprit {
    pub kind: CulpritKind,
    pub index: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CulpritKind {
    Tag(&'static str),
    Filter(String),
}

thread_local! {
    /// While a text is parsed: how many of each kind of markup have been numbered so far.
    static PARSING: RefCell<Option<HashMap<String, usize>>> = const { RefCell::new(None) };
    /// The markup that refused a value in the current render.
    static REFUSED: RefCell<Option<Culprit>> = const { RefCell::new(None) };
}

/// Runs `parse` numbering the markups it parses; forgets what an earlier render refused.
pub(crate) fn numbered<T>(parse: impl FnOnce() -> T) -> T {
    REFUSED.with(|r| r.borrow_mut().take());
    PARSING.with(|p| *p.borrow_mut() = Some(HashMap::new()));
    let out = parse();
    PARSING.with(|p| p.borrow_mut().take());
    out
}

/// The markup that refused a value in the last render on this thread, if one did.
pub(crate) fn refused() -> Option<Culprit> {
    REFUSED.with(|r| r.borrow_mut().take())
}

/// The next number of `kind`, when a text is being parsed (a partial is parsed once, ahead of
/// every text: its markups get none).
fn number(kind: CulpritKind) -> Option<Culprit> {
    let key = match &kind {
        CulpritKind::Tag(t) => format!("%{t}"),
        CulpritKind::Filter(f) => format!("|{f}"),
    };
    PARSING.with(|p| {
        let mut p = p.borrow_mut();
        let counts = p.as_mut()?;
        let n = counts.entry(key).or_insert(0);
        let index = *n;
        *n += 1;
        Some(Culprit { kind, index })
    })
}

/// The error for a value of `size` bytes, made at `at`.
fn too_large(at: &Option<Culprit>, what: &str, size: usize) -> Error {
    if let Some(at) = at {
        REFUSED.with(|r| {
            let mut r = r.borrow_mut();
            if r.is_none() {
                *r = Some(at.clone());
            }
        });
    }
    Error::with_msg(message(what, size))
}

/// What a refused value says.
pub(crate) fn message(what: &str, size: usize) -> String {
    format!(
        "{what} would make a value of {} MiB; a value may hold at most {} MiB (one that grows without bound?)",
        size.div_ceil(1 << 20),
        MAX_VALUE >> 20
    )
}

/// What `value` weighs: the bytes of its text, and [`ITEM`] more per item of a list or
/// object; counting stops once past [`MAX_VALUE`].
pub(crate) fn weight(value: &dyn ValueView) -> usize {
    let mut total = 0;
    add(value, &mut total);
    total
}

fn add(value: &dyn ValueView, total: &mut usize) {
    if *total > MAX_VALUE {
        return;
    }
    if let Some(a) = value.as_array() {
        for v in a.values() {
            *total = total.saturating_add(ITEM);
            add(v, total);
            if *total > MAX_VALUE {
                return;
            }
        }
    } else if let Some(o) = value.as_object() {
        for (k, v) in o.iter() {
            *total = total.saturating_add(ITEM + k.len());
            add(v, total);
            if *total > MAX_VALUE {
                return;
            }
        }
    } else if let Some(s) = value.as_scalar() {
        *total = total.saturating_add(s.to_kstr().len());
    }
}

/// A liquid filter whose result is weighed: before it is made where its size follows from the
/// input and arguments, else once made (the filters that only grow a value by a bounded factor).
#[derive(Clone)]
pub(crate) struct Bounded<F>(pub F);

impl<F: ParseFilter + Clone + 'static> ParseFilter for Bounded<F> {
    fn parse(&self, arguments: FilterArguments<'_>) -> Result<Box<dyn Filter>> {
        let name = self.0.reflection().name().to_owned();
        let positional: Vec<Expression> = arguments.positional.collect();
        let keyword: Vec<(&str, Expression)> = arguments.keyword.collect();
        let args = positional.clone();
        let inner = self.0.parse(FilterArguments {
            positional: Box::new(positional.into_iter()),
            keyword: Box::new(keyword.into_iter()),
        })?;
        let at = number(CulpritKind::Filter(name.clone()));
        Ok(Box::new(BoundedFilter {
            inner,
            name,
            args,
            at,
        }))
    }

    fn reflection(&self) -> &dyn FilterReflection {
        self.0.reflection()
    }
}

#[derive(Debug)]
struct BoundedFilter {
    inner: Box<dyn Filter>,
    name: String,
    args: Vec<Expression>,
    at: Option<Culprit>,
}

impl fmt::Display for BoundedFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)
    }
}

impl BoundedFilter {
    /// Argument `i` as text, if given.
    fn text(&self, i: usize, runtime: &dyn Runtime) -> Result<Option<String>> {
        match self.args.get(i) {
            Some(e) => Ok(Some(e.evaluate(runtime)?.to_kstr().into_string())),
            None => Ok(None),
        }
    }

    /// How many times `search` occurs in `s` as `str::replace` and `str::split` count it (an
    /// empty one everywhere between characters).
    fn occurrences(s: &str, search: &str) -> usize {
        if search.is_empty() {
            s.chars().count() + 1
        } else {
            s.matches(search).count()
        }
    }

    /// The weight of the result, when it can be told before the filter runs.
    fn predicted(&self, input: &dyn ValueView, runtime: &dyn Runtime) -> Result<Option<usize>> {
        let size = match self.name.as_str() {
            "append" | "prepend" => {
                let extra = self.text(0, runtime)?.unwrap_or_default();
                input.to_kstr().len().saturating_add(extra.len())
            }
            "replace" | "replace_first" => {
                let s = input.to_kstr();
                let search = self.text(0, runtime)?.unwrap_or_default();
                let with = self.text(1, runtime)?.unwrap_or_default();
                let n = if self.name == "replace" {
                    Self::occurrences(&s, &search)
                } else {
                    1
                };
                s.len().saturating_add(n.saturating_mul(with.len()))
            }
            "split" => {
                let s = input.to_kstr();
                let by = self.text(0, runtime)?.unwrap_or_default();
                let n = Self::occurrences(&s, &by);
                s.len().saturating_add(n.saturating_mul(ITEM))
            }
            "join" => {
                let Some(items) = input.as_array() else {
                    return Ok(None);
                };
                let by = self.text(0, runtime)?.unwrap_or_else(|| " ".to_owned());
                let mut size = items.size().max(0) as usize * by.len();
                for v in items.values() {
                    size = size.saturating_add(weight(v));
                    if size > MAX_VALUE {
                        break;
                    }
                }
                size
            }
            "concat" => {
                let other = match self.args.first() {
                    Some(e) => weight(e.evaluate(runtime)?.as_view()),
                    None => 0,
                };
                weight(input).saturating_add(other)
            }
            _ => return Ok(None),
        };
        Ok(Some(size))
    }
}

impl Filter for BoundedFilter {
    fn evaluate(&self, input: &dyn ValueView, runtime: &dyn Runtime) -> Result<Value> {
        let what = format!("the filter '{}'", self.name);
        if let Some(size) = self.predicted(input, runtime)? {
            if size > MAX_VALUE {
                return Err(too_large(&self.at, &what, size));
            }
        }
        let out = self.inner.evaluate(input, runtime)?;
        let size = weight(out.as_view());
        if size > MAX_VALUE {
            return Err(too_large(&self.at, &what, size));
        }
        Ok(out)
    }
}

/// liquid's `assign`, with the value it assigns weighed.
#[derive(Clone)]
pub(crate) struct Assign<T>(pub T);

impl<T: ParseTag + Clone + 'static> ParseTag for Assign<T> {
    fn parse(
        &self,
        arguments: TagTokenIter<'_>,
        options: &Language,
    ) -> Result<Box<dyn Renderable>> {
        let at = number(CulpritKind::Tag("assign"));
        let words: Vec<String> = arguments.map(|t| t.as_str().to_owned()).collect();
        let name = words.first().cloned().unwrap_or_default();
        let text = format!("{{% assign {} %}}", words.join(" "));
        let inner = self.0.parse(Tag::new(&text)?.into_tokens(), options)?;
        Ok(Box::new(Assigned { inner, name, at }))
    }

    fn reflection(&self) -> &dyn TagReflection {
        self.0.reflection()
    }
}

#[derive(Debug)]
struct Assigned {
    inner: Box<dyn Renderable>,
    name: String,
    at: Option<Culprit>,
}

impl Renderable for Assigned {
    fn render_to(&self, writer: &mut dyn Write, runtime: &dyn Runtime) -> Result<()> {
        self.inner.render_to(writer, runtime)?;
        let size = runtime
            .try_get(&[ScalarCow::new(self.name.as_str())])
            .map_or(0, |v| weight(v.as_view()));
        if size > MAX_VALUE {
            let what = format!("assigning '{}'", self.name);
            return Err(too_large(&self.at, &what, size));
        }
        Ok(())
    }
}

/// liquid's `capture`, capturing into a buffer that refuses to grow past [`MAX_VALUE`].
#[derive(Clone, Copy)]
pub(crate) struct Capture;

impl ParseBlock for Capture {
    fn parse(
        &self,
        mut arguments: TagTokenIter<'_>,
        mut block: TagBlock<'_, '_>,
        options: &Language,
    ) -> Result<Box<dyn Renderable>> {
        let at = number(CulpritKind::Tag("capture"));
        let id = arguments
            .expect_next("Identifier expected")?
            .expect_identifier()
            .into_result()?
            .to_owned();
        arguments.expect_nothing()?;
        let template = Template::new(block.parse_all(options)?);
        block.assert_empty();
        Ok(Box::new(Captured { id, template, at }))
    }

    fn reflection(&self) -> &dyn BlockReflection {
        &liquid_lib::stdlib::CaptureBlock
    }
}

#[derive(Debug)]
struct Captured {
    id: String,
    template: Template,
    at: Option<Culprit>,
}

impl Renderable for Captured {
    fn render_to(&self, _writer: &mut dyn Write, runtime: &dyn Runtime) -> Result<()> {
        let mut out = Limited::default();
        let what = format!("capturing '{}'", self.id);
        match self.template.render_to(&mut out, runtime) {
            Ok(()) => {}
            Err(_) if out.over => return Err(too_large(&self.at, &what, out.size)),
            Err(e) => return Err(e),
        }
        let text = String::from_utf8(out.bytes)
            .map_err(|_| Error::with_msg("the captured text is not UTF-8"))?;
        runtime.set_global(KString::from(self.id.clone()), Value::scalar(text));
        Ok(())
    }
}

/// A buffer that refuses to grow past [`MAX_VALUE`] bytes, remembering how large it was asked
/// to grow.
#[derive(Default)]
struct Limited {
    bytes: Vec<u8>,
    over: bool,
    size: usize,
}

impl Write for Limited {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let size = self.bytes.len().saturating_add(buf.len());
        if size > MAX_VALUE {
            self.over = true;
            self.size = size;
            return Err(std::io::Error::other("value too large"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Where in `text` culprit `c` is: the markup holding it.
pub(crate) fn locate(text: &str, c: &Culprit) -> Option<std::ops::Range<usize>> {
    use super::markup::{blank_strings, markups};
    let mut seen = 0;
    for m in markups(text) {
        match &c.kind {
            CulpritKind::Tag(tag) => {
                if !m.output && m.tag == *tag {
                    if seen == c.index {
                        return Some(m.span);
                    }
                    seen += 1;
                }
            }
            CulpritKind::Filter(name) => {
                let cleaned = blank_strings(m.rest);
                let uses = cleaned
                    .split('|')
                    .skip(1)
                    .filter(|f| {
                        let f = f.trim_start();
                        f.strip_prefix(name.as_str()).is_some_and(|after| {
                            !after.starts_with(|c: char| c.is_alphanumeric() || c == '_')
                        })
                    })
                    .count();
                if seen + uses > c.index {
                    return Some(m.span);
                }
                seen += uses;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn culprits_are_found_by_their_place_among_their_kind() {
        let text = "{{ a | append: b }}\n{% assign x = y | append: z | replace: 'a|b', x %}\n\
                    {% capture c %}{{ x | join: ',' }}{% endcapture %}\n{% assign q = x %}";
        let at = |kind: CulpritKind, index| {
            locate(text, &Culprit { kind, index }).map(|span| &text[span])
        };
        let filter = |name: &str| CulpritKind::Filter(name.to_owned());
        assert_eq!(at(filter("append"), 0), Some("{{ a | append: b }}"));
        assert!(at(filter("append"), 1).unwrap().starts_with("{% assign x"));
        assert!(at(filter("replace"), 0).unwrap().starts_with("{% assign x"));
        assert_eq!(at(filter("join"), 0), Some("{{ x | join: ',' }}"));
        assert_eq!(at(filter("append"), 2), None);
        assert_eq!(
            at(CulpritKind::Tag("assign"), 1),
            Some("{% assign q = x %}")
        );
        assert!(at(CulpritKind::Tag("capture"), 0)
            .unwrap()
            .starts_with("{% capture c"));
    }

    #[test]
    fn values_weigh_their_text_and_their_items() {
        assert_eq!(weight(&Value::scalar("abc")), 3);
        let list = Value::Array(vec![Value::scalar("ab"), Value::scalar("")]);
        assert_eq!(weight(&list), 2 + 2 * ITEM);
        assert_eq!(weight(&Value::Nil), 0);
        let huge = Value::Array(vec![Value::Nil; MAX_VALUE / ITEM + 1]);
        assert!(weight(&huge) > MAX_VALUE);
    }
}

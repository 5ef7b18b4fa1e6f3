//! Bounds on what rendering may cost at run time, where a template's loops read answers.
//!
//! Invariant: a render either ends within [`DEADLINE`] or is reported as too slow; it runs at
//! most [`MAX_STEPS`] loop iterations and partial includes in all, writes at most
//! [`MAX_OUTPUT`] bytes, never gives a table zero columns, and a panic inside liquid is
//! returned as a message, never printed or unwound into the caller. Loops and includes are
//! liquid's own, wrapped: the wrapper weighs a loop before it runs (the size of its range or
//! list: liquid builds the whole range in memory before `limit` cuts it) and refuses it if the
//! budget of the render is spent.

use std::cell::Cell;
use std::io::Write;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{mpsc, Once};
use std::time::Duration;

use liquid_core::parser::Tag;
use liquid_core::{
    BlockReflection, Error, Expression, Language, ParseBlock, ParseTag, Renderable, Result,
    Runtime, TagBlock, TagReflection, TagTokenIter, ValueView,
};
use liquid_lib::stdlib::{Range, RangeExpression};

/// Loop iterations and includes one render may run, in all.
pub(crate) const MAX_STEPS: i128 = 100_000;
/// Bytes one render may write.
pub(crate) const MAX_OUTPUT: usize = 16 << 20;
/// How long one render may take.
pub(crate) const DEADLINE: Duration = Duration::from_secs(20);
/// The stack of the thread a render runs on: blocks nest at most
/// [`super::bounds::MAX_NESTING`] deep per text and [`super::includes::MAX_INCLUDE_DEPTH`]
/// texts deep, which this holds with room to spare.
const STACK: usize = 256 << 20;

/// Why a guarded piece of work did not return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stopped {
    /// It panicked, with this message.
    Panicked(String),
    /// It ran past [`DEADLINE`].
    TimedOut,
}

/// Runs `work` on a thread with a large stack, returning what it returns, or why it did not:
/// a panic (caught, and not printed) or the deadline passing (the thread is then left behind;
/// the caller is expected to report the error and end).
pub(crate) fn run<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> std::result::Result<T, Stopped> {
    run_within(DEADLINE, work)
}

/// A piece of work for the render thread.
type Job = Box<dyn FnOnce() + Send>;

thread_local! {
    /// The render thread of the calling thread: started on first use and kept, since starting
    /// one per render costs more than most renders.
    static WORKER: std::cell::RefCell<Option<mpsc::Sender<Job>>> =
        const { std::cell::RefCell::new(None) };
}

/// [`run`], with a deadline of `deadline`.
fn run_within<T: Send + 'static>(
    deadline: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> std::result::Result<T, Stopped> {
    let (tx, rx) = mpsc::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(quietly(work));
    });
    WORKER.with(|worker| {
        let mut worker = worker.borrow_mut();
        if worker.is_none() {
            *worker = start_worker();
        }
        match worker.as_ref() {
            Some(sender) => sender.send(job).map_err(|_| {
                *worker = None;
                Stopped::Panicked("the render thread ended early".to_owned())
            }),
            None => Err(Stopped::Panicked("no thread to render on".to_owned())),
        }
    })?;
    match rx.recv_timeout(deadline) {
        Ok(outcome) => outcome,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            // The thread is stuck in this work: the next render gets a new one.
            WORKER.with(|worker| worker.borrow_mut().take());
            Err(Stopped::TimedOut)
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            WORKER.with(|worker| worker.borrow_mut().take());
            Err(Stopped::Panicked(
                "the render thread ended early".to_owned(),
            ))
        }
    }
}

/// A thread with a large stack that runs jobs in turn until its sender is dropped.
fn start_worker() -> Option<mpsc::Sender<Job>> {
    let (tx, rx) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("render".to_owned())
        .stack_size(STACK)
        .spawn(move || {
            for job in rx {
                job();
            }
        })
        .ok()?;
    Some(tx)
}

/// Runs `work` on this thread, catching a panic without printing it.
pub(crate) fn quietly<T>(work: impl FnOnce() -> T) -> std::result::Result<T, Stopped> {
    install_hook();
    let was = QUIET.with(|q| q.replace(true));
    let outcome = panic::catch_unwind(AssertUnwindSafe(work));
    QUIET.with(|q| q.set(was));
    outcome.map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_owned());
        Stopped::Panicked(message)
    })
}

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Wraps the panic hook once so that it says nothing on a thread inside [`quietly`].
fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// A writer that refuses to grow past [`MAX_OUTPUT`] bytes.
pub(crate) struct Capped {
    pub bytes: Vec<u8>,
    pub overflowed: bool,
}

impl Capped {
    pub(crate) fn new() -> Capped {
        Capped {
            bytes: Vec::new(),
            overflowed: false,
        }
    }
}

impl Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > MAX_OUTPUT {
            self.overflowed = true;
            return Err(std::io::Error::other(output_too_large()));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The message of a render that wrote more than [`MAX_OUTPUT`].
pub(crate) fn output_too_large() -> String {
    format!(
        "the output is larger than {} MiB (an unbounded loop?)",
        MAX_OUTPUT >> 20
    )
}

/// The steps a render has run, kept in liquid's per-render registers.
#[derive(Default)]
struct Steps(i128);

/// Counts `n` more steps, failing once the render has run more than [`MAX_STEPS`].
fn spend(runtime: &dyn Runtime, n: i128) -> Result<()> {
    let mut steps = runtime.registers().get_mut::<Steps>();
    steps.0 = steps.0.saturating_add(n.max(0));
    if steps.0 > MAX_STEPS {
        return Err(Error::with_msg(format!(
            "more than {MAX_STEPS} loop iterations and includes (an unbounded loop?)"
        )));
    }
    Ok(())
}

/// liquid's `for` or `tablerow`, weighed before it runs.
#[derive(Clone)]
pub(crate) struct Loop<B>(pub B);

impl<B: ParseBlock + Clone + 'static> ParseBlock for Loop<B> {
    fn parse(
        &self,
        arguments: TagTokenIter<'_>,
        block: TagBlock<'_, '_>,
        options: &Language,
    ) -> Result<Box<dyn Renderable>> {
        // The arguments are read twice: for their size here and by liquid's own block.
        let words: Vec<String> = arguments.map(|t| t.as_str().to_owned()).collect();
        let text = format!(
            "{{% {} {} %}}",
            self.0.reflection().start_tag(),
            words.join(" ")
        );
        let weight = Weight::parse(Tag::new(&text)?.into_tokens());
        let inner = self
            .0
            .parse(Tag::new(&text)?.into_tokens(), block, options)?;
        Ok(Box::new(Weighed { inner, weight }))
    }

    fn reflection(&self) -> &dyn BlockReflection {
        self.0.reflection()
    }
}

/// What a loop's size is read from.
#[derive(Debug, Default)]
struct Weight {
    range: Option<RangeExpression>,
    cols: Option<Expression>,
}

impl Weight {
    /// `VAR in RANGE [cols:N] …`, as far as it makes sense; liquid's block reports
    /// what does not.
    fn parse(mut tokens: TagTokenIter<'_>) -> Weight {
        let mut weight = Weight::default();
        let (Some(_var), Some(_in), Some(range)) = (tokens.next(), tokens.next(), tokens.next())
        else {
            return weight;
        };
        weight.range = match range.expect_value() {
            liquid_core::parser::TryMatchToken::Matches(e) => Some(RangeExpression::Array(e)),
            liquid_core::parser::TryMatchToken::Fails(t) => match t.expect_range() {
                liquid_core::parser::TryMatchToken::Matches((a, b)) => {
                    Some(RangeExpression::Counted(a, b))
                }
                liquid_core::parser::TryMatchToken::Fails(_) => None,
            },
        };
        while let Some(name) = tokens.next() {
            let name = name.as_str().to_owned();
            if name != "cols" {
                continue;
            }
            let (Some(_colon), Some(value)) = (tokens.next(), tokens.next()) else {
                break;
            };
            if let liquid_core::parser::TryMatchToken::Matches(e) = value.expect_value() {
                weight.cols = Some(e);
            }
        }
        weight
    }

    /// How many items the loop's range or list has over `runtime`: what liquid builds, and at
    /// most how many times the loop runs.
    fn iterations(&self, runtime: &dyn Runtime) -> Result<i128> {
        let Some(range) = &self.range else {
            return Ok(0);
        };
        let n = match range.evaluate(runtime)? {
            Range::Counted(start, stop) => i128::from(stop) - i128::from(start) + 1,
            Range::Array(value) => {
                let value = value.as_view();
                match (value.as_array(), value.as_object()) {
                    (Some(a), _) => i128::from(a.size()),
                    (None, Some(o)) => i128::from(o.size()),
                    _ => 1,
                }
            }
        };
        Ok(n.max(0))
    }
}

/// The integer `expr` evaluates to, if it is one.
fn integer(expr: &Option<Expression>, runtime: &dyn Runtime) -> Result<Option<i64>> {
    let Some(expr) = expr else {
        return Ok(None);
    };
    let value = expr.evaluate(runtime)?;
    Ok(value.as_scalar().and_then(|s| s.to_integer()))
}

#[derive(Debug)]
struct Weighed {
    inner: Box<dyn Renderable>,
    weight: Weight,
}

impl Renderable for Weighed {
    fn render_to(&self, writer: &mut dyn Write, runtime: &dyn Runtime) -> Result<()> {
        if integer(&self.weight.cols, runtime)?.is_some_and(|c| c < 1) {
            return Err(Error::with_msg("cols must be at least 1"));
        }
        spend(runtime, self.weight.iterations(runtime)?)?;
        self.inner.render_to(writer, runtime)
    }
}

/// liquid's `include` or `render`, counted as a step.
#[derive(Clone)]
pub(crate) struct Counted<T>(pub T);

impl<T: ParseTag + Clone + 'static> ParseTag for Counted<T> {
    fn parse(
        &self,
        arguments: TagTokenIter<'_>,
        options: &Language,
    ) -> Result<Box<dyn Renderable>> {
        let inner = self.0.parse(arguments, options)?;
        Ok(Box::new(Step(inner)))
    }

    fn reflection(&self) -> &dyn TagReflection {
        self.0.reflection()
    }
}

#[derive(Debug)]
struct Step(Box<dyn Renderable>);

impl Renderable for Step {
    fn render_to(&self, writer: &mut dyn Write, runtime: &dyn Runtime) -> Result<()> {
        spend(runtime, 1)?;
        self.0.render_to(writer, runtime)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parser() -> liquid::Parser {
        liquid::ParserBuilder::with_stdlib()
            .block(Loop(liquid_lib::stdlib::ForBlock))
            .block(Loop(liquid_lib::stdlib::TableRowBlock))
            .tag(Counted(liquid_lib::stdlib::IncludeTag))
            .build()
            .unwrap()
    }

    fn render(text: &str, n: i64) -> std::result::Result<String, String> {
        let globals = liquid::object!({ "n": n, "xs": [1, 2, 3] });
        parser()
            .parse(text)
            .and_then(|t| t.render(&globals))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn loops_within_the_budget_render_as_liquid_does() {
        let t = "{% for i in (1..n) limit:2 %}{{ i }}{% else %}none{% endfor %}|\
                 {% tablerow x in xs cols:2 %}{{ x }}{% endtablerow %}";
        let out = render(t, 3).unwrap();
        assert!(out.starts_with("12|<tr class=\"row1\">"), "{out}");
        assert!(render(t, 0).unwrap().starts_with("none|"));
        assert_eq!(
            render("{% for i in xs reversed %}{{ i }}{% endfor %}", 0).unwrap(),
            "321"
        );
    }

    #[test]
    fn loops_past_the_budget_fail_before_running() {
        let e = render("{% for i in (1..n) %}{{ i }}{% endfor %}", 999_999_999_999).unwrap_err();
        assert!(e.contains("loop iterations"), "{e}");
        let nested = "{% for a in (1..n) %}{% for b in (1..n) %}{% endfor %}{% endfor %}";
        assert!(render(nested, 400).unwrap_err().contains("loop iterations"));
        assert!(render(nested, 100).is_ok());
        let limited = "{% for i in (1..n) limit:5 %}{{ i }}{% endfor %}";
        assert_eq!(render(limited, 10).unwrap(), "12345");
        assert!(
            render(limited, 999_999_999_999).is_err(),
            "liquid builds the whole range"
        );
    }

    #[test]
    fn zero_columns_are_an_error_not_a_panic() {
        let e = render("{% tablerow x in xs cols:n %}{{ x }}{% endtablerow %}", 0).unwrap_err();
        assert!(e.contains("cols must be at least 1"), "{e}");
    }

    #[test]
    fn panics_are_caught_quietly_and_deadlines_kept() {
        assert_eq!(run(|| 2 + 2), Ok(4));
        let stopped = run(|| -> u8 { panic!("boom") }).unwrap_err();
        assert_eq!(stopped, Stopped::Panicked("boom".to_owned()));
        assert_eq!(quietly(|| 1), Ok(1));
        let slow = run_within(Duration::from_millis(50), || {
            std::thread::sleep(Duration::from_secs(2));
        });
        assert_eq!(slow, Err(Stopped::TimedOut));
    }

    #[test]
    fn the_writer_refuses_output_past_the_cap() {
        let mut w = Capped::new();
        assert!(w.write_all(&vec![b'x'; MAX_OUTPUT]).is_ok());
        assert!(w.write_all(b"y").is_err());
        assert!(w.overflowed);
    }
}

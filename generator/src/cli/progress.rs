//! Progress of `lock` and `lock --verify` on standard error. On a terminal the running step is a
//! spinner with its elapsed time, replaced by one line with the result when the step ends;
//! elsewhere (a pipe, a log, `TERM=dumb`) nothing moves: the step's name and its result are
//! lines of their own, each written whole.

use std::io::IsTerminal as _;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::printer::Printer;
use crate::progress::Progress;

/// How often the spinner turns.
const TICK: Duration = Duration::from_millis(120);

/// Whether standard error is a terminal that can redraw a line.
fn is_interactive_terminal() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// The command line's [`Progress`].
pub(super) struct Steps<'a> {
    printer: &'a Printer,
    terminal: bool,
    /// The line of the step under way, and its spinner on a terminal.
    running: Option<(String, Option<ProgressBar>)>,
}

impl<'a> Steps<'a> {
    pub(super) fn new(printer: &'a Printer) -> Steps<'a> {
        Steps {
            printer,
            terminal: is_interactive_terminal(),
            running: None,
        }
    }

    /// Runs `work` as one step shown as `line`: a spinner on a terminal, whole lines elsewhere.
    pub(super) fn run<T>(
        &mut self,
        line: String,
        work: impl FnOnce() -> crate::error::Result<T>,
    ) -> crate::error::Result<T> {
        self.start(line);
        let started = std::time::Instant::now();
        let result = work();
        let elapsed = result.as_ref().ok().map(|_| started.elapsed());
        self.finish(&outcome(elapsed), "        ");
        result
    }

    /// Starts a step shown as `line`.
    fn start(&mut self, line: String) {
        self.stop();
        let spinner = if self.terminal {
            let style = ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
                .with_style(style)
                .with_message(line.trim_start().to_owned());
            bar.enable_steady_tick(TICK);
            Some(bar)
        } else {
            let _ = self.printer.err(&line);
            None
        };
        self.running = Some((line, spinner));
    }

    /// Ends the step under way with `result`: beside its name on a terminal, on a line of its
    /// own (indented by `indent`) elsewhere, or not at all when `result` is empty.
    fn finish(&mut self, result: &str, indent: &str) {
        let Some((line, spinner)) = self.running.take() else {
            return;
        };
        let _ = match spinner {
            Some(bar) => {
                bar.finish_and_clear();
                self.printer.err(format_args!("{line} {result}"))
            }
            None if result.is_empty() => Ok(()),
            None => self.printer.err(format_args!("{indent}{result}")),
        };
    }

    /// Takes the spinner off the screen, if one turns.
    fn stop(&mut self) {
        if let Some((_, Some(bar))) = self.running.take() {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Steps<'_> {
    /// An error ends the run between events: the spinner must not outlive it.
    fn drop(&mut self) {
        self.stop();
    }
}

fn outcome(elapsed: Option<Duration>) -> String {
    match elapsed {
        Some(d) => format!("ok ({:.1} s)", d.as_secs_f64()),
        None => "FAILED".to_owned(),
    }
}

impl Progress for Steps<'_> {
    fn resolving(&mut self, blueprint: &str) {
        self.start(format!(
            "{blueprint}: resolving the transitive set for every platform and supported Python with uv…"
        ));
    }

    fn resolved(&mut self, elapsed: Option<Duration>) {
        // Off a terminal the resolution's end is the summary that follows.
        let result = if self.terminal {
            outcome(elapsed)
        } else {
            String::new()
        };
        self.finish(&result, "");
    }

    fn verifying(&mut self, blueprint: &str) {
        self.stop();
        let _ = self.printer.err(format_args!("verifying {blueprint} …"));
    }

    fn step_started(&mut self, n: usize, total: usize, name: &str) {
        self.start(format!("  [{n}/{total}] {name}…"));
    }

    fn step_finished(&mut self, elapsed: Option<Duration>) {
        self.finish(&outcome(elapsed), "        ");
    }
}

//! Where the command line's output goes. Results go to standard output, progress and errors
//! to standard error. A write that fails (a closed pipe: `spacegen show | head`) is an error
//! the caller can recognise and end quietly on.

use std::fmt::Display;
use std::io::{self, Write};

use crate::error::{Error, Result};

/// Writes lines to standard output and standard error.
pub(crate) struct Printer {
    stdout: io::Stdout,
    stderr: io::Stderr,
}

impl Printer {
    pub(super) fn new() -> Printer {
        Printer {
            stdout: io::stdout(),
            stderr: io::stderr(),
        }
    }

    /// Writes `text` and a newline to standard output.
    pub(super) fn out(&self, text: impl Display) -> Result<()> {
        writeln!(self.stdout.lock(), "{text}")
            .map_err(|e| Error::io("write to", "standard output", e))
    }

    /// Writes `bytes` as they are to standard output.
    pub(super) fn out_raw(&self, bytes: &[u8]) -> Result<()> {
        let mut out = self.stdout.lock();
        out.write_all(bytes)
            .and_then(|()| out.flush())
            .map_err(|e| Error::io("write to", "standard output", e))
    }

    /// Writes `text` and a newline to standard error.
    pub(super) fn err(&self, text: impl Display) -> Result<()> {
        writeln!(self.stderr.lock(), "{text}")
            .map_err(|e| Error::io("write to", "standard error", e))
    }
}

/// Whether `e` is a write into a closed pipe, which ends a command quietly.
pub(crate) fn is_broken_pipe(e: &Error) -> bool {
    matches!(e, Error::Io { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
}

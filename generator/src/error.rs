//! Errors and the exit codes they map to.
//!
//! Every error says what went wrong, where (file, line, key or variable) and, where there is
//! one, how to fix it. The exit code tells scripts which kind of failure it was.

use std::fmt;
use std::path::PathBuf;

/// Exit codes, as documented in the README and in `spacegen --help`.
pub mod exit {
    /// Success.
    pub const OK: i32 = 0;
    /// An I/O failure or another runtime error.
    pub const FAILURE: i32 = 1;
    /// Bad command-line usage or invalid input: answers, destination, arguments.
    pub const USAGE: i32 = 2;
    /// A blueprint, template or lock file is malformed or out of date.
    pub const BLUEPRINT: i32 = 3;
}

/// The kinds of failure spacegen reports.
#[derive(Debug)]
pub enum Error {
    /// Invalid user input: several problems reported at once.
    Input(Vec<String>),
    /// A destination that cannot be written as asked.
    Destination(String),
    /// A blueprint (its manifest, a template, a partial) is malformed.
    Blueprint { origin: String, message: String },
    /// `spaces.lock` is missing an entry, malformed or out of date.
    Lock(String),
    /// A file system operation failed.
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    /// A runtime failure that is not the user's input.
    Other(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn blueprint(origin: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Blueprint {
            origin: origin.into(),
            message: message.into(),
        }
    }

    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            action,
            source,
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) | Error::Destination(_) => exit::USAGE,
            Error::Blueprint { .. } | Error::Lock(_) => exit::BLUEPRINT,
            Error::Io { .. } | Error::Other(_) => exit::FAILURE,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input(problems) => {
                let n = problems.len();
                write!(
                    f,
                    "{n} invalid or missing value{}:",
                    if n == 1 { "" } else { "s" }
                )?;
                for p in problems {
                    write!(f, "\n  - {p}")?;
                }
                write!(f, "\nnothing was written")
            }
            Error::Destination(msg) => write!(f, "{msg}\nnothing was written"),
            Error::Blueprint { origin, message } => write!(f, "{origin}: {message}"),
            Error::Lock(msg) => write!(f, "spaces.lock: {msg}"),
            Error::Io {
                path,
                action,
                source,
            } => {
                write!(f, "cannot {action} {}: {source}", path.display())
            }
            Error::Other(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for Error {}

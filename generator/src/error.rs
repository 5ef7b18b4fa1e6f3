//! Errors, the exit codes they map to, and the positions they point at.
//!
//! Every error says what went wrong, where and, where there is one, how to fix it. An error in
//! a file (blueprint.toml, a template, matrix.toml, spaces.lock, an answers file) is a
//! [`Diagnostic`]: the file, a structured [`Position`] (line, column and the byte span, with the
//! text it points into) and a fix. The core never names a command-line flag: where the fix is
//! "give it on the command line", the error says so as data ([`Problem`], [`Error::NotEmpty`])
//! and the command line words it. Nothing here prints.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

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
    /// `update` wrote files with conflict markers for the user to settle.
    pub const CONFLICTS: i32 = 4;
    /// Interrupted (Ctrl-C, SIGTERM, SIGHUP) while writing; what was written was undone.
    pub const INTERRUPTED: i32 = 130;
}

/// Where in a text an error points: 1-based line and column (in characters) and the byte span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
    pub span: Range<usize>,
    /// The whole text the span indexes.
    pub text: Arc<str>,
}

impl Position {
    /// The position of byte span `span` of `text`; a span past the end is clamped.
    pub fn new(text: impl Into<Arc<str>>, span: Range<usize>) -> Position {
        let text = text.into();
        let mut start = span.start.min(text.len());
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = span.end.clamp(start, text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        let before = &text[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = text[line_start..start].chars().count() + 1;
        Position {
            line,
            column,
            span: start..end,
            text,
        }
    }
}

/// What kind of file a diagnostic is about; it decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `blueprint.toml`, a template or a partial.
    Blueprint,
    /// `matrix.toml`.
    Matrix,
    /// `spaces.lock`.
    Lock,
    /// A file of answers the user gave.
    Answers,
    /// A file of verification evidence the user gave (`lock --merge-evidence`).
    Evidence,
}

/// An error in a file, with where it is and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub kind: FileKind,
    /// The file (or a description of where it came from).
    pub file: String,
    pub message: String,
    pub position: Option<Position>,
    /// What to do about it.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(kind: FileKind, file: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            kind,
            file: file.into(),
            message: message.into(),
            position: None,
            help: None,
        }
    }

    /// Points at `span` of `text`.
    pub fn at(mut self, text: impl Into<Arc<str>>, span: Range<usize>) -> Diagnostic {
        self.position = Some(Position::new(text, span));
        self
    }

    /// Points at `position`, if there is one.
    pub fn at_position(mut self, position: Option<Position>) -> Diagnostic {
        self.position = position;
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// `file:line:column`, or the file alone.
    pub fn location(&self) -> String {
        match &self.position {
            Some(p) => format!("{}:{}:{}", self.file, p.line, p.column),
            None => self.file.clone(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location(), self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\nhelp: {help}")?;
        }
        Ok(())
    }
}

/// What an input problem is about, so the command line can say where the value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum About {
    /// A value given as `NAME=VALUE` on the command line.
    Flag { name: String, raw: String },
    /// An argument that is not `NAME=VALUE`.
    MalformedFlag(String),
    /// A value of an answers file.
    File { name: String, path: String },
    /// A variable, whatever gave its value (a default, a prompt, nothing).
    Variable(String),
}

/// The fix for an input problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fix {
    /// Give the variable a value on the command line.
    GiveValue(String),
}

/// One invalid or missing value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub about: About,
    pub message: String,
    pub fix: Option<Fix>,
}

impl Problem {
    pub fn new(about: About, message: impl Into<String>) -> Problem {
        Problem {
            about,
            message: message.into(),
            fix: None,
        }
    }

    pub fn fix(mut self, fix: Fix) -> Problem {
        self.fix = Some(fix);
        self
    }
}

/// The kinds of failure spacegen reports.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Invalid or missing values: several problems reported at once.
    #[error("{} invalid or missing value{}", .0.len(), if .0.len() == 1 { "" } else { "s" })]
    Input(Vec<Problem>),
    /// An error in a file, with its position.
    #[error("{0}")]
    Diagnostic(Box<Diagnostic>),
    /// Several errors in files, found together.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Diagnostics(Vec<Diagnostic>),
    /// No versions satisfy a blueprint's ranges and the matrix's rules; why, as a chain of
    /// reasons with the rules involved.
    #[error("cannot lock blueprint '{blueprint}' ({file})")]
    Unresolvable {
        blueprint: String,
        file: String,
        explanation: String,
    },
    /// The lock on disk is not what locking anew gives; the diff from one to the other.
    #[error("{} is out of date", .path.display())]
    Stale { path: PathBuf, diff: String },
    /// `lock --update NAME` for a package no blueprint locks.
    #[error("no blueprint locks a package named '{name}'")]
    UnknownPackage { name: String },
    /// `matrix refresh NAME` for a package matrix.toml does not list.
    #[error("matrix.toml lists no package named '{name}'")]
    NotInMatrix { name: String },
    /// Locked sets without evidence of a passing `spacegen lock --verify`.
    #[error("{} has no passing verification for: {}", .path.display(), .blueprints.join(", "))]
    Unverified {
        path: PathBuf,
        blueprints: Vec<String>,
    },
    /// A locked set whose verification records prove another set (an edited hash, a record
    /// of another set): `why` names what differs.
    #[error("{}: blueprint '{blueprint}' is not the set its verifications proved: {why}", .origin)]
    EvidenceMismatch {
        origin: String,
        blueprint: String,
        why: String,
    },
    /// A blueprint asked for by name that does not exist.
    #[error("no blueprint named '{name}'")]
    UnknownBlueprint {
        name: String,
        /// The names that do exist.
        known: Vec<String>,
        /// The folder that was searched; `None` for the embedded blueprints.
        place: Option<PathBuf>,
    },
    /// A path given as a blueprint that holds no `blueprint.toml`.
    #[error("no blueprint.toml in {0}")]
    NotABlueprint(PathBuf),
    /// A shared layer asked for where a blueprint is needed.
    #[error("'{0}' is a shared layer, not a blueprint")]
    Layer(String),
    /// The destination holds files and overwriting them was not allowed.
    #[error("destination {0} exists and is not empty")]
    NotEmpty(PathBuf),
    /// A destination that cannot be written as asked.
    #[error("{0}")]
    Destination(String),
    /// A file or folder named on the command line that is not there (or not of its kind):
    /// what, where and how to fix it.
    #[error("{0}")]
    Usage(String),
    /// A signal arrived while writing; the destination was put back as it was.
    #[error("interrupted; the destination was left as it was before this run")]
    Interrupted,
    /// A file system operation failed.
    #[error("cannot {action} {}", .path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// A runtime failure that is not the user's input (a tool that failed, a step that did not
    /// pass).
    #[error("{0}")]
    Other(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Diagnostic> for Error {
    fn from(d: Diagnostic) -> Error {
        Error::Diagnostic(Box::new(d))
    }
}

/// The text of the file at `path`, which must be UTF-8: an I/O failure is `Error::Io`
/// (`action` says what was being done), bytes that are not text a diagnostic of `kind`.
pub(crate) fn read_text(
    path: &std::path::Path,
    action: &'static str,
    kind: FileKind,
    help: &str,
) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::reading(action, path, e))?;
    String::from_utf8(bytes).map_err(|e| {
        Diagnostic::new(
            kind,
            path.display().to_string(),
            format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        )
        .help(help)
        .into()
    })
}

impl Error {
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            action,
            source,
        }
    }

    /// A failure to read `path`, a file the user named: a path where no such file is (nothing
    /// there, a folder, a path through a file) is bad input; any other failure is I/O.
    pub fn reading(action: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        match source.kind() {
            K::NotFound | K::IsADirectory | K::NotADirectory => Error::Usage(format!(
                "cannot {action} {}: {}\nhelp: {}",
                path.display(),
                match source.kind() {
                    K::IsADirectory => "it is a folder, not a file".to_owned(),
                    K::NotFound => "no such file".to_owned(),
                    _ => source.to_string(),
                },
                "check the path (a relative path is read from the current folder)"
            )),
            _ => Error::io(action, path, source),
        }
    }

    /// A problem with one value, as an input error.
    pub fn input(problem: Problem) -> Self {
        Error::Input(vec![problem])
    }

    /// A diagnostic about a blueprint file without a position.
    pub fn blueprint(file: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic::new(FileKind::Blueprint, file, message).into()
    }

    /// A diagnostic about a lock file without a position.
    pub fn lock(file: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic::new(FileKind::Lock, file, message).into()
    }

    /// Adds how to fix it, to an error in a file.
    pub fn with_help(self, help: impl Into<String>) -> Error {
        match self {
            Error::Diagnostic(mut d) => {
                d.help = Some(help.into());
                Error::Diagnostic(d)
            }
            other => other,
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_)
            | Error::UnknownBlueprint { .. }
            | Error::UnknownPackage { .. }
            | Error::NotInMatrix { .. }
            | Error::NotABlueprint(_)
            | Error::Layer(_)
            | Error::NotEmpty(_)
            | Error::Destination(_)
            | Error::Usage(_) => exit::USAGE,
            Error::Diagnostic(d) if matches!(d.kind, FileKind::Answers | FileKind::Evidence) => {
                exit::USAGE
            }
            Error::Diagnostic(_)
            | Error::Diagnostics(_)
            | Error::Stale { .. }
            | Error::Unverified { .. }
            | Error::EvidenceMismatch { .. }
            | Error::Unresolvable { .. } => exit::BLUEPRINT,
            Error::Io { .. } | Error::Other(_) => exit::FAILURE,
            Error::Interrupted => exit::INTERRUPTED,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let p = Position::new("ab\nünï x\n", 9..10);
        assert_eq!((p.line, p.column), (2, 5));
        let p = Position::new("abc", 0..1);
        assert_eq!((p.line, p.column), (1, 1));
    }

    #[test]
    fn spans_are_clamped_to_the_text_and_to_characters() {
        let p = Position::new("ü", 1..99);
        assert_eq!(p.span, 0..2);
        let p = Position::new("abc", 10..12);
        assert_eq!((p.span.clone(), p.line, p.column), (3..3, 1, 4));
    }

    #[test]
    fn diagnostics_read_file_line_column_then_help() {
        let d = Diagnostic::new(FileKind::Lock, "spaces.lock", "bad")
            .at("x\ny = 1\n", 2..3)
            .help("fix it");
        assert_eq!(d.to_string(), "spaces.lock:2:1: bad\nhelp: fix it");
        assert_eq!(Error::from(d).exit_code(), exit::BLUEPRINT);
    }

    #[test]
    fn io_errors_keep_their_cause() {
        use std::error::Error as _;
        let e = Error::io(
            "read",
            "x",
            std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
        );
        assert_eq!(e.to_string(), "cannot read x");
        assert_eq!(e.source().map(ToString::to_string).as_deref(), Some("gone"));
    }
}

//! What a rule is, and what it found.

use serde::Serialize;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Severity {
    /// A risk that rests on how the platform or the deployment behaves, which no file in the
    /// project proves (or a policy choice): worth a look, never a failure by default.
    Info,
    /// Works, but goes wrong in a way that costs time, money or safety later.
    Warning,
    /// The Space does not build, does not start, or is open to attack.
    Error,
}

impl Severity {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// The SARIF `level`: `note`, `warning` or `error`.
    pub(crate) fn sarif_level(self) -> &'static str {
        match self {
            Severity::Info => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One rule: a stable id, a severity, why it matters and the fix.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Rule {
    /// Stable, never reused: `SG101`.
    pub id: &'static str,
    /// Short and kebab-case: `docker-user-1000`.
    pub name: &'static str,
    pub severity: Severity,
    /// What goes wrong on a Space, in one line.
    pub why: &'static str,
    /// What to change, in one line.
    pub fix: &'static str,
    /// The long description `spacegen check --explain ID` prints.
    pub explanation: &'static str,
}

/// A defect found at a place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    pub rule: &'static Rule,
    /// Relative to the checked folder, with `/` separators.
    pub file: String,
    /// 1-based; 0 when the finding is about the whole file (or a file that is missing).
    pub line: usize,
    /// 1-based, in characters; 0 when not known.
    pub column: usize,
    /// What was found, specifically (the value, the instruction).
    pub message: String,
}

impl Finding {
    pub(crate) fn new(
        rule: &'static Rule,
        file: impl Into<String>,
        line: usize,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            rule,
            file: file.into(),
            line,
            column: 0,
            message: message.into(),
        }
    }

    /// The same finding, at `column`.
    pub(crate) fn at_column(mut self, column: usize) -> Finding {
        self.column = column;
        self
    }
}

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
    /// The rule's doc comment, as written (each line keeps the space after `///`): what it
    /// does, why it breaks a Space, an example, the fix and references, in Markdown.
    /// `spacegen check --explain ID` prints it.
    pub doc: &'static str,
}

impl Rule {
    /// The long description: the doc comment without the space each line has after `///`.
    pub(crate) fn explanation(&self) -> String {
        let mut text = String::with_capacity(self.doc.len());
        for line in self.doc.lines() {
            text.push_str(line.strip_prefix(' ').unwrap_or(line));
            text.push('\n');
        }
        text.trim().to_owned()
    }

    /// What the rule does: the first section of its explanation (all of it for a rule
    /// written without sections).
    pub(crate) fn summary(&self) -> String {
        match self.sections().into_iter().next() {
            Some((_, body)) if !body.trim().is_empty() => body.trim().to_owned(),
            _ => self.explanation(),
        }
    }

    /// The sections of the explanation, as (heading, body), in order.
    pub(crate) fn sections(&self) -> Vec<(String, String)> {
        let mut sections: Vec<(String, String)> = Vec::new();
        for line in self.explanation().lines() {
            if let Some(heading) = line.strip_prefix("## ") {
                sections.push((heading.trim().to_owned(), String::new()));
            } else if let Some((_, body)) = sections.last_mut() {
                body.push_str(line);
                body.push('\n');
            }
        }
        sections
    }
}

/// The headings every rule's doc comment has, in this order.
#[cfg(test)]
pub(crate) const SECTIONS: &[&str] = &[
    "What it does",
    "Why it breaks a Space",
    "Example",
    "Fix",
    "References",
];

/// Declares a rule: a `static` [`Rule`] whose doc comment is its explanation, with the
/// headings of [`SECTIONS`].
///
/// ```ignore
/// rule! {
///     /// ## What it does
///     /// …
///     pub(crate) static RULE = "SG220", "env-example-incomplete", Warning;
///     why: "…";
///     fix: "…";
/// }
/// ```
macro_rules! rule {
    (
        $(#[doc = $doc:literal])+
        $vis:vis static $item:ident = $id:literal, $name:literal, $severity:ident;
        why: $why:literal;
        fix: $fix:literal;
    ) => {
        $(#[doc = $doc])+
        $vis static $item: $crate::check::Rule = $crate::check::Rule {
            id: $id,
            name: $name,
            severity: $crate::check::Severity::$severity,
            why: $why,
            fix: $fix,
            doc: concat!($($doc, "\n"),+),
        };
    };
}
pub(crate) use rule;

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

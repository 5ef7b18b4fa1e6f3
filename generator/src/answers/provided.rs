//! Values given before any prompt: `NAME=VALUE` arguments and answers files.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{read_text, About, Diagnostic, FileKind, Problem, Result};

/// A value given before any prompt, with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Given {
    /// A `NAME=VALUE` argument, with the raw value.
    Flag(String),
    /// A value of an answers file, with the file.
    File(toml::Value, String),
}

impl Given {
    /// What a problem with this value is about.
    pub(crate) fn about(&self, name: &str) -> About {
        match self {
            Given::Flag(raw) => About::Flag {
                name: name.to_owned(),
                raw: raw.clone(),
            },
            Given::File(_, path) => About::File {
                name: name.to_owned(),
                path: path.clone(),
            },
        }
    }
}

/// Values given as arguments and in an answers file; arguments win over the file.
#[derive(Debug, Clone, Default)]
pub(crate) struct Provided {
    pub(super) values: BTreeMap<String, Given>,
    pub(super) problems: Vec<Problem>,
}

impl Provided {
    /// Adds `NAME=VALUE` arguments; a malformed one is a problem reported with the others.
    pub(crate) fn add_flags(&mut self, flags: &[String]) {
        for flag in flags {
            match flag.split_once('=') {
                Some((name, value)) if !name.trim().is_empty() => {
                    self.values
                        .insert(name.trim().to_owned(), Given::Flag(value.to_owned()));
                }
                _ => self.problems.push(Problem::new(
                    About::MalformedFlag(flag.clone()),
                    "expected NAME=VALUE",
                )),
            }
        }
    }

    /// Keeps only the values whose name `keep` accepts: an update takes from the record only
    /// the answers the new version still asks for.
    pub(crate) fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.values.retain(|name, _| keep(name));
    }

    /// Reads an answers file: top-level `name = value` pairs, or the `[answers]` table of a
    /// project's `.spacegen/answers.toml`. Values already given as arguments are kept.
    pub(crate) fn add_file(&mut self, path: &Path) -> Result<()> {
        let origin = path.display().to_string();
        let text = read_text(
            path,
            "read answers file",
            FileKind::Answers,
            "save the answers file as UTF-8",
        )?;
        self.add_text(&text, &origin)
    }

    /// Reads answers from `text`, which came from `origin`.
    pub(crate) fn add_text(&mut self, text: &str, origin: &str) -> Result<()> {
        let table: toml::Table = toml::from_str(text).map_err(|e| {
            let d = Diagnostic::new(FileKind::Answers, origin, e.message().trim_end());
            // The lines shown with the error may hold a secret: only keys and structure are
            // shown, every value masked (byte for byte, so the caret stays in place).
            match e.span() {
                Some(span) => d.at(masked(text), span),
                None => d,
            }
        })?;
        let answers = match table.get("answers") {
            Some(toml::Value::Table(t)) => t.clone(),
            _ => table,
        };
        for (name, value) in answers {
            self.values
                .entry(name)
                .or_insert(Given::File(value, origin.to_owned()));
        }
        Ok(())
    }

    /// The value given for `name`.
    #[cfg(test)]
    pub(crate) fn get(&self, name: &str) -> Option<&Given> {
        self.values.get(name)
    }
}

/// `text` with every value and comment replaced by `*` of the same byte length: keys, `=`,
/// table headers and line breaks stay.
fn masked(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let ending = &line[body.len()..];
        let trimmed = body.trim_start();
        let keep = if trimmed.starts_with('[') && !trimmed.contains('=') {
            body.len()
        } else {
            body.find('=').map_or(0, |at| at + 1)
        };
        out.push_str(&body[..keep]);
        for c in body[keep..].chars() {
            if c == ' ' || c == '\t' {
                out.push(c);
            } else {
                out.extend(std::iter::repeat_n('*', c.len_utf8()));
            }
        }
        out.push_str(ending);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_keeps_keys_and_every_byte_offset() {
        let text = "[answers]\ntoken = \"sécret\" # note\nname = 'x'\n";
        let m = masked(text);
        assert_eq!(m.len(), text.len());
        assert!(m.starts_with("[answers]\ntoken = ") && m.contains("\nname = "));
        assert!(!m.contains("cret") && !m.contains("note") && !m.contains('x'));
    }

    #[test]
    fn flags_win_over_files_and_malformed_flags_are_problems() {
        let mut p = Provided::default();
        p.add_flags(&["port=9000".into(), "oops".into(), "=x".into()]);
        p.add_text("port = 8000\ntitle = \"T\"\n", "a.toml")
            .unwrap();
        assert_eq!(p.get("port"), Some(&Given::Flag("9000".into())));
        assert_eq!(
            p.get("title"),
            Some(&Given::File(
                toml::Value::String("T".into()),
                "a.toml".into()
            ))
        );
        let abouts: Vec<&About> = p.problems.iter().map(|p| &p.about).collect();
        assert_eq!(
            abouts,
            vec![
                &About::MalformedFlag("oops".into()),
                &About::MalformedFlag("=x".into())
            ]
        );
    }

    #[test]
    fn a_project_record_is_an_answers_file() {
        let mut p = Provided::default();
        p.add_text("[blueprint]\nname = \"x\"\n[answers]\nport = 1\n", "r")
            .unwrap();
        assert!(p.get("port").is_some() && p.get("blueprint").is_none());
    }

    #[test]
    fn a_malformed_file_points_at_the_error() {
        let err = Provided::default()
            .add_text("a = 1\nb = \n", "bad.toml")
            .unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::USAGE);
        assert!(err.to_string().starts_with("bad.toml:2:"), "{err}");
    }
}

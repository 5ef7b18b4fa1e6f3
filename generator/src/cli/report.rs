//! Errors in words: a diagnostic drawn with the lines it points at and a caret under the span
//! (annotate-snippets, as rustc and just draw them), then the fix; an input problem worded in
//! the command line's terms; an I/O error with its chain of causes.

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use crate::error::{About, Diagnostic, Error, Fix, Problem};

/// The whole text of `e` for standard error, ending without a newline.
pub(crate) fn render(e: &Error) -> String {
    match e {
        Error::Input(problems) => {
            let n = problems.len();
            let mut text = format!("error: {n} invalid or missing value{}:", plural(n));
            for p in problems {
                text.push_str(&format!("\n  - {}", problem(p)));
            }
            text + "\nnothing was written"
        }
        Error::Diagnostic(d) => diagnostic(d),
        Error::Diagnostics(all) => all.iter().map(diagnostic).collect::<Vec<_>>().join("\n"),
        Error::Unresolvable { explanation, .. } => format!("error: {e}\n{explanation}"),
        Error::Stale { diff, .. } => format!(
            "error: {e} (what changed is above)\nhelp: run `spacegen lock` and commit the result\n{}",
            shortened(diff.trim_end(), DIFF_LINES)
        ),
        Error::UnknownPackage { .. } => format!(
            "error: {e}\nhelp: --update takes the names of locked packages (requested or transitive, as `spacegen show` lists them), or none to update everything"
        ),
        Error::NotInMatrix { .. } => format!(
            "error: {e}\nhelp: add it under [packages] in matrix.toml with at least one version, then refresh"
        ),
        Error::Unverified { blueprints, .. } => {
            let target = match blueprints.as_slice() {
                [one] => format!(" {one}"),
                _ => String::new(),
            };
            format!("error: {e}\nhelp: run `spacegen lock --verify{target}` and commit the result")
        }
        Error::EvidenceMismatch { blueprint, .. } => format!(
            "error: {e}\nhelp: spaces.lock is written by `spacegen lock`, never by hand: restore it from version control, or run `spacegen lock --update` and `spacegen lock --verify {blueprint}`\nnothing was written"
        ),
        Error::UnknownBlueprint { known, place, .. } => {
            let help = match place {
                None => format!(
                    "the embedded ones are: {}; or pass a folder path",
                    known.join(", ")
                ),
                Some(dir) => format!("{} holds: {}", dir.display(), known.join(", ")),
            };
            format!("error: {e}\nhelp: {help}")
        }
        Error::NotABlueprint(_) => format!(
            "error: {e}\nhelp: pass a blueprint folder, or one of the names `spacegen list` shows"
        ),
        Error::Layer(_) => format!("error: {e}\nhelp: pick one of `spacegen list`"),
        Error::NotEmpty(_) => format!(
            "error: {e}\nhelp: pass --force to write into it (files the blueprint produces are overwritten, all others are kept)\nnothing was written"
        ),
        Error::Destination(_) => format!("error: {e}\nnothing was written"),
        Error::Usage(_) => format!("error: {e}"),
        Error::Interrupted => format!("error: {e}"),
        Error::Io { .. } | Error::Other(_) => format!("error: {}", chain(e)),
    }
}

/// The longest diff shown in full; a longer one is cut, saying how much was left out.
const DIFF_LINES: usize = 80;

fn shortened(text: &str, lines: usize) -> String {
    let total = text.lines().count();
    if total <= lines {
        return text.to_owned();
    }
    let head: Vec<&str> = text.lines().take(lines).collect();
    format!(
        "{}\n… {} more lines of diff (run `spacegen lock`, then `git diff spaces.lock`)",
        head.join("\n"),
        total - lines
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `e` and each of its causes, joined by `: `.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    text
}

fn problem(p: &Problem) -> String {
    let about = match &p.about {
        About::Flag { name, raw } => format!("--var {name}={}", visible(raw)),
        About::MalformedFlag(raw) => format!("--var {}", visible(raw)),
        About::File { name, path } => format!("{name} in {path}"),
        About::Variable(name) => name.clone(),
    };
    let fix = match &p.fix {
        Some(Fix::GiveValue(name)) => format!("; pass --var {name}=VALUE"),
        None => String::new(),
    };
    format!("{about}: {}{fix}", p.message)
}

/// `raw` as typed, with every character a terminal would act on or not show (controls but
/// tab, noncharacters) written as `\u{XXXX}`.
fn visible(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            let code = c as u32;
            let hidden = (c.is_control() && c != '\t')
                || (0xFDD0..=0xFDEF).contains(&code)
                || code & 0xFFFE == 0xFFFE;
            if hidden {
                format!("\\u{{{code:04X}}}")
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A diagnostic drawn like a compiler's: title, `--> file:line:column`, the line with a caret
/// under the span, then `help:`.
fn diagnostic(d: &Diagnostic) -> String {
    let title = Level::ERROR.primary_title(d.message.as_str());
    let mut group: Group<'_> = match &d.position {
        Some(p) => title.element(
            Snippet::source(&*p.text)
                .path(d.file.as_str())
                .fold(true)
                .annotation(AnnotationKind::Primary.span(p.span.clone())),
        ),
        None => title.element(annotate_snippets::Origin::path(d.file.as_str())),
    };
    if let Some(help) = &d.help {
        group = group.element(Level::HELP.message(help.as_str()));
    }
    Renderer::plain().render(&[group]).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FileKind;

    #[test]
    fn diagnostics_draw_a_caret_under_the_span_then_the_fix() {
        let d = Diagnostic::new(FileKind::Blueprint, "bp/blueprint.toml", "bad version")
            .at("[blueprint]\nversion = \"one\"\n", 22..27)
            .help("use semver");
        snapshot!("report@diagnostic", diagnostic(&d));
    }

    #[test]
    fn a_diagnostic_without_a_position_names_the_file() {
        let d = Diagnostic::new(FileKind::Lock, "spaces.lock", "stale").help("relock");
        let text = diagnostic(&d);
        assert!(text.starts_with("error: stale\n--> spaces.lock"), "{text}");
        assert!(text.ends_with("help: relock"), "{text}");
    }

    #[test]
    fn typed_values_are_shown_without_characters_a_terminal_acts_on() {
        let p = Problem::new(
            About::Flag {
                name: "t".into(),
                raw: "a\u{1b}[2Jb\rc\u{fffe}\td".into(),
            },
            "bad",
        );
        assert_eq!(
            problem(&p),
            "--var t=a\\u{001B}[2Jb\\u{000D}c\\u{FFFE}\td: bad"
        );
    }

    #[test]
    fn io_errors_show_their_causes() {
        let e = Error::io(
            "read",
            "x.toml",
            std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
        );
        assert_eq!(render(&e), "error: cannot read x.toml: gone");
    }
}

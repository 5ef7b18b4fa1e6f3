//! Interactive prompts (with `inquire`) for variables not given on the command line: the
//! terminal's [`Prompter`].

use std::io::IsTerminal as _;

use inquire::ui::RenderConfig;
use inquire::validator::Validation;
use inquire::{Confirm, InquireError, Password, PasswordDisplayMode, Select, Text};

use crate::answers::Prompter;
use crate::blueprint::{Value, VarType, Variable};
use crate::error::{About, Error, Problem, Result};

/// Prompts on the terminal.
pub(super) struct Terminal;

impl Terminal {
    /// Prompts drawn on standard error, in colour only when it is a terminal and `NO_COLOR` is
    /// not set.
    pub(super) fn new() -> Terminal {
        if !colour(
            std::env::var_os("NO_COLOR").as_deref(),
            std::io::stderr().is_terminal(),
        ) {
            inquire::set_global_render_config(RenderConfig::empty());
        }
        Terminal
    }
}

/// Whether to colour a stream that `terminal` says is a terminal, given `NO_COLOR`'s value
/// (set and not empty: no colour, as <https://no-color.org> asks).
fn colour(no_color: Option<&std::ffi::OsStr>, terminal: bool) -> bool {
    terminal && no_color.is_none_or(std::ffi::OsStr::is_empty)
}

fn cancelled(var: &Variable, e: InquireError) -> Error {
    match e {
        InquireError::OperationCanceled | InquireError::OperationInterrupted => {
            Error::input(Problem::new(
                About::Variable(var.name().to_owned()),
                "cancelled at the prompt",
            ))
        }
        other => Error::Other(format!("prompt for '{}' failed: {other}", var.name())),
    }
}

impl Prompter for Terminal {
    fn ask(&mut self, var: &Variable, default: Option<&Value>) -> Result<Value> {
        let label = var.prompt.clone().unwrap_or_else(|| var.name().to_owned());
        let help = var.help.as_deref();
        match var.ty {
            VarType::Bool => {
                let mut p = Confirm::new(&label);
                if let Some(Value::Bool(b)) = default {
                    p = p.with_default(*b);
                }
                if let Some(h) = help {
                    p = p.with_help_message(h);
                }
                p.prompt().map(Value::Bool).map_err(|e| cancelled(var, e))
            }
            VarType::Choice => {
                let choices = var.validation.choices.clone().unwrap_or_default();
                let start = match default {
                    Some(Value::String(d)) => choices.iter().position(|c| c == d).unwrap_or(0),
                    _ => 0,
                };
                let mut p = Select::new(&label, choices).with_starting_cursor(start);
                if let Some(h) = help {
                    p = p.with_help_message(h);
                }
                p.prompt().map(Value::String).map_err(|e| cancelled(var, e))
            }
            _ => {
                let checked = var.clone();
                let validator = move |input: &str| {
                    Ok(
                        match checked.parse_str(input).and_then(|v| checked.validate(&v)) {
                            Ok(()) => Validation::Valid,
                            Err(e) => Validation::Invalid(e.into()),
                        },
                    )
                };
                let raw = if var.secret {
                    let mut p = Password::new(&label)
                        .without_confirmation()
                        .with_display_mode(PasswordDisplayMode::Masked)
                        .with_validator(validator);
                    if let Some(h) = help {
                        p = p.with_help_message(h);
                    }
                    p.prompt()
                } else {
                    let shown = default.map(ToString::to_string).unwrap_or_default();
                    let mut p = Text::new(&label).with_validator(validator);
                    if default.is_some() {
                        p = p.with_default(&shown);
                    }
                    if let Some(h) = help {
                        p = p.with_help_message(h);
                    }
                    p.prompt()
                }
                .map_err(|e| cancelled(var, e))?;
                var.parse_str(&raw).map_err(|e| {
                    Error::input(Problem::new(About::Variable(var.name().to_owned()), e))
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::colour;
    use std::ffi::OsStr;

    #[test]
    fn prompts_are_coloured_only_on_a_terminal_without_no_color() {
        assert!(colour(None, true));
        assert!(colour(Some(OsStr::new("")), true));
        assert!(!colour(Some(OsStr::new("1")), true));
        assert!(!colour(None, false));
        assert!(!colour(Some(OsStr::new("1")), false));
    }
}

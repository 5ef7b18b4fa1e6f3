//! `spacegen completions SHELL` and `spacegen man [COMMAND]`: the shell completion scripts and
//! the man pages, generated from the command line's clap definition so they never fall behind
//! it.

use clap::CommandFactory as _;

use super::args::Cli;
use super::printer::Printer;
use crate::error::{About, Error, Problem, Result};

/// Prints the completion script for `shell`.
pub(super) fn completions(shell: clap_complete::Shell, printer: &Printer) -> Result<()> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "spacegen", &mut script);
    printer.out_raw(&script)
}

/// Prints the man page (roff) of spacegen, or of the command `path` names (`spacegen-lock(1)`,
/// `spacegen-matrix-refresh(1)`, the pages spacegen's own page refers to).
pub(super) fn man(path: &[String], printer: &Printer) -> Result<()> {
    let mut cmd = Cli::command();
    cmd.build();
    let mut name = cmd.get_name().to_owned();
    for part in path {
        let Some(sub) = cmd.find_subcommand(part).cloned() else {
            let known: Vec<&str> = cmd
                .get_subcommands()
                .map(clap::Command::get_name)
                .filter(|n| *n != "help")
                .collect();
            return Err(Error::input(Problem::new(
                About::Variable("COMMAND".into()),
                format!(
                    "'{}' has no command '{part}'; its commands are: {}",
                    name.replace('-', " "),
                    known.join(", ")
                ),
            )));
        };
        name = format!("{name}-{}", sub.get_name());
        cmd = sub;
    }
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd)
        .title(name.to_uppercase())
        .source(format!("spacegen {}", env!("CARGO_PKG_VERSION")))
        .render(&mut page)
        .map_err(|e| Error::io("render", "the man page", e))?;
    printer.out_raw(&page)
}

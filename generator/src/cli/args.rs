//! The command line's arguments, as clap reads them.

use std::ffi::OsStr;
use std::path::PathBuf;

use clap::builder::{PossibleValue, StringValueParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::blueprint::{self, Kind, Source, DEFAULT_BLUEPRINT};
use crate::lock::file::FILE_NAME as LOCK_FILE;

const EXIT_CODES: &str = "\
Exit status:
  0  success
  1  an I/O or other runtime failure
  2  bad usage or invalid input (arguments, answers, destination); nothing was written
  3  a blueprint, template or spaces.lock is malformed or out of date; nothing was written
  130  interrupted while writing; the destination was put back as it was";

#[derive(Parser, Debug)]
#[command(
    name = "spacegen",
    version,
    about = "Generate deploy-ready FastAPI backends for Hugging Face Docker Spaces",
    after_help = EXIT_CODES
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Generate a new project from a blueprint
    #[command(after_help = EXIT_CODES)]
    New(NewArgs),
    /// List the embedded blueprints
    #[command(after_help = EXIT_CODES)]
    List {
        /// How to print the list
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Show a blueprint's variables, files and pinned packages
    #[command(after_help = EXIT_CODES)]
    Show {
        /// Blueprint name or folder
        #[arg(
            value_name = "NAME|PATH",
            default_value = DEFAULT_BLUEPRINT,
            value_parser = BlueprintName,
            hide_possible_values = true
        )]
        blueprint: String,
        /// How to print the blueprint
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Resolve every blueprint and write spaces.lock (or check, update, verify it)
    #[command(after_help = EXIT_CODES)]
    Lock(LockArgs),
    /// Maintain blueprints/matrix.toml's machine-written part, matrix.index.toml
    #[command(subcommand)]
    Matrix(MatrixCommand),
    /// The earlier blueprint releases this spacegen keeps: `new --blueprint NAME@VERSION`
    /// generates them, `update` merges against them
    #[command(after_help = EXIT_CODES)]
    History(HistoryArgs),
    /// Audit a FastAPI backend meant for a Hugging Face Docker Space
    #[command(after_help = CHECK_EXIT_CODES)]
    Check(CheckArgs),
    /// Say which blueprint version and which pinned packages a generated project is behind
    #[command(after_help = OUTDATED_EXIT_CODES)]
    Outdated(OutdatedArgs),
    /// Move a generated project to today's blueprint and lock, keeping its edits
    #[command(after_help = UPDATE_EXIT_CODES)]
    Update(UpdateArgs),
    /// Print a shell completion script for spacegen
    #[command(after_help = COMPLETIONS_HELP)]
    Completions {
        /// The shell to complete in
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print spacegen's man page, or a command's (roff)
    #[command(after_help = MAN_HELP)]
    Man {
        /// The command whose page to print, e.g. `lock` or `matrix refresh` [default: the
        /// page of spacegen itself]
        #[arg(value_name = "COMMAND")]
        command: Vec<String>,
    },
}

const COMPLETIONS_HELP: &str = "\
Install, for example:
  bash        spacegen completions bash > ~/.local/share/bash-completion/completions/spacegen
  zsh         spacegen completions zsh > \"${fpath[1]}/_spacegen\"
  fish        spacegen completions fish > ~/.config/fish/completions/spacegen.fish
  powershell  spacegen completions powershell >> $PROFILE

Exit status:
  0  success
  1  the script could not be written";

const MAN_HELP: &str = "\
Read it with: spacegen man | man -l -   (a command's: spacegen man lock | man -l -)

Exit status:
  0  success
  1  the page could not be written
  2  no such command";

/// How `list`, `show` and `lock --check` print their result.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// Words and columns, for people
    Human,
    /// One JSON document (a versioned shape, documented in the README)
    Json,
}

const CHECK_EXIT_CODES: &str = "\
Exit status:
  0  no finding at or above --deny
  1  findings at or above --deny
  2  bad usage (an unknown rule for --explain, a DIR that is not a folder)

Severities:
  error    the Space does not build, does not start, or is open to attack (fails by default)
  warning  works, but costs time, money or safety later (fails with --deny warning)
  info     rests on platform behaviour no file proves, or is a policy choice (--deny info)";

const OUTDATED_EXIT_CODES: &str = "\
Exit status:
  0  the project is current: its blueprint version and every pin
  1  the project is behind (or an I/O failure)
  2  bad usage or invalid input (DIR is not a generated project, its record is damaged)
  3  a blueprint or spaces.lock is malformed or out of date";

#[derive(Args, Debug)]
pub(crate) struct OutdatedArgs {
    /// The generated project (the folder holding .spacegen/answers.toml)
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// How to print the result
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Compare with the blueprints of this folder rather than the embedded ones
    #[arg(long, value_name = "DIR")]
    pub blueprints: Option<PathBuf>,
    /// Compare with this lock file [default: spaces.lock beside --blueprints, else embedded]
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
}

const UPDATE_EXIT_CODES: &str = "\
Exit status:
  0  updated (or already current)
  1  an I/O or other runtime failure
  2  bad usage or invalid input (DIR is not a generated project, a --var); nothing was written
  3  a blueprint, template or spaces.lock is malformed or out of date; nothing was written
  4  updated, with conflicts marked in the files listed (<<<<<<< ours is the project's, >>>>>>> theirs the new version's)
  130  interrupted while writing; the project was put back as it was";

#[derive(Args, Debug)]
pub(crate) struct UpdateArgs {
    /// The generated project (the folder holding .spacegen/answers.toml)
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// Change an answer as part of the update (repeatable; lists comma-separated)
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Give variables the project has no answer for (new in this version) their defaults,
    /// without asking, even on a terminal
    #[arg(long)]
    pub defaults: bool,
    /// Show what would change, with the diff, and write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// How to print the result
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Update to the blueprints of this folder rather than the embedded ones
    #[arg(long, value_name = "DIR")]
    pub blueprints: Option<PathBuf>,
    /// Update to this lock file [default: spaces.lock beside --blueprints, else embedded]
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
}

/// How `check` prints its findings.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CheckFormat {
    /// Like a compiler's diagnostics
    Human,
    /// One JSON document (a versioned shape, documented in the README)
    Json,
    /// SARIF 2.1.0, for GitHub code scanning
    Sarif,
}

/// The lowest severity that fails `check`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DenyLevel {
    /// Every finding fails
    Info,
    /// Warnings and errors fail
    Warning,
    /// Only errors fail: the Space does not build, does not start, or is open to attack
    Error,
}

#[derive(Args, Debug)]
pub(crate) struct CheckArgs {
    /// The project folder
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// How to print the findings
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,
    /// The lowest severity that makes the exit status 1
    #[arg(long, value_enum, default_value_t = DenyLevel::Error)]
    pub deny: DenyLevel,
    /// Print the long description of RULE (an id such as SG101, or a name) and exit
    #[arg(long, value_name = "RULE")]
    pub explain: Option<String>,
}

#[derive(Subcommand, Debug)]
pub(crate) enum MatrixCommand {
    /// Fetch new candidate versions and each candidate's declared requirements and Python bound
    /// from the package index into matrix.index.toml
    #[command(after_help = EXIT_CODES)]
    Refresh {
        /// Packages to refresh (all of the matrix when none are named)
        #[arg(value_name = "PACKAGE")]
        packages: Vec<String>,
        /// Folder holding matrix.toml
        #[arg(long, value_name = "DIR", default_value = "blueprints")]
        blueprints: PathBuf,
    },
}

#[derive(Args, Debug)]
pub(crate) struct HistoryArgs {
    #[command(subcommand)]
    pub command: Option<HistoryCommand>,
    /// How to print the list
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Subcommand, Debug)]
pub(crate) enum HistoryCommand {
    /// Record the releases of a blueprint set (e.g. an older checkout's blueprints and lock) in
    /// a history folder, as `spacegen lock` records the blueprints it locks
    #[command(after_help = EXIT_CODES)]
    Record {
        /// Folder holding the blueprint folders
        #[arg(long, value_name = "DIR", default_value = "blueprints")]
        blueprints: PathBuf,
        /// Their lock [default: spaces.lock in the folder holding the blueprints folder]
        #[arg(long, value_name = "FILE")]
        lock: Option<PathBuf>,
        /// The history folder to record into (made if missing)
        #[arg(long, value_name = "DIR", default_value = "history")]
        into: PathBuf,
    },
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("reports").args(["check", "outdated"]).multiple(false)))]
pub(crate) struct LockArgs {
    /// Folder holding the blueprint folders and matrix.toml
    #[arg(long, value_name = "DIR", default_value = "blueprints")]
    pub blueprints: PathBuf,
    /// The lock file to write [default: spaces.lock in the folder holding the blueprints
    /// folder, where `new` looks for it]
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
    /// Change nothing; exit 3 with a diff if the lock is not up to date (needs no network)
    #[arg(long, conflicts_with_all = ["update", "verify"])]
    pub check: bool,
    /// With --check or --outdated: how to print the result
    #[arg(long, value_enum, default_value_t = Format::Human, requires = "reports")]
    pub format: Format,
    /// Change nothing; list the requested packages the matrix has newer candidates of (what
    /// --update would move them to), exit 0 (needs no network)
    #[arg(long, conflicts_with_all = ["check", "update", "verify", "verify_plan", "merge_evidence"])]
    pub outdated: bool,
    /// Move these packages (all when none are named) to the newest versions the matrix allows
    #[arg(long, value_name = "PACKAGE", num_args = 0..)]
    pub update: Option<Vec<String>>,
    /// Prove the locked set: install it with --require-hashes, run the generated tests, boot it
    #[arg(long, value_name = "BLUEPRINT", num_args = 0..=1)]
    pub verify: Option<Option<String>>,
    /// With --verify: also write the evidence to FILE (JSON), for --merge-evidence elsewhere
    #[arg(long, value_name = "FILE", requires = "verify")]
    pub evidence_out: Option<PathBuf>,
    /// Print the verification plan (every blueprint × supported Python × OS) as a GitHub
    /// Actions matrix (JSON), for .github/workflows/verify.yml
    #[arg(long, conflicts_with_all = ["check", "update", "verify", "merge_evidence"])]
    pub verify_plan: bool,
    /// Record the evidence of --verify runs made elsewhere (files written by --evidence-out)
    #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with_all = ["check", "update", "verify"])]
    pub merge_evidence: Vec<PathBuf>,
}

impl LockArgs {
    /// The lock file: `--lock`, else `spaces.lock` beside the blueprints folder.
    pub(crate) fn lock_path(&self) -> PathBuf {
        if let Some(path) = &self.lock {
            return path.clone();
        }
        match self.blueprints.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.join(LOCK_FILE),
            _ => PathBuf::from(LOCK_FILE),
        }
    }
}

#[derive(Args, Debug)]
pub(crate) struct NewArgs {
    /// Folder to create [default: ./<slug>]
    #[arg(value_name = "DEST")]
    pub dest: Option<PathBuf>,
    /// Blueprint name (see `spacegen list`) or the path of a blueprint folder
    #[arg(
        short,
        long,
        value_name = "NAME|PATH",
        default_value = DEFAULT_BLUEPRINT,
        value_parser = BlueprintName,
        hide_possible_values = true
    )]
    pub blueprint: String,
    /// Set a variable; repeatable. Lists are comma-separated.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Read answers from a TOML file (top-level keys, or a project's .spacegen/answers.toml)
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,
    /// Never prompt: use defaults for everything not given
    #[arg(long)]
    pub defaults: bool,
    /// Write into a non-empty folder, overwriting the files the blueprint produces
    #[arg(long)]
    pub force: bool,
    /// Show what would be written; write nothing (refused as the real run would be)
    #[arg(long)]
    pub dry_run: bool,
    /// Use this spaces.lock instead of the one found next to the blueprint (or embedded)
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
}

/// A blueprint given by name or path: any string is taken as it is (loading judges it); shell
/// completions offer the embedded blueprints' names, with their descriptions.
#[derive(Clone)]
struct BlueprintName;

impl TypedValueParser for BlueprintName {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        let source = Source::Embedded;
        let names = source.names().unwrap_or_default();
        Some(Box::new(names.into_iter().filter_map(move |name| {
            let bp = blueprint::load(&source, &name).ok()?;
            (bp.kind != Kind::Layer).then(|| PossibleValue::new(bp.name).help(bp.description))
        })))
    }
}

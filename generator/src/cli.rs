//! The command line: argument parsing and the `new`, `list`, `show` and `lock` commands.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::answers::{Prompter, Provided};
use crate::blueprint::{self, Blueprint, Kind, DEFAULT_BLUEPRINT};
use crate::error::{exit, Error, Result};
use crate::lock::{self, LoadedLock};
use crate::prompt::Terminal;
use crate::source::Source;
use crate::variables::Default as VarDefault;
use crate::write::{self, Destination};
use crate::{generate, record};

const EXIT_CODES: &str = "\
Exit status:
  0  success
  1  an I/O or other runtime failure
  2  bad usage or invalid input (arguments, answers, destination); nothing was written
  3  a blueprint, template or spaces.lock is malformed or out of date; nothing was written";

#[derive(Parser, Debug)]
#[command(
    name = "spacegen",
    version,
    about = "Generate deploy-ready FastAPI backends for Hugging Face Docker Spaces",
    after_help = EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Generate a new project from a blueprint
    #[command(after_help = EXIT_CODES)]
    New(NewArgs),
    /// List the embedded blueprints
    #[command(after_help = EXIT_CODES)]
    List,
    /// Show a blueprint's variables, files and pinned packages
    #[command(after_help = EXIT_CODES)]
    Show {
        /// Blueprint name or folder
        #[arg(value_name = "NAME|PATH", default_value = DEFAULT_BLUEPRINT)]
        blueprint: String,
    },
    /// Resolve every blueprint and write spaces.lock (or check, update, verify it)
    #[command(after_help = EXIT_CODES)]
    Lock(LockArgs),
}

#[derive(Args, Debug)]
struct LockArgs {
    /// Folder holding the blueprint folders and matrix.toml
    #[arg(long, value_name = "DIR", default_value = "blueprints")]
    blueprints: PathBuf,
    /// The lock file to write
    #[arg(long, value_name = "FILE", default_value = lock::FILE_NAME)]
    lock: PathBuf,
    /// Change nothing; exit 3 with a diff if the lock is not up to date (needs no network)
    #[arg(long, conflicts_with_all = ["update", "verify"])]
    check: bool,
    /// Move these packages (all when none are named) to the newest versions the matrix allows
    #[arg(long, value_name = "PACKAGE", num_args = 0..)]
    update: Option<Vec<String>>,
    /// Prove the locked set: install it with --require-hashes, run the generated tests, boot it
    #[arg(long, value_name = "BLUEPRINT", num_args = 0..=1)]
    verify: Option<Option<String>>,
}

#[derive(Args, Debug)]
struct NewArgs {
    /// Folder to create [default: ./<slug>]
    #[arg(value_name = "DEST")]
    dest: Option<PathBuf>,
    /// Blueprint name (see `spacegen list`) or the path of a blueprint folder
    #[arg(short, long, value_name = "NAME|PATH", default_value = DEFAULT_BLUEPRINT)]
    blueprint: String,
    /// Set a variable; repeatable. Lists are comma-separated.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// Read answers from a TOML file (top-level keys, or a project's .spacegen/answers.toml)
    #[arg(long, value_name = "FILE")]
    answers: Option<PathBuf>,
    /// Never prompt: use defaults for everything not given
    #[arg(long)]
    defaults: bool,
    /// Write into a non-empty folder, overwriting the files the blueprint produces
    #[arg(long)]
    force: bool,
    /// Show what would be written; write nothing
    #[arg(long)]
    dry_run: bool,
    /// Use this spaces.lock instead of the one found next to the blueprint (or embedded)
    #[arg(long, value_name = "FILE")]
    lock: Option<PathBuf>,
}

/// Runs the command line and returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
        }
    };
    let result = match cli.command {
        Command::New(args) => new(args),
        Command::List => list(),
        Command::Show { blueprint } => show(&blueprint),
        Command::Lock(args) => lock_command(args),
    };
    match result {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

/// Loads a blueprint that can be generated (not a layer).
fn load(spec: &str) -> Result<(Blueprint, Source)> {
    let (source, name) = blueprint::locate(spec)?;
    let bp = blueprint::load(&source, &name)?;
    if bp.kind == Kind::Layer {
        return Err(Error::Input(vec![format!(
            "--blueprint {spec}: '{}' is a shared layer, not a blueprint; pick one of `spacegen list`",
            bp.name
        )]));
    }
    Ok((bp, source))
}

/// The lock for `bp`: `--lock`, else the nearest spaces.lock above a blueprint folder on disk,
/// else the embedded one.
fn lock_for(explicit: Option<&Path>, source: &Source) -> Result<LoadedLock> {
    if let Some(path) = explicit {
        return lock::read(path);
    }
    if let Source::Disk(root) = source {
        if let Some(path) = lock::find_near(root) {
            return lock::read(&path);
        }
    }
    lock::embedded()
}

fn new(args: NewArgs) -> Result<()> {
    let (bp, source) = load(&args.blueprint)?;
    let lock = lock_for(args.lock.as_deref(), &source)?;
    let entry = lock.entry_for(&bp)?;

    let mut provided = Provided::default();
    provided.add_flags(&args.vars);
    if let Some(file) = &args.answers {
        provided.add_file(file)?;
    }
    let interactive = !args.defaults && std::io::stdin().is_terminal();
    let mut terminal = Terminal;
    let prompter: Option<&mut dyn Prompter> = if interactive {
        Some(&mut terminal)
    } else {
        None
    };
    let (plan, answers) = generate::project(&bp, entry, &provided, prompter)?;

    let dest = match args.dest {
        Some(d) => d,
        None => match answers.get("slug") {
            Some(slug) => PathBuf::from(slug.to_string()),
            None => {
                return Err(Error::Input(vec![
                "DEST is required: this blueprint has no 'slug' variable to name the folder after"
                    .into(),
            ]))
            }
        },
    };

    if args.dry_run {
        let state = write::inspect(&plan, &dest)?;
        let overwritten = match &state {
            Destination::Existing { overwritten } => overwritten.clone(),
            Destination::Fresh => Vec::new(),
        };
        println!(
            "Would write {} files to {} (dry run: nothing written):",
            plan.files().len(),
            dest.display()
        );
        for (path, file) in plan.files() {
            let mark = if overwritten.contains(path) {
                "overwrite"
            } else {
                "create"
            };
            println!("  {mark:9} {path} ({} bytes)", file.contents.len());
        }
        if matches!(state, Destination::Existing { .. }) && !args.force {
            println!(
                "{} is not empty: the real run needs --force",
                dest.display()
            );
        }
        return Ok(());
    }

    let state = write::write(&plan, &dest, args.force)?;
    if let Destination::Existing { overwritten } = &state {
        if !overwritten.is_empty() {
            println!("Overwrote {} files:", overwritten.len());
            for p in overwritten {
                println!("  {p}");
            }
        }
    }
    println!(
        "Created {} from blueprint {} {} ({} files).",
        dest.display(),
        bp.name,
        bp.version,
        plan.files().len()
    );
    println!("\nNext steps:\n  cd {}\n  python3 -m venv .venv && . .venv/bin/activate\n  pip install -r requirements-dev.txt\n  pytest\n  uvicorn app.main:app --reload --port {}",
        dest.display(),
        answers.get("port").map(ToString::to_string).unwrap_or_else(|| "7860".into()));
    Ok(())
}

fn list() -> Result<()> {
    let source = Source::Embedded;
    for name in source.names()? {
        let bp = blueprint::load(&source, &name)?;
        if bp.kind == Kind::Layer {
            continue;
        }
        let default = if bp.name == DEFAULT_BLUEPRINT {
            " (default)"
        } else {
            ""
        };
        println!(
            "{:<20} {:<8} {}{default}",
            bp.name, bp.version, bp.description
        );
    }
    Ok(())
}

fn show(spec: &str) -> Result<()> {
    let (bp, source) = load(spec)?;
    println!("{} {}", bp.name, bp.version);
    println!("{}", bp.description);
    if !bp.layers.is_empty() {
        println!("extends: {}", bp.layers.join(" → "));
    }
    println!("content hash: {}", bp.content_hash);
    println!("\nVariables:");
    for var in &bp.variables {
        let default = match var.default_spec() {
            Ok(VarDefault::Template(t)) => format!(" [default: {t}]"),
            Ok(VarDefault::Value(v)) => format!(" [default: {v}]"),
            _ => String::new(),
        };
        let secret = if var.def.secret { " (secret)" } else { "" };
        println!(
            "  {:<18} {:<8}{secret}{default}",
            var.name(),
            var.def.ty.to_string()
        );
        if let Some(p) = &var.def.prompt {
            println!("  {:<18} {p}", "");
        }
        let v = &var.def.validate;
        let mut rules = Vec::new();
        if let Some(c) = &v.choices {
            rules.push(format!("one of {}", c.join(", ")));
        }
        if let Some(r) = &v.regex {
            rules.push(format!("matches {r}"));
        }
        if let Some(n) = v.min_length {
            rules.push(format!("length ≥ {n}"));
        }
        if let Some(n) = v.max_length {
            rules.push(format!("length ≤ {n}"));
        }
        if let (Some(a), Some(b)) = (v.min, v.max) {
            rules.push(format!("{a}..={b}"));
        }
        if !rules.is_empty() {
            println!("  {:<18} {}", "", rules.join("; "));
        }
    }
    println!("\nFiles:");
    for output in bp.templates.keys() {
        let when: Vec<&str> = bp
            .rules
            .iter()
            .filter(|r| r.matches(output))
            .filter_map(|r| r.when.as_deref())
            .collect();
        let cond = if when.is_empty() {
            String::new()
        } else {
            format!("  (when {})", when.join(" and "))
        };
        println!("  {output}{cond}");
    }
    println!("  {}", record::path());
    let lock = lock_for(None, &source)?;
    println!("\nPackages (from {}):", lock.origin);
    match lock.entry_for(&bp) {
        Ok(entry) => {
            println!("  python {} on {}", entry.python, entry.platform);
            for group in bp.dependencies.groups.iter().chain(&bp.dependencies.dev) {
                println!("  # {}", group.comment);
                for p in &group.packages {
                    let pin = lock::pin(entry, p)?;
                    let requested = p
                        .specifiers()
                        .map(|s| s.to_string())
                        .filter(|s| !s.is_empty());
                    let spec = format!("{}=={}", p.name_with_extras(), pin.version);
                    println!(
                        "  {spec:<34} requested {}",
                        requested.as_deref().unwrap_or("*")
                    );
                }
            }
            let transitive = entry.transitive(false).len() + entry.transitive(true).len();
            println!(
                "  + {transitive} transitive packages; {} artifacts pinned by sha256",
                entry.artifacts.len()
            );
            if !entry.rules.is_empty() {
                println!("\nRules applied: {}", entry.rules.join(", "));
            }
            match &entry.verification {
                Some(v) => println!(
                    "\nVerified {} ({}) on Python {} with spacegen {}: {}",
                    v.date,
                    v.result,
                    v.python,
                    v.spacegen,
                    v.steps.join("; ")
                ),
                None => println!(
                    "\nNot verified since it was last locked: run `spacegen lock --verify`"
                ),
            }
        }
        Err(e) => println!("  not available: {e}"),
    }
    Ok(())
}

fn lock_command(args: LockArgs) -> Result<()> {
    crate::locking::run(&crate::locking::Options {
        blueprints: args.blueprints,
        lock: args.lock,
        check: args.check,
        update: args.update,
        verify: args.verify,
    })
}

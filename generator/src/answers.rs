//! Collecting a value for every variable: from `--var`, from an answers file, at a prompt, or
//! from the default. Without a prompt, every missing or invalid value is reported at once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use liquid::model::Object;

use crate::blueprint::Blueprint;
use crate::error::{Error, Result};
use crate::render::{self, Engine};
use crate::variables::{Default, Value, Variable};

/// A value given before any prompt, with where it came from.
#[derive(Debug, Clone)]
pub enum Given {
    /// `--var name=value`
    Flag(String),
    /// A value of an answers file.
    File(toml::Value, String),
}

impl Given {
    fn describe(&self, name: &str) -> String {
        match self {
            Given::Flag(raw) => format!("--var {name}={raw}"),
            Given::File(_, file) => format!("{name} in {file}"),
        }
    }
}

/// Values given on the command line and in an answers file; flags win over the file.
#[derive(Debug, Clone, Default)]
pub struct Provided {
    values: BTreeMap<String, Given>,
    errors: Vec<String>,
}

impl Provided {
    /// Adds `--var` arguments (`name=value`).
    pub fn add_flags(&mut self, flags: &[String]) {
        for flag in flags {
            match flag.split_once('=') {
                Some((name, value)) if !name.trim().is_empty() => {
                    self.values
                        .insert(name.trim().to_owned(), Given::Flag(value.to_owned()));
                }
                _ => self
                    .errors
                    .push(format!("--var {flag}: expected NAME=VALUE")),
            }
        }
    }

    /// Reads an answers file: top-level `name = value` pairs, or the `[answers]` table of a
    /// project's `.spacegen/answers.toml`. Values already given as flags are kept.
    pub fn add_file(&mut self, path: &Path) -> Result<()> {
        let origin = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|e| Error::io("read answers file", path, e))?;
        let table: toml::Table = toml::from_str(&text)
            .map_err(|e| Error::Input(vec![format!("{origin}: {}", e.to_string().trim_end())]))?;
        let answers = match table.get("answers") {
            Some(toml::Value::Table(t)) => t.clone(),
            _ => table,
        };
        for (name, value) in answers {
            self.values
                .entry(name)
                .or_insert(Given::File(value, origin.clone()));
        }
        Ok(())
    }
}

/// Asks the user for a value.
pub trait Prompter {
    /// Prompts for `var`, showing `default`; the answer must pass `var.validate`.
    fn ask(&mut self, var: &Variable, default: Option<&Value>) -> Result<Value>;
}

/// The collected values, in variable order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answers {
    values: Vec<(String, Value)>,
    secret: BTreeSet<String>,
}

impl Answers {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Every answer that may be written down (no secrets), in variable order.
    pub fn public(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.values
            .iter()
            .filter(|(n, _)| !self.secret.contains(n))
            .map(|(n, v)| (n.as_str(), v))
    }

    fn push(&mut self, var: &Variable, value: Value) {
        if var.def.secret {
            self.secret.insert(var.name().to_owned());
        }
        self.values.push((var.name().to_owned(), value));
    }
}

/// Collects a value for every variable of `bp`. With a prompter, missing values are asked
/// for; without one, every problem is reported together.
pub fn collect(
    bp: &Blueprint,
    engine: &Engine,
    provided: &Provided,
    mut prompter: Option<&mut dyn Prompter>,
) -> Result<Answers> {
    let mut errors = provided.errors.clone();
    for name in provided.values.keys() {
        if !bp.variables.iter().any(|v| v.name() == name) {
            let known: Vec<&str> = bp.variables.iter().map(Variable::name).collect();
            errors.push(format!(
                "{}: blueprint '{}' has no variable '{name}'; it has: {}",
                provided.values[name].describe(name),
                bp.name,
                known.join(", ")
            ));
        }
    }
    // Parse every given value up front, so that type errors are all reported even when prompting.
    let mut given = BTreeMap::new();
    for var in &bp.variables {
        if let Some(g) = provided.values.get(var.name()) {
            let parsed = match g {
                Given::Flag(raw) => var.parse_str(raw),
                Given::File(v, _) => var.from_toml(v),
            };
            match parsed.and_then(|v| var.validate(&v).map(|()| v)) {
                Ok(v) => {
                    given.insert(var.name(), v);
                }
                Err(e) => errors.push(format!("{}: {e}", g.describe(var.name()))),
            }
        }
    }
    if !errors.is_empty() {
        return Err(Error::Input(errors));
    }

    let mut answers = Answers::default();
    let base = render::base_globals(bp);
    for var in &bp.variables {
        if let Some(v) = given.remove(var.name()) {
            answers.push(var, v);
            continue;
        }
        let default = default_value(bp, engine, var, &answers, &base)?;
        if let Some(p) = prompter.as_deref_mut() {
            let value = p.ask(var, default.as_ref())?;
            answers.push(var, value);
            continue;
        }
        match default {
            Some(value) => match var.validate(&value) {
                Ok(()) => answers.push(var, value),
                Err(e) => errors.push(format!(
                    "{}: its default (derived from other answers) is invalid: {e}; pass --var {}=VALUE",
                    var.name(),
                    var.name()
                )),
            },
            None => errors.push(format!(
                "{}: no value and no default; pass --var {}=VALUE{}",
                var.name(),
                var.name(),
                var.def.help.as_deref().map(|h| format!(" ({h})")).unwrap_or_default()
            )),
        }
    }
    if errors.is_empty() {
        Ok(answers)
    } else {
        Err(Error::Input(errors))
    }
}

/// The default of `var`, rendered over the answers so far if it is a template.
fn default_value(
    bp: &Blueprint,
    engine: &Engine,
    var: &Variable,
    answers: &Answers,
    base: &Object,
) -> Result<Option<Value>> {
    let origin = || format!("{} (default of variable '{}')", bp.origin, var.name());
    match var
        .default_spec()
        .map_err(|e| Error::blueprint(origin(), e))?
    {
        Default::None => Ok(None),
        Default::Value(v) => Ok(Some(v)),
        Default::Template(t) => {
            let mut globals = base.clone();
            for (name, value) in answers.public() {
                globals.insert(name.to_owned().into(), value.to_liquid());
            }
            let text = engine.render(&origin(), &t, &globals)?;
            var.parse_str(&text)
                .map(Some)
                .map_err(|e| Error::blueprint(origin(), e))
        }
    }
}

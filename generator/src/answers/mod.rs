//! Collecting a value for every variable: given as an argument or in an answers file
//! ([`provided`]), asked at a prompt ([`Prompter`]), or the default. Without a prompt, every
//! missing or invalid value is reported at once.

pub(crate) mod provided;

use std::collections::{BTreeMap, BTreeSet};

use crate::blueprint::{Blueprint, DefaultSpec, Value, Variable};
use crate::error::{About, Error, Fix, Problem, Result};
use crate::template::{names, Context, Engine, Origin};
pub(crate) use provided::{Given, Provided};

/// Asks the user for a value.
pub(crate) trait Prompter {
    /// Prompts for `var`, showing `default`; the answer must pass `var.validate`.
    fn ask(&mut self, var: &Variable, default: Option<&Value>) -> Result<Value>;
}

/// The collected values, in variable order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Answers {
    values: Vec<(String, Value)>,
    secret: BTreeSet<String>,
}

impl Answers {
    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Every answer that may be written down (no secrets), in variable order.
    pub(crate) fn public(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.values
            .iter()
            .filter(|(n, _)| !self.secret.contains(n))
            .map(|(n, v)| (n.as_str(), v))
    }

    fn push(&mut self, var: &Variable, value: Value) {
        if var.secret {
            self.secret.insert(var.name().to_owned());
        }
        self.values.push((var.name().to_owned(), value));
    }
}

/// Collects a value for every variable of `bp`. With a prompter, missing values are asked
/// for; without one, every problem is reported together. Derived defaults are rendered with
/// `engine`.
pub(crate) fn collect(
    bp: &Blueprint,
    engine: &Engine,
    provided: &Provided,
    mut prompter: Option<&mut dyn Prompter>,
) -> Result<Answers> {
    let (mut given, mut problems) = check_given(bp, provided);
    if prompter.is_some() && !problems.is_empty() {
        // Values given up front are fixed up front: nothing is asked before they are valid.
        return Err(Error::Input(problems));
    }
    // Variables without a value: a default derived from one of them is not computed.
    let mut failed: BTreeSet<String> = problems
        .iter()
        .filter_map(|p| match &p.about {
            About::Flag { name, .. } | About::File { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect();
    let mut answers = Answers::default();
    for var in &bp.variables {
        if let Some(v) = given.remove(var.name()) {
            answers.push(var, v);
            continue;
        }
        if failed.contains(var.name()) {
            // Given, but invalid: reported already.
            continue;
        }
        if derives_from(bp, var, &answers, &failed) {
            failed.insert(var.name().to_owned());
            continue;
        }
        let default = default_value(bp, engine, var, &answers)?;
        if let Some(p) = prompter.as_deref_mut() {
            let value = p.ask(var, default.as_ref())?;
            answers.push(var, value);
            continue;
        }
        let about = About::Variable(var.name().to_owned());
        let fix = Fix::GiveValue(var.name().to_owned());
        match default {
            Some(value) => match var.validate(&value) {
                Ok(()) => answers.push(var, value),
                Err(e) => {
                    failed.insert(var.name().to_owned());
                    problems.push(
                        Problem::new(
                            about,
                            format!("its default (derived from other answers) is invalid: {e}"),
                        )
                        .fix(fix),
                    )
                }
            },
            None => {
                failed.insert(var.name().to_owned());
                let help = var
                    .help
                    .as_deref()
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default();
                problems
                    .push(Problem::new(about, format!("no value and no default{help}")).fix(fix))
            }
        }
    }
    if problems.is_empty() {
        Ok(answers)
    } else {
        Err(Error::Input(problems))
    }
}

/// Whether `var`'s default is derived from a variable in `failed` (one without a valid value):
/// that default cannot be computed, and the problem with the other variable is reported.
fn derives_from(
    bp: &Blueprint,
    var: &Variable,
    answers: &Answers,
    failed: &BTreeSet<String>,
) -> bool {
    let DefaultSpec::Template(t) = &var.default else {
        return false;
    };
    let mut context = Context::base(&bp.name, &bp.version.to_string());
    context.insert_answers(answers.public());
    let partials = |name: &str| bp.partials.get(name).cloned();
    names::undefined(t, &|n| context.has(n), &partials)
        .iter()
        .any(|u| failed.contains(&u.name))
}

/// Parses and validates every given value up front, so that all problems are reported
/// together, even when prompting follows. Returns the valid values and the problems.
fn check_given<'a>(
    bp: &'a Blueprint,
    provided: &Provided,
) -> (BTreeMap<&'a str, Value>, Vec<Problem>) {
    let mut problems = provided.problems.clone();
    for (name, g) in &provided.values {
        if bp.variable(name).is_none() {
            let known: Vec<&str> = bp.variables.iter().map(Variable::name).collect();
            problems.push(Problem::new(
                g.about(name),
                format!(
                    "blueprint '{}' has no variable '{name}'; it has: {}",
                    bp.name,
                    known.join(", ")
                ),
            ));
        }
    }
    let mut given = BTreeMap::new();
    for var in &bp.variables {
        let Some(g) = provided.values.get(var.name()) else {
            continue;
        };
        let parsed = match g {
            Given::Flag(raw) => var.parse_str(raw),
            Given::File(v, _) => var.parse_toml(v),
        };
        match parsed.and_then(|v| var.validate(&v).map(|()| v)) {
            Ok(v) => {
                given.insert(var.name(), v);
            }
            Err(e) => {
                let about = match g.about(var.name()) {
                    // A secret is never echoed, not even back to the one who typed it.
                    About::Flag { name, .. } if var.secret => About::Flag {
                        name,
                        raw: "…".to_owned(),
                    },
                    about => about,
                };
                problems.push(Problem::new(about, e))
            }
        }
    }
    (given, problems)
}

/// The default of `var`, rendered over the answers so far if it is a template.
fn default_value(
    bp: &Blueprint,
    engine: &Engine,
    var: &Variable,
    answers: &Answers,
) -> Result<Option<Value>> {
    match &var.default {
        DefaultSpec::None => Ok(None),
        DefaultSpec::Value(v) => Ok(Some(v.clone())),
        DefaultSpec::Template(t) => {
            let file = format!("{} (default of variable '{}')", bp.origin, var.name());
            let mut context = Context::base(&bp.name, &bp.version.to_string());
            context.insert_answers(answers.public());
            let text = engine.render(&Origin::file(&file), t, &context)?;
            var.parse_str(&text)
                .map(Some)
                .map_err(|e| Error::blueprint(file, e))
        }
    }
}

#[cfg(test)]
mod tests;

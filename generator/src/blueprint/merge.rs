//! Merging a blueprint's chain of folders (outermost layer first) into one [`Blueprint`],
//! checking every manifest field on the way.

use std::collections::BTreeMap;
use std::str::FromStr;

use globset::Glob;

use super::manifest::{GroupWire, Manifest, MetaWire};
use super::source::FileTree;
use super::{
    hash, Blueprint, Condition, Dependencies, FileRule, Folder, Group, Kind, Note, Package,
    Template, Value, VarType, Variable,
};
use crate::error::{Diagnostic, Error, FileKind, Result};
use crate::requirement::Requirement;
use crate::template::{context, names, Context, Engine, Origin};
use toml::Spanned;

const TEMPLATE_DIR: &str = "template/";
const PARTIALS_DIR: &str = "partials/";
const LIQUID_SUFFIX: &str = ".liquid";

/// What the folders of a chain add up to, before the blueprint's own metadata is applied.
#[derive(Default)]
struct Merged {
    variables: Vec<Variable>,
    rules: Vec<FileRule>,
    dependencies: Dependencies,
    templates: BTreeMap<String, Template>,
    partials: BTreeMap<String, String>,
    notes: Vec<Note>,
    layers: Vec<String>,
}

pub(super) fn merge(chain: Vec<Folder>) -> Result<Blueprint> {
    let Some(own) = chain.last() else {
        return Err(Error::Other("empty blueprint chain".into()));
    };
    let hash_input: Vec<(&str, &FileTree)> =
        chain.iter().map(|f| (f.name.as_str(), &f.files)).collect();
    let content_hash = hash::tree_hash(&hash_input);
    let mut merged = Merged::default();
    let mut version = None;
    let mut requires_python = None;
    for (i, folder) in chain.iter().enumerate() {
        let meta = &folder.manifest.wire.blueprint;
        version = Some(check_meta(&folder.manifest, meta)?);
        if let Some(spec) = &meta.requires_python {
            requires_python = Some(check_requires_python(&folder.manifest, spec)?);
        }
        if i + 1 < chain.len() {
            check_layer(&folder.manifest, meta)?;
            merged.layers.push(meta.name.get_ref().clone());
        }
        merge_variables(&mut merged.variables, &folder.manifest, i > 0)?;
        merged.rules.extend(file_rules(&folder.manifest)?);
        merge_dependencies(&mut merged.dependencies, &folder.manifest)?;
        merged.notes.extend(notes(&folder.manifest));
        collect_files(&mut merged, folder)?;
    }
    check_unique_packages(&own.manifest, &merged.dependencies)?;
    check_conditions(&own.manifest, &merged)?;
    let meta = &own.manifest.wire.blueprint;
    let Some(version) = version else {
        return Err(Error::Other("empty blueprint chain".into()));
    };
    Ok(Blueprint {
        name: meta.name.get_ref().clone(),
        version,
        description: meta.description.clone(),
        kind: meta.kind.as_ref().map(|k| *k.get_ref()).unwrap_or_default(),
        requires_python: requires_python.unwrap_or_else(|| DEFAULT_REQUIRES_PYTHON.to_owned()),
        layers: merged.layers,
        variables: merged.variables,
        rules: merged.rules,
        dependencies: merged.dependencies,
        templates: merged.templates,
        partials: merged.partials,
        notes: merged.notes,
        content_hash,
        origin: own.origin.clone(),
    })
}

/// Whether `name` is a blueprint's name: lowercase letters, digits and '-'.
pub(super) fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Checks name, version and the spacegen version a folder needs; returns its version.
fn check_meta(m: &Manifest, meta: &MetaWire) -> Result<semver::Version> {
    let name = meta.name.get_ref();
    if !is_name(name) {
        return Err(m
            .error(
                meta.name.span(),
                format!("blueprint.name {name:?}: use lowercase letters, digits and '-'"),
            )
            .into());
    }
    let version = semver::Version::parse(meta.version.get_ref()).map_err(|e| {
        m.error(
            meta.version.span(),
            format!("blueprint.version {:?}: {e}", meta.version.get_ref()),
        )
    })?;
    if let Some(min) = &meta.min_spacegen {
        let needed = semver::Version::parse(min.get_ref()).map_err(|e| {
            m.error(
                min.span(),
                format!("blueprint.min_spacegen {:?}: {e}", min.get_ref()),
            )
        })?;
        let ours = semver::Version::parse(env!("CARGO_PKG_VERSION"))
            .map_err(|e| Error::Other(format!("spacegen's own version: {e}")))?;
        if ours < needed {
            return Err(m
                .error(
                    min.span(),
                    format!("needs spacegen {needed} or newer; this is {ours}"),
                )
                .help("upgrade spacegen")
                .into());
        }
    }
    Ok(version)
}

/// The Pythons of a blueprint that names none (nor do its layers).
pub(crate) const DEFAULT_REQUIRES_PYTHON: &str = ">=3.11";

/// A PEP 440 specifier with a lower bound of the form `>=X.Y`, normalised (`>=3.11`).
fn check_requires_python(m: &Manifest, spec: &Spanned<String>) -> Result<String> {
    let text = spec.get_ref();
    let parsed = pep440_rs::VersionSpecifiers::from_str(text).map_err(|e| {
        m.error(
            spec.span(),
            format!("blueprint.requires_python {text:?}: {e}"),
        )
    })?;
    let has_lower = parsed.iter().any(|s| {
        *s.operator() == pep440_rs::Operator::GreaterThanEqual && s.version().release().len() == 2
    });
    if !has_lower {
        return Err(m
            .error(
                spec.span(),
                format!("blueprint.requires_python {text:?} has no lower bound of the form >=X.Y"),
            )
            .help("e.g. requires_python = \">=3.11\"")
            .into());
    }
    Ok(parsed.to_string())
}

fn check_layer(m: &Manifest, meta: &MetaWire) -> Result<()> {
    match &meta.kind {
        Some(k) if *k.get_ref() == Kind::Layer => Ok(()),
        other => Err(m
            .error(
                other.as_ref().map_or(meta.name.span(), |k| k.span()),
                "is extended by another blueprint, so it must be a layer",
            )
            .help("add kind = \"layer\" under [blueprint]")
            .into()),
    }
}

/// Adds a folder's variables: a later folder's variable replaces a layer's of the same name;
/// within one folder, a name may appear once.
fn merge_variables(variables: &mut Vec<Variable>, m: &Manifest, layered: bool) -> Result<()> {
    let mut own = Vec::new();
    for wire in &m.wire.variables {
        let span = wire.name.span();
        let name = wire.name.get_ref().clone();
        if own.contains(&name) {
            return Err(m
                .error(span, format!("variable '{name}' is declared twice"))
                .into());
        }
        if let Some(why) = reserved(&name) {
            return Err(m
                .error(span, format!("variable '{name}' {why}"))
                .help(format!(
                    "rename it; names templates read as something else: {}, {}",
                    context::NAMES.join(", "),
                    names::KEYWORDS.join(", ")
                ))
                .into());
        }
        let var = Variable::new(wire.clone()).map_err(|e| m.error(span.clone(), e))?;
        own.push(name);
        match variables.iter_mut().find(|v| v.name() == var.name()) {
            Some(existing) if layered => *existing = var,
            Some(_) => {
                return Err(m
                    .error(span, format!("variable '{}' is declared twice", var.name()))
                    .into())
            }
            None => variables.push(var),
        }
        if variables.len() > MAX_VARIABLES {
            return Err(m
                .error(
                    wire.name.span(),
                    format!("more than {MAX_VARIABLES} variables (with the layers')"),
                )
                .help("a blueprint asks for far fewer: derived defaults are rendered one after another, each over all the answers before it; group values into lists, or compute them in a template")
                .into());
        }
    }
    Ok(())
}

/// The most variables a blueprint (with its layers) may have: each derived default is rendered
/// over every answer before it, so a blueprint of 4,000 chained defaults took 15 s.
pub(crate) const MAX_VARIABLES: usize = 256;

/// Why a variable may not be called `name`, if it may not: templates would read something
/// else under it.
fn reserved(name: &str) -> Option<&'static str> {
    if context::NAMES.contains(&name) {
        Some("would hide the template value of that name")
    } else if names::KEYWORDS.contains(&name) {
        Some("is a word liquid reserves (an operator, a literal, a loop's object or argument)")
    } else {
        None
    }
}

fn file_rules(m: &Manifest) -> Result<Vec<FileRule>> {
    m.wire
        .files
        .iter()
        .map(|rule| {
            let pattern = rule.path.get_ref();
            let matcher = Glob::new(pattern)
                .map_err(|e| m.error(rule.path.span(), format!("files.path {pattern:?}: {e}")))?
                .compile_matcher();
            Ok(FileRule {
                pattern: pattern.clone(),
                matcher,
                when: condition(m, rule.when.as_ref()),
                raw: rule.raw,
            })
        })
        .collect()
}

fn merge_dependencies(deps: &mut Dependencies, m: &Manifest) -> Result<()> {
    let d = &m.wire.dependencies;
    deps.groups.extend(groups(m, &d.groups)?);
    deps.dev.extend(groups(m, &d.dev)?);
    deps.uses.extend(d.uses.iter().cloned());
    Ok(())
}

fn groups(m: &Manifest, wires: &[GroupWire]) -> Result<Vec<Group>> {
    wires
        .iter()
        .map(|g| {
            let packages = g
                .packages
                .iter()
                .map(|spec| {
                    let requirement = Requirement::parse(spec.get_ref()).map_err(|e| {
                        m.error(spec.span(), format!("dependencies group '{}': {e}", g.name))
                    })?;
                    Ok(Package {
                        spec: spec.get_ref().clone(),
                        requirement,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Group {
                name: g.name.clone(),
                comment: g.comment.clone(),
                packages,
                when: condition(m, g.when.as_ref()),
            })
        })
        .collect()
}

/// Adds a folder's templates (replacing a layer's at the same output path) and partials.
fn collect_files(merged: &mut Merged, folder: &Folder) -> Result<()> {
    for (path, entry) in &folder.files {
        if let Some(rel) = path.strip_prefix(TEMPLATE_DIR) {
            let (output, render) = match rel.strip_suffix(LIQUID_SUFFIX) {
                Some(stem) => (stem.to_owned(), true),
                None => (rel.to_owned(), false),
            };
            let source = format!("{}/{path}", folder.name);
            let own_prefix = format!("{}/", folder.name);
            if merged
                .templates
                .get(&output)
                .is_some_and(|t| t.source.starts_with(&own_prefix))
            {
                return Err(Error::blueprint(
                    source,
                    format!("two template files produce {output}; keep one"),
                ));
            }
            let template = Template {
                source,
                contents: entry.contents.clone(),
                executable: entry.executable,
                render,
            };
            merged.templates.insert(output, template);
        } else if let Some(rel) = path.strip_prefix(PARTIALS_DIR) {
            let name = rel.strip_suffix(LIQUID_SUFFIX).unwrap_or(rel).to_owned();
            let text = std::str::from_utf8(&entry.contents)
                .map(str::to_owned)
                .map_err(|_| {
                    Error::blueprint(format!("{}/{path}", folder.origin), "partial is not UTF-8")
                })?;
            merged.partials.insert(name, text);
        }
    }
    Ok(())
}

fn check_unique_packages(m: &Manifest, deps: &Dependencies) -> Result<()> {
    let mut seen = BTreeMap::new();
    for p in deps.all() {
        if let Some(first) = seen.insert(p.name(), p.spec.clone()) {
            return Err(Error::blueprint(
                m.file.clone(),
                format!(
                    "package '{}' is listed twice ({first:?} and {:?}); list it once",
                    p.name(),
                    p.spec
                ),
            ));
        }
    }
    Ok(())
}

fn condition(m: &Manifest, when: Option<&Spanned<String>>) -> Option<Condition> {
    when.map(|w| Condition {
        expr: w.get_ref().clone(),
        file: m.file.clone(),
        position: Some(m.position(w.span())),
    })
}

fn notes(m: &Manifest) -> Vec<Note> {
    m.wire
        .notes
        .iter()
        .map(|n| Note {
            text: n.text.trim().to_owned(),
            when: condition(m, n.when.as_ref()),
        })
        .collect()
}

/// Every `when` condition is checked when the blueprint loads, not when it is first evaluated
/// (a note's only after generation, a file rule's only when its file exists): it must be one
/// liquid expression, not markup, and read only non-secret variables, which conditions see. A
/// typo would otherwise make a file, a dependency group or a note silently disappear.
fn check_conditions(m: &Manifest, merged: &Merged) -> Result<()> {
    let deps = &merged.dependencies;
    let conditions = merged
        .rules
        .iter()
        .map(|r| (&r.when, format!("files.when of {:?}", r.pattern)))
        .chain(
            deps.groups
                .iter()
                .chain(&deps.dev)
                .map(|g| (&g.when, format!("dependencies.when of group {:?}", g.name))),
        )
        .chain(
            merged
                .notes
                .iter()
                .map(|n| (&n.when, "notes.when".to_owned())),
        );
    let engine = Engine::new(&BTreeMap::new(), &m.file)?;
    // Every variable a condition may read, with a placeholder of its type: only the syntax is
    // checked here, not what the condition evaluates to.
    let placeholders: Vec<(&str, Value)> = merged
        .variables
        .iter()
        .filter(|v| !v.secret)
        .map(|v| (v.name(), placeholder(v.ty)))
        .collect();
    let mut context = Context::empty();
    context.insert_answers(placeholders.iter().map(|(n, v)| (*n, v)));
    for (when, what) in conditions {
        let Some(c) = when else { continue };
        let at = |span: std::ops::Range<usize>, message: String| -> Error {
            match &c.position {
                // The value is written as a TOML string: its text starts after the quote.
                Some(p) => Diagnostic::new(FileKind::Blueprint, c.file.clone(), message)
                    .at(
                        p.text.clone(),
                        p.span.start + 1 + span.start..p.span.start + 1 + span.end,
                    )
                    .into(),
                None => Error::blueprint(c.file.clone(), message),
            }
        };
        if c.expr.trim().is_empty() {
            return Err(at(0..0, format!("{what} is empty")).with_help(
                "write a condition over the variables, e.g. when = \"github_sync\", or leave `when` out",
            ));
        }
        if let Some(i) = ["{{", "}}", "{%", "%}"]
            .iter()
            .filter_map(|d| c.expr.find(d))
            .min()
        {
            return Err(at(
                i..i + 2,
                format!(
                    "{what} {:?} holds liquid markup; a condition is one expression",
                    c.expr
                ),
            )
            .with_help("write the expression alone, e.g. when = \"db == 'postgres'\""));
        }
        let mut read = Vec::new();
        names::reads(&c.expr, &mut read);
        for (name, span) in read {
            match merged.variables.iter().find(|v| v.name() == name) {
                Some(v) if v.secret => {
                    return Err(at(
                        span,
                        format!("{what} {:?} reads '{name}', a secret variable", c.expr),
                    )
                    .with_help("conditions see only non-secret variables, as templates do"))
                }
                Some(_) => {}
                None => {
                    return Err(at(
                        span,
                        format!(
                            "{what} {:?} names '{name}', which is not a variable",
                            c.expr
                        ),
                    ))
                }
            }
        }
        let origin = Origin {
            file: &c.file,
            within: c.position.as_ref(),
        };
        if let Err(e) = engine.condition(&origin, &c.expr, &context) {
            return Err(match e {
                Error::Diagnostic(mut d) => {
                    d.message = format!("{what} {:?}: {}", c.expr, d.message);
                    d.help = Some(CONDITION_HELP.to_owned());
                    Error::Diagnostic(d)
                }
                other => other,
            });
        }
    }
    Ok(())
}

const CONDITION_HELP: &str = "a condition is the expression of a liquid `if`: variables and literals compared with ==, !=, <, >, <=, >= or contains, joined with and/or; no filters";

/// A value of type `ty`, standing in for an answer.
fn placeholder(ty: VarType) -> Value {
    match ty {
        VarType::String | VarType::Choice => Value::String(String::new()),
        VarType::Bool => Value::Bool(false),
        VarType::Integer => Value::Integer(0),
        VarType::List => Value::List(Vec::new()),
    }
}

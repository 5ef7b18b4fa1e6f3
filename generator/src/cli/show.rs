//! `spacegen show`: a blueprint's variables, files and pins, with the lock's evidence.

use serde_json::{json, Value as Json};

use super::args::Format;
use super::list::{pretty, JSON_VERSION};
use super::printer::Printer;
use crate::blueprint::{Blueprint, DefaultSpec, Value, Variable};
use crate::error::Result;
use crate::lock::{LoadedLock, LockedBlueprint};
use crate::project::record;

pub(super) fn run(spec: &str, format: Format, p: &Printer) -> Result<()> {
    let chosen = super::load(spec)?;
    let bp = &chosen.bp;
    if format == Format::Json {
        let lock = chosen.lock(None)?;
        return p.out(pretty(&as_json(bp, &lock)?));
    }
    p.out(format_args!("{} {}", bp.name, bp.version))?;
    p.out(&bp.description)?;
    if !bp.layers.is_empty() {
        p.out(format_args!("extends: {}", bp.layers.join(" → ")))?;
    }
    p.out(format_args!("content hash: {}", bp.content_hash))?;
    p.out("\nVariables:")?;
    for var in &bp.variables {
        variable(var, p)?;
    }
    p.out("\nFiles:")?;
    files(bp, p)?;
    let lock = chosen.lock(None)?;
    packages(bp, &lock, p)
}

fn variable(var: &Variable, p: &Printer) -> Result<()> {
    let default = match &var.default {
        DefaultSpec::Template(t) => format!(" [default: {t}]"),
        DefaultSpec::Value(v) => format!(" [default: {v}]"),
        DefaultSpec::None => String::new(),
    };
    let secret = if var.secret { " (secret)" } else { "" };
    p.out(format_args!(
        "  {:<18} {:<8}{secret}{default}",
        var.name(),
        var.ty.to_string()
    ))?;
    if let Some(prompt) = &var.prompt {
        p.out(format_args!("  {:<18} {prompt}", ""))?;
    }
    let rules = var.validation.describe();
    if !rules.is_empty() {
        p.out(format_args!("  {:<18} {}", "", rules.join("; ")))?;
    }
    Ok(())
}

fn files(bp: &Blueprint, p: &Printer) -> Result<()> {
    for output in bp.templates.keys() {
        let when: Vec<&str> = bp
            .rules
            .iter()
            .filter(|r| r.matches(output))
            .filter_map(|r| r.when.as_ref().map(|c| c.expr.as_str()))
            .collect();
        if when.is_empty() {
            p.out(format_args!("  {output}"))?;
        } else {
            p.out(format_args!("  {output}  (when {})", when.join(" and ")))?;
        }
    }
    p.out(format_args!("  {}", record::path()))
}

fn packages(bp: &Blueprint, lock: &LoadedLock, p: &Printer) -> Result<()> {
    p.out(format_args!("\nPackages (from {}):", lock.origin))?;
    match lock.entry_for(bp) {
        Ok(entry) => pins(bp, entry, p),
        Err(e) => p.out(format_args!("  not available: {e}")),
    }
}

fn pins(bp: &Blueprint, entry: &LockedBlueprint, p: &Printer) -> Result<()> {
    let claims = crate::lock::claims::claims(entry);
    p.out(format_args!(
        "  python {} (from {}); resolved for {}",
        entry.requires_python, entry.python, claims.resolved_for
    ))?;
    for group in bp.dependencies.groups.iter().chain(&bp.dependencies.dev) {
        match &group.when {
            Some(c) => p.out(format_args!("  # {}  (when {})", group.comment, c.expr))?,
            None => p.out(format_args!("  # {}", group.comment))?,
        }
        for package in &group.packages {
            let pin = entry.pin(package)?;
            let spec = format!(
                "{}=={}",
                package.requirement.name_with_extras(),
                pin.version
            );
            p.out(format_args!(
                "  {spec:<34} requested {}",
                package.requirement.requested()
            ))?;
        }
    }
    let direct: Vec<&str> = bp.dependencies.all().map(|p| p.name()).collect();
    let transitive = entry.transitive(false, &direct).len() + entry.transitive(true, &direct).len();
    let files: usize = entry.artifacts.iter().map(|a| a.files.len()).sum();
    p.out(format_args!(
        "  + {transitive} transitive packages; {files} files pinned by sha256"
    ))?;
    if !entry.rules.is_empty() {
        p.out(format_args!("\nRules applied: {}", entry.rules.join(", ")))?;
    }
    let proving = crate::lock::claims::proving(entry);
    if proving.is_empty() {
        return p.out("\nNot verified since it was last locked: run `spacegen lock --verify`");
    }
    p.out(format_args!("\nVerified on {}", claims.verified_on))?;
    for v in proving {
        p.out(format_args!(
            "\nVerified {} on Python {} ({}) with spacegen {}: {}",
            v.date,
            v.python,
            crate::lock::claims::platform_words(&v.platform),
            v.spacegen,
            v.steps.join("; ")
        ))?;
    }
    Ok(())
}

/// The whole of `show` as one JSON document (the shape the README documents).
fn as_json(bp: &Blueprint, lock: &LoadedLock) -> Result<Json> {
    let variables: Vec<Json> = bp
        .variables
        .iter()
        .map(|var| {
            let default = match &var.default {
                DefaultSpec::Template(t) => json!({ "template": t }),
                DefaultSpec::Value(v) => json!({ "value": value(v) }),
                DefaultSpec::None => Json::Null,
            };
            json!({
                "name": var.name(),
                "type": var.ty.to_string(),
                "secret": var.secret,
                "default": default,
                "prompt": var.prompt,
                "rules": var.validation.describe(),
            })
        })
        .collect();
    let mut files: Vec<Json> = bp
        .templates
        .keys()
        .map(|output| {
            let when: Vec<&str> = bp
                .rules
                .iter()
                .filter(|r| r.matches(output))
                .filter_map(|r| r.when.as_ref().map(|c| c.expr.as_str()))
                .collect();
            json!({ "path": output, "when": when })
        })
        .collect();
    files.push(json!({ "path": record::path(), "when": [] }));
    let packages = match lock.entry_for(bp) {
        Ok(entry) => pins_json(bp, entry)?,
        Err(e) => json!({ "error": e.to_string() }),
    };
    let mut packages = packages;
    if let Some(map) = packages.as_object_mut() {
        map.insert("lock".into(), json!(lock.origin));
    }
    Ok(json!({
        "version": JSON_VERSION,
        "blueprint": {
            "name": bp.name,
            "version": bp.version.to_string(),
            "description": bp.description,
            "extends": bp.layers,
            "content_hash": bp.content_hash,
        },
        "variables": variables,
        "files": files,
        "packages": packages,
    }))
}

fn value(v: &Value) -> Json {
    match v {
        Value::String(s) => json!(s),
        Value::Bool(b) => json!(b),
        Value::Integer(i) => json!(i),
        Value::List(l) => json!(l),
    }
}

fn pins_json(bp: &Blueprint, entry: &LockedBlueprint) -> Result<Json> {
    let mut groups = Vec::new();
    let dev = bp.dependencies.dev.iter().map(|g| (g, true));
    for (group, is_dev) in bp.dependencies.groups.iter().map(|g| (g, false)).chain(dev) {
        let mut packages = Vec::new();
        for package in &group.packages {
            let pin = entry.pin(package)?;
            packages.push(json!({
                "name": package.requirement.name_with_extras(),
                "version": pin.version.to_string(),
                "requested": package.requirement.requested().to_string(),
            }));
        }
        groups.push(json!({
            "comment": group.comment,
            "when": group.when.as_ref().map(|c| c.expr.as_str()),
            "dev": is_dev,
            "packages": packages,
        }));
    }
    let direct: Vec<&str> = bp.dependencies.all().map(|p| p.name()).collect();
    let transitive = entry.transitive(false, &direct).len() + entry.transitive(true, &direct).len();
    let files: usize = entry.artifacts.iter().map(|a| a.files.len()).sum();
    let claims = crate::lock::claims::claims(entry);
    Ok(json!({
        "python": entry.python,
        "requires_python": entry.requires_python,
        "resolved_for": claims.resolved_for,
        "verified_on": claims.verified_on,
        "groups": groups,
        "transitive": transitive,
        "files_pinned": files,
        "rules": entry.rules,
        "verifications": crate::lock::claims::proving(entry),
    }))
}

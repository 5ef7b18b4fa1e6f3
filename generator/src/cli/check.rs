//! `spacegen check`: the findings in words (like a compiler's), as JSON, or as SARIF for
//! GitHub code scanning; `--explain RULE` prints a rule's long description.

use serde_json::{json, Value};

use super::args::{CheckArgs, CheckFormat, DenyLevel};
use super::printer::Printer;
use crate::check::{self, rules, Finding, Report, Severity};
use crate::error::{exit, About, Error, Problem, Result};

/// The version of the JSON shape; it changes only when a field is removed or changes meaning.
pub(crate) const JSON_VERSION: u32 = 1;

/// Runs `check` and returns the exit status.
pub(super) fn run(args: &CheckArgs, printer: &Printer) -> Result<i32> {
    if let Some(id) = &args.explain {
        let rule = rules::find(id).ok_or_else(|| {
            Error::input(Problem::new(
                About::Variable("--explain".into()),
                format!(
                    "no rule '{id}'; the rules are: {}",
                    rules::all()
                        .iter()
                        .map(|r| r.id)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ))
        })?;
        printer.out(format_args!(
            "{} {} ({})\n\n{}\n\nWhy: {}\nFix: {}",
            rule.id,
            rule.name,
            rule.severity.as_str(),
            rule.explanation.trim(),
            rule.why,
            rule.fix
        ))?;
        return Ok(exit::OK);
    }
    let report = check::check(&args.dir)?;
    let text = match args.format {
        CheckFormat::Human => human(&report, &args.dir),
        CheckFormat::Json => pretty(&as_json(&report)),
        CheckFormat::Sarif => pretty(&as_sarif(&report)),
    };
    printer.out(text.trim_end())?;
    let floor = match args.deny {
        DenyLevel::Warning => Severity::Warning,
        DenyLevel::Error => Severity::Error,
    };
    let failing = report.findings.iter().any(|f| f.rule.severity >= floor);
    Ok(if failing { 1 } else { exit::OK })
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// Each finding as a compiler draws it, then a summary line.
fn human(report: &Report, dir: &std::path::Path) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let place = match (f.line, f.column) {
            (0, _) => f.file.clone(),
            (line, 0) => format!("{}:{line}", f.file),
            (line, column) => format!("{}:{line}:{column}", f.file),
        };
        out.push_str(&format!(
            "{}[{}]: {}\n  --> {place}\n",
            f.rule.severity.as_str(),
            f.rule.id,
            f.message
        ));
        if let Some(line) = source_line(report, dir, f) {
            let n = f.line.to_string();
            let pad = " ".repeat(n.len());
            out.push_str(&format!("{pad} |\n{n} | {line}\n{pad} |\n"));
        }
        out.push_str(&format!(
            "  = why: {}\n  = fix: {}\n  = rule: {} ({}); `spacegen check --explain {}`\n\n",
            f.rule.why, f.rule.fix, f.rule.name, f.rule.id, f.rule.id
        ));
    }
    let (errors, warnings) = counts(&report.findings);
    out.push_str(&match (errors, warnings) {
        (0, 0) => format!("no findings in {} files", report.files),
        _ => format!(
            "{errors} error{}, {warnings} warning{} in {} files",
            plural(errors),
            plural(warnings),
            report.files
        ),
    });
    out
}

fn source_line(report: &Report, dir: &std::path::Path, f: &Finding) -> Option<String> {
    let _ = report;
    if f.line == 0 {
        return None;
    }
    let text = std::fs::read_to_string(dir.join(&f.file)).ok()?;
    let line = text.lines().nth(f.line - 1)?;
    Some(line.chars().take(160).collect())
}

fn counts(findings: &[Finding]) -> (usize, usize) {
    let errors = findings
        .iter()
        .filter(|f| f.rule.severity == Severity::Error)
        .count();
    (errors, findings.len() - errors)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `{"version": 1, "files": N, "findings": [{rule, name, severity, file, line, column,
/// message, why, fix}]}`.
fn as_json(report: &Report) -> Value {
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            json!({
                "rule": f.rule.id,
                "name": f.rule.name,
                "severity": f.rule.severity.as_str(),
                "file": f.file,
                "line": f.line,
                "column": f.column,
                "message": f.message,
                "why": f.rule.why,
                "fix": f.rule.fix,
            })
        })
        .collect();
    json!({ "version": JSON_VERSION, "files": report.files, "findings": findings })
}

/// SARIF 2.1.0: one run, the rules that exist, one result per finding.
fn as_sarif(report: &Report) -> Value {
    let rules: Vec<Value> = rules::all()
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.name,
                "shortDescription": { "text": r.why },
                "fullDescription": { "text": r.explanation.trim() },
                "help": { "text": r.fix },
                "defaultConfiguration": { "level": r.severity.as_str() },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut region = json!({ "startLine": f.line.max(1) });
            if f.column > 0 {
                region["startColumn"] = json!(f.column);
            }
            json!({
                "ruleId": f.rule.id,
                "level": f.rule.severity.as_str(),
                "message": { "text": format!("{} ({})", f.message, f.rule.fix) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": f.file },
                        "region": region,
                    }
                }],
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "spacegen",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/spacegen/spacegen",
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

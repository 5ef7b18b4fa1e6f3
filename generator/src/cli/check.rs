//! `spacegen check`: the findings in words (like a compiler's), as JSON, or as SARIF for
//! GitHub code scanning; `--explain RULE` prints a rule's long description. Every format names
//! the files left out of the check. Source lines shown under a finding are masked as messages
//! are: no output prints a credential.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;

use serde_json::{json, Value};

use super::args::{CheckArgs, CheckFormat, DenyLevel};
use super::printer::Printer;
use crate::check::secret;
use crate::check::{self, project::MAX_FILE, rules, Finding, Report, Severity};
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
            rule.explanation(),
            rule.why,
            rule.fix
        ))?;
        return Ok(exit::OK);
    }
    if crate::project::write::interrupted(&args.dir) {
        let cleaned = crate::project::write::clean_up(&args.dir)?;
        super::new::report_leftovers(&cleaned, &args.dir, printer)?;
    }
    let report = check::check(&args.dir)?;
    let text = match args.format {
        CheckFormat::Human => human(&report, &args.dir),
        CheckFormat::Json => pretty(&as_json(&report)),
        CheckFormat::Sarif => pretty(&as_sarif(&report, &Base::of(&args.dir))),
    };
    printer.out(text.trim_end())?;
    let floor = match args.deny {
        DenyLevel::Info => Severity::Info,
        DenyLevel::Warning => Severity::Warning,
        DenyLevel::Error => Severity::Error,
    };
    let failing = report.findings.iter().any(|f| f.rule.severity >= floor);
    Ok(if failing { 1 } else { exit::OK })
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// Each finding as a compiler draws it, the files left out as notes, then a summary line.
fn human(report: &Report, dir: &Path) -> String {
    let mut out = String::new();
    let mut sources = Sources::new(dir);
    for f in &report.findings {
        out.push_str(&format!(
            "{}[{}]: {}\n  --> {}\n",
            f.rule.severity.as_str(),
            f.rule.id,
            f.message,
            place(&f.file, f.line, f.column)
        ));
        if let Some(line) = sources.line(&f.file, f.line) {
            let n = f.line.to_string();
            let pad = " ".repeat(n.len());
            out.push_str(&format!("{pad} |\n{n} | {line}\n{pad} |\n"));
        }
        out.push_str(&format!(
            "  = why: {}\n  = fix: {}\n  = rule: {} ({}); `spacegen check --explain {}`\n\n",
            f.rule.why, f.rule.fix, f.rule.name, f.rule.id, f.rule.id
        ));
    }
    for n in &report.not_read {
        out.push_str(&format!(
            "note: {}: {}\n",
            place(&n.file, n.line, 0),
            n.reason
        ));
    }
    if !report.not_read.is_empty() {
        out.push('\n');
    }
    out.push_str(&summary(&report.findings, report.files));
    if !report.not_read.is_empty() {
        out.push_str(&format!(
            "; {} file{} not read in full",
            report.not_read.len(),
            plural(report.not_read.len())
        ));
    }
    out
}

/// `file`, `file:line` or `file:line:column`.
fn place(file: &str, line: usize, column: usize) -> String {
    match (line, column) {
        (0, _) => file.to_owned(),
        (line, 0) => format!("{file}:{line}"),
        (line, column) => format!("{file}:{line}:{column}"),
    }
}

/// The checked files' text, read again (as the check read them) for the lines under findings.
struct Sources<'d> {
    dir: &'d Path,
    texts: BTreeMap<String, Option<String>>,
}

impl<'d> Sources<'d> {
    fn new(dir: &'d Path) -> Sources<'d> {
        Sources {
            dir,
            texts: BTreeMap::new(),
        }
    }

    /// Line `n` (1-based) of `file`, cut to 160 characters, credentials masked.
    fn line(&mut self, file: &str, n: usize) -> Option<String> {
        if n == 0 {
            return None;
        }
        let dir = self.dir;
        let text = self
            .texts
            .entry(file.to_owned())
            .or_insert_with(|| {
                let mut bytes = Vec::new();
                std::fs::File::open(dir.join(file))
                    .and_then(|f| f.take(MAX_FILE).read_to_end(&mut bytes))
                    .ok()?;
                Some(String::from_utf8_lossy(&bytes).into_owned())
            })
            .as_deref()?;
        let line: String = text.lines().nth(n - 1)?.chars().take(160).collect();
        Some(secret::mask(&line))
    }
}

/// "no findings in N files", or "1 error, 2 warnings in N files" with ", 3 info" when there
/// are info findings.
fn summary(findings: &[Finding], files: usize) -> String {
    let count = |severity| {
        findings
            .iter()
            .filter(|f| f.rule.severity == severity)
            .count()
    };
    let (errors, warnings, infos) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
    );
    if findings.is_empty() {
        return format!("no findings in {files} files");
    }
    let info = if infos > 0 {
        format!(", {infos} info")
    } else {
        String::new()
    };
    format!(
        "{errors} error{}, {warnings} warning{}{info} in {files} files",
        plural(errors),
        plural(warnings)
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `{"version": 1, "files": N, "findings": [{rule, name, severity, file, line, column,
/// message, why, fix}], "not_read": [{file, line, reason}]}`.
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
    let not_read: Vec<Value> = report
        .not_read
        .iter()
        .map(|n| json!({ "file": n.file, "line": n.line, "reason": n.reason }))
        .collect();
    json!({
        "version": JSON_VERSION,
        "files": report.files,
        "findings": findings,
        "not_read": not_read,
    })
}

/// Where SARIF paths start: `%SRCROOT%`, the root of the git repository holding the checked
/// folder (or the checked folder outside a repository), and the checked folder below it.
struct Base {
    /// The checked folder relative to `%SRCROOT%`, `/`-separated, ending in `/` unless empty.
    prefix: String,
    in_repository: bool,
}

impl Base {
    fn of(dir: &Path) -> Base {
        match check::git::locate(dir) {
            Some(repository) => Base {
                prefix: repository.prefix,
                in_repository: true,
            },
            None => Base {
                prefix: String::new(),
                in_repository: false,
            },
        }
    }

    /// A SARIF location of `file` (relative to the checked folder) at `line` and `column`.
    fn location(&self, file: &str, line: usize, column: usize) -> Value {
        let mut location = json!({
            "artifactLocation": {
                "uri": format!("{}{file}", self.prefix),
                "uriBaseId": SRCROOT,
            },
        });
        if line > 0 {
            let mut region = json!({ "startLine": line });
            if column > 0 {
                region["startColumn"] = json!(column);
            }
            location["region"] = region;
        }
        json!({ "physicalLocation": location })
    }

    fn description(&self) -> &'static str {
        if self.in_repository {
            "The root of the git repository holding the checked folder"
        } else {
            "The checked folder"
        }
    }
}

/// The base id of every SARIF path, as GitHub code scanning and other tools name the source
/// root.
const SRCROOT: &str = "%SRCROOT%";

/// SARIF 2.1.0: one run, the rules that exist, one result per finding (with the index of its
/// rule), and the files left out as notifications of the run's invocation.
fn as_sarif(report: &Report, base: &Base) -> Value {
    let all = rules::all();
    let rules: Vec<Value> = all
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.name,
                "shortDescription": { "text": r.why },
                "fullDescription": { "text": r.summary() },
                "help": { "text": r.fix, "markdown": r.explanation() },
                "defaultConfiguration": { "level": r.severity.sarif_level() },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut result = json!({
                "ruleId": f.rule.id,
                "level": f.rule.severity.sarif_level(),
                "message": { "text": format!("{} ({})", f.message, f.rule.fix) },
                "locations": [base.location(&f.file, f.line.max(1), f.column)],
            });
            if let Some(index) = all.iter().position(|r| r.id == f.rule.id) {
                result["ruleIndex"] = json!(index);
            }
            result
        })
        .collect();
    let notes: Vec<Value> = report
        .not_read
        .iter()
        .map(|n| {
            json!({
                "level": "warning",
                "message": { "text": format!("{}: {}", n.file, n.reason) },
                "locations": [base.location(&n.file, n.line, 0)],
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
            "originalUriBaseIds": {
                (SRCROOT): { "description": { "text": base.description() } },
            },
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notes,
            }],
            "results": results,
        }],
    })
}

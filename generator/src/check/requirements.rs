//! pip requirements files as a deployment installs them: one requirement a logical line
//! (continuations joined, comments and `--hash` options dropped), with the line it starts on.
//! Options (`-r`, `-e`, `--index-url`) and URL requirements are left out.

use crate::requirement::Requirement;

/// A requirement of a requirements file, where it starts.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub requirement: Requirement,
    pub line: usize,
    /// The text as written, without options.
    pub text: String,
    /// The environment marker after `;`, as written (empty when there is none): the same
    /// package may be pinned once per marker (a universal lock pins numpy per Python version).
    pub marker: String,
}

impl Entry {
    /// The one version it pins with `==` (not a wildcard), if it does.
    pub(crate) fn pinned(&self) -> Option<pep440_rs::Version> {
        let mut specifiers = self.requirement.versions.iter();
        let only = specifiers.next()?;
        if specifiers.next().is_some() {
            return None;
        }
        let exact = matches!(
            only.operator(),
            pep440_rs::Operator::Equal | pep440_rs::Operator::ExactEqual
        );
        exact.then(|| only.version().clone())
    }
}

/// The requirements of a file's `text`.
pub(crate) fn entries(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut logical = String::new();
    let mut start = 0;
    for (i, raw) in text.lines().enumerate() {
        if logical.is_empty() {
            start = i + 1;
        }
        let line = strip_comment(raw);
        match line.strip_suffix('\\') {
            Some(head) => {
                logical.push_str(head);
                logical.push(' ');
                continue;
            }
            None => logical.push_str(line),
        }
        if let Some(entry) = entry(&logical, start) {
            out.push(entry);
        }
        logical.clear();
    }
    if let Some(entry) = entry(&logical, start) {
        out.push(entry);
    }
    out
}

fn entry(logical: &str, line: usize) -> Option<Entry> {
    let text = logical.trim();
    if text.is_empty() || text.starts_with('-') {
        return None;
    }
    // Options after the requirement (`--hash=…`) are pip's, not PEP 508.
    let text = text.split(" --").next().unwrap_or(text).trim();
    let requirement = Requirement::parse(text).ok()?;
    let marker = text.split_once(';').map_or("", |(_, m)| m.trim());
    Some(Entry {
        requirement,
        line,
        text: text.to_owned(),
        marker: marker.to_owned(),
    })
}

/// `line` without a `#` comment (pip's rule: `#` at the start or after whitespace).
fn strip_comment(line: &str) -> &str {
    if line.trim_start().starts_with('#') {
        return "";
    }
    match line.find(" #").or_else(|| line.find("\t#")) {
        Some(i) => line[..i].trim_end(),
        None => line.trim_end(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_lines_with_their_first_line() {
        let text = "# top\nfastapi==0.165.0 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n-r other.txt\nuvicorn[standard]>=0.30  # server\n\nhttps://example.com/x.whl\n";
        let found: Vec<(String, usize, Option<String>)> = entries(text)
            .into_iter()
            .map(|e| {
                (
                    e.requirement.name.clone(),
                    e.line,
                    e.pinned().map(|v| v.to_string()),
                )
            })
            .collect();
        assert_eq!(
            found,
            vec![
                ("fastapi".into(), 2, Some("0.165.0".into())),
                ("uvicorn".into(), 6, None),
            ]
        );
    }
}

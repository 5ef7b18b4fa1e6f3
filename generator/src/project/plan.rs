//! A rendered project held in memory: output paths mapped to bytes and modes.
//!
//! Every path is checked when it enters the plan, so nothing downstream can write outside the
//! destination: no absolute paths, no `..`, no empty or hidden-control segments, and every name
//! portable: nothing Windows reserves, no bidirectional controls.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// The folder spacegen keeps its own records in, inside a generated project.
pub(crate) const RECORD_DIR: &str = ".spacegen";

/// Top-level names spacegen uses while writing, which no blueprint may produce.
const RESERVED_PREFIX: &str = ".spacegen-";

/// One file of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlannedFile {
    /// Shared with the blueprint when the file is copied as is: one copy in memory.
    pub contents: std::sync::Arc<[u8]>,
    pub executable: bool,
}

impl PlannedFile {
    /// The Unix mode the file is written with: fixed, whatever the umask.
    pub(crate) fn mode(&self) -> u32 {
        if self.executable {
            0o755
        } else {
            0o644
        }
    }
}

/// A whole project, ready to be written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    files: BTreeMap<String, PlannedFile>,
}

impl Plan {
    /// Adds a file; `origin` names the template it came from, for errors.
    pub(crate) fn insert(&mut self, path: String, file: PlannedFile, origin: &str) -> Result<()> {
        check_relative(&path).map_err(|e| {
            Error::Destination(format!("{origin} would write to {path:?}, which {e}"))
        })?;
        let top = path.split('/').next().unwrap_or_default();
        if top.starts_with(RESERVED_PREFIX) {
            return Err(Error::blueprint(
                origin,
                format!("{path:?}: names starting with {RESERVED_PREFIX} are spacegen's own (staging and transaction folders)"),
            ));
        }
        if self.files.contains_key(&path) {
            return Err(Error::blueprint(
                origin,
                format!("a second file renders to {path:?}"),
            ));
        }
        // Linear in the plan's size: a file below `path` sorts right after `path/`, and each
        // ancestor of `path` is looked up by name.
        let as_dir = format!("{path}/");
        let below = self
            .files
            .range(as_dir.clone()..)
            .next()
            .map(|(p, _)| p)
            .filter(|p| p.starts_with(&as_dir));
        let above = path
            .match_indices('/')
            .map(|(i, _)| &path[..i])
            .find(|ancestor| self.files.contains_key(*ancestor));
        if let Some(other) = below.map(String::as_str).or(above) {
            return Err(Error::blueprint(
                origin,
                format!("{path:?} is both a file and a folder (see {other:?})"),
            ));
        }
        self.files.insert(path, file);
        Ok(())
    }

    pub(crate) fn files(&self) -> &BTreeMap<String, PlannedFile> {
        &self.files
    }
}

/// Checks that `path` is a plain relative path that stays inside the destination.
pub(crate) fn check_relative(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("is empty".into());
    }
    let drive = path.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
        && path.get(1..2) == Some(":")
        && matches!(path.get(2..3), None | Some("/" | "\\"));
    if path.starts_with('/') || path.starts_with('\\') || drive {
        return Err("is absolute".into());
    }
    for segment in path.split('/') {
        match segment {
            "" => return Err("has an empty path segment".into()),
            "." | ".." => return Err(format!("has a {segment:?} segment")),
            ".git" => return Err("writes into .git".into()),
            s if s.contains('\\') => return Err("contains a backslash".into()),
            s if s.chars().any(char::is_control) => {
                return Err("contains a control character (e.g. a newline)".into())
            }
            s if s.trim() != s => {
                return Err("has a segment with leading or trailing spaces".into())
            }
            s => unportable(s)
                .map_err(|why| format!("has a segment {s:?} that {why}; pick a portable name"))?,
        }
    }
    Ok(())
}

/// Characters Windows does not allow in a file name.
const WINDOWS_RESERVED_CHARS: &[char] = &['<', '>', ':', '"', '|', '?', '*'];

/// Names Windows reserves for devices, whatever the extension or case.
const WINDOWS_DEVICES: &[&str] = &["CON", "PRN", "AUX", "NUL"];

/// Why a path segment (not empty, `.` nor `..`) cannot be written on every platform, or cannot
/// be read for what it is, if it cannot.
fn unportable(segment: &str) -> Result<(), String> {
    if let Some(c) = segment.chars().find(|c| WINDOWS_RESERVED_CHARS.contains(c)) {
        return Err(format!(
            "holds '{c}', which Windows does not allow in a file name"
        ));
    }
    if segment.ends_with('.') {
        return Err("ends with a dot, which Windows drops".into());
    }
    let stem = segment
        .split('.')
        .next()
        .unwrap_or(segment)
        .to_ascii_uppercase();
    let numbered = ["COM", "LPT"].iter().any(|p| {
        stem.strip_prefix(p).is_some_and(|n| {
            matches!(
                n,
                "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "¹" | "²" | "³"
            )
        })
    });
    if WINDOWS_DEVICES.contains(&stem.as_str()) || numbered {
        return Err(format!(
            "Windows reserves for a device ({stem}, with any extension and in any case)"
        ));
    }
    if let Some(c) = segment.chars().find(|c| is_bidi_control(*c)) {
        return Err(format!(
            "holds U+{:04X}, a bidirectional control that makes a name read other than it is",
            c as u32
        ));
    }
    Ok(())
}

/// The Unicode bidirectional controls: embeddings and overrides, isolates, marks.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> PlannedFile {
        PlannedFile {
            contents: [].into(),
            executable: false,
        }
    }

    #[test]
    fn escapes_are_refused() {
        for bad in [
            "",
            "/etc/passwd",
            "a/../../b",
            "..",
            "./a",
            "a//b",
            "C:/x",
            "a\\b",
            "a\nb",
            ".git/config",
            " a",
        ] {
            assert!(check_relative(bad).is_err(), "{bad:?} was accepted");
        }
        for good in [
            "a",
            "app/main.py",
            ".github/workflows/x.yml",
            "ünï/файл.txt",
        ] {
            assert!(check_relative(good).is_ok(), "{good:?} was refused");
        }
    }

    #[test]
    fn names_windows_cannot_write_are_refused_with_the_reason() {
        for (bad, why) in [
            ("a/b<c", "'<'"),
            ("a>b", "'>'"),
            ("a:b", "':'"),
            ("q\"", "'\"'"),
            ("p|q", "'|'"),
            ("what?", "'?'"),
            ("*.py", "'*'"),
            ("dir./f", "ends with a dot"),
            ("a/con", "(CON,"),
            ("Con.txt", "(CON,"),
            ("prn.tar.gz", "(PRN,"),
            ("AUX", "(AUX,"),
            ("nul.py", "(NUL,"),
            ("com1", "(COM1,"),
            ("LPT9.log", "(LPT9,"),
            ("com¹", "(COM¹,"),
        ] {
            let e = check_relative(bad).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
        for good in [
            "console.py",
            "com10",
            "lpt0",
            "aux-data",
            "con_x",
            "nullable",
        ] {
            assert!(check_relative(good).is_ok(), "{good:?} was refused");
        }
    }

    #[test]
    fn bidirectional_controls_are_refused() {
        for c in [
            '\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
        ] {
            let e = check_relative(&format!("app/x{c}y.py")).unwrap_err();
            assert!(e.contains(&format!("U+{:04X}", c as u32)), "{e}");
        }
    }

    #[test]
    fn file_and_folder_clash_is_refused() {
        let mut plan = Plan::default();
        plan.insert("a".into(), file(), "t").unwrap();
        assert!(plan.insert("a/b".into(), file(), "t").is_err());
        assert!(plan.insert("a".into(), file(), "t").is_err());
        plan.insert("ab".into(), file(), "t").unwrap();
        plan.insert("c/d/e".into(), file(), "t").unwrap();
        assert!(plan.insert("c/d".into(), file(), "t").is_err());
        assert!(plan.insert("c".into(), file(), "t").is_err());
        assert!(plan.insert("c/d/e/f".into(), file(), "t").is_err());
        plan.insert("c/d.txt".into(), file(), "t").unwrap();
        plan.insert("c/d/f".into(), file(), "t").unwrap();
    }

    #[test]
    fn names_spacegen_writes_with_are_reserved() {
        let mut plan = Plan::default();
        for name in [".spacegen-transaction/x", ".spacegen-staging-1-a"] {
            assert!(plan.insert(name.into(), file(), "t").is_err(), "{name}");
        }
        plan.insert(".spacegenrc".into(), file(), "t").unwrap();
    }

    #[test]
    fn modes_are_fixed() {
        assert_eq!(file().mode(), 0o644);
        assert_eq!(
            PlannedFile {
                contents: [].into(),
                executable: true
            }
            .mode(),
            0o755
        );
    }
}

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
    /// Every planned path and folder by its case-folded form: names that differ only in case
    /// are one file on macOS and Windows.
    folded: BTreeMap<String, String>,
    /// The paths a value rendered into a name made (the others are the blueprint's as written).
    rendered: std::collections::BTreeSet<String>,
}

/// How a planned path came to be: as the blueprint wrote it, or with a value rendered into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Naming {
    /// The template's own path.
    Literal,
    /// A path with answers rendered into it: a clash it makes is the answers' doing (bad input).
    Rendered,
}

/// `name` case-folded as case-insensitive file systems compare names (Unicode, not only ASCII:
/// `ß` and `SS`, `K` and the Kelvin sign `K` are one name).
pub(crate) fn fold_case(name: &str) -> String {
    name.to_uppercase().to_lowercase()
}

impl Plan {
    /// Adds a file the blueprint names as written; `origin` names the template it came from.
    pub(crate) fn insert(&mut self, path: String, file: PlannedFile, origin: &str) -> Result<()> {
        self.insert_as(path, file, origin, Naming::Literal)
    }

    /// Adds a file; `origin` names the template it came from, for errors, and `naming` says
    /// whether answers made its path (then a clash is bad input, not a bad blueprint).
    pub(crate) fn insert_as(
        &mut self,
        path: String,
        file: PlannedFile,
        origin: &str,
        naming: Naming,
    ) -> Result<()> {
        check_relative(&path).map_err(|e| {
            Error::Destination(format!("{origin} would write to {path:?}, which {e}"))
        })?;
        let top = path.split('/').next().unwrap_or_default();
        if top.starts_with(RESERVED_PREFIX) {
            let why = format!(
                "{path:?}: names starting with {RESERVED_PREFIX} are spacegen's own (staging and transaction folders)"
            );
            return Err(match naming {
                Naming::Literal => Error::blueprint(origin, why),
                Naming::Rendered => Error::Destination(format!(
                    "{origin} would write to {why}; pick another value for the name"
                )),
            });
        }
        let clash = |other: &str, what: String| {
            let by_answers =
                naming == Naming::Rendered || self.rendered.iter().any(|r| r.starts_with(other));
            if by_answers {
                Error::Destination(format!(
                    "{origin}: {what}; pick values that make different names"
                ))
            } else {
                Error::blueprint(origin, what)
            }
        };
        if self.files.contains_key(&path) {
            return Err(clash(&path, format!("a second file renders to {path:?}")));
        }
        let mut prefixes: Vec<&str> = path.match_indices('/').map(|(i, _)| &path[..i]).collect();
        prefixes.push(&path);
        for prefix in &prefixes {
            if let Some(other) = self.folded.get(&fold_case(prefix)) {
                if other != prefix {
                    return Err(clash(
                        other,
                        format!(
                            "{prefix:?} and {other:?} differ only in case: on macOS and Windows they are one name, and one would overwrite the other"
                        ),
                    ));
                }
            }
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
            let other = other.to_owned();
            return Err(clash(
                &other,
                format!("{path:?} is both a file and a folder (see {other:?})"),
            ));
        }
        for prefix in prefixes {
            self.folded
                .entry(fold_case(prefix))
                .or_insert_with(|| prefix.to_owned());
        }
        if naming == Naming::Rendered {
            self.rendered.insert(path.clone());
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
        if segment.len() > MAX_NAME_BYTES {
            return Err(format!(
                "has a name of {} bytes ({:?}…); file systems allow at most {MAX_NAME_BYTES} bytes per name: pick a shorter one",
                segment.len(),
                segment.chars().take(24).collect::<String>()
            ));
        }
        match segment {
            "" => return Err("has an empty path segment".into()),
            "." | ".." => return Err(format!("has a {segment:?} segment")),
            s if fold_case(s) == ".git" => return Err("writes into .git".into()),
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

/// The longest file or folder name file systems allow (ext4, APFS; NTFS counts 255 UTF-16
/// units, which a name of at most 255 bytes never exceeds).
pub(crate) const MAX_NAME_BYTES: usize = 255;

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
    fn names_that_differ_only_in_case_are_refused_naming_both() {
        let mut plan = Plan::default();
        plan.insert("A.txt".into(), file(), "t").unwrap();
        let e = plan.insert("a.txt".into(), file(), "t").unwrap_err();
        assert!(e.to_string().contains("\"a.txt\" and \"A.txt\""), "{e}");
        assert_eq!(e.exit_code(), crate::error::exit::BLUEPRINT);
        plan.insert("Dir/x".into(), file(), "t").unwrap();
        let e = plan.insert("dir/y".into(), file(), "t").unwrap_err();
        assert!(e.to_string().contains("\"dir\" and \"Dir\""), "{e}");
        // Unicode, not only ASCII: ß is SS, the Kelvin sign is K, Σ is σ.
        plan.insert("straße.py".into(), file(), "t").unwrap();
        assert!(plan.insert("STRASSE.py".into(), file(), "t").is_err());
        plan.insert("\u{212A}elvin".into(), file(), "t").unwrap();
        assert!(plan.insert("kelvin".into(), file(), "t").is_err());
        plan.insert("ΣΑΣ".into(), file(), "t").unwrap();
        assert!(plan.insert("σας".into(), file(), "t").is_err());
        // A clash a value made is bad input.
        let e = plan
            .insert_as("a.TXT".into(), file(), "t", Naming::Rendered)
            .unwrap_err();
        assert_eq!(e.exit_code(), crate::error::exit::USAGE, "{e}");
        plan.insert("b.txt".into(), file(), "t").unwrap();
        plan.insert("dir2/x".into(), file(), "t").unwrap();
        assert!(check_relative(".GIT/config").is_err());
    }

    #[test]
    fn names_longer_than_file_systems_allow_are_refused() {
        let long = "x".repeat(MAX_NAME_BYTES + 1);
        let e = check_relative(&format!("app/{long}.py")).unwrap_err();
        assert!(e.contains("at most 255 bytes"), "{e}");
        assert!(check_relative(&"é".repeat(128)).is_err(), "256 bytes");
        assert!(check_relative(&"x".repeat(MAX_NAME_BYTES)).is_ok());
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

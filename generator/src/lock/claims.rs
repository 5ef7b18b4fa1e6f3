//! What a locked set may claim, in words for people: where it is resolved for (the platforms
//! its hashed files cover, with the oldest glibc and macOS they need, from [`super::platforms`])
//! apart from where it was verified (the records of `spacegen lock --verify` that proved this
//! exact set). Generation, `show` and `new` say both, never more than the evidence holds.

use std::str::FromStr;

use super::file::{LockedBlueprint, Verification};
use super::platforms::{self, Scope};

/// The CPython minor versions spacegen states claims for (and plans verification on), where a
/// set's `requires-python` admits them.
pub(crate) const PYTHONS: [&str; 4] = ["3.11", "3.12", "3.13", "3.14"];

/// The Pythons of [`PYTHONS`] that `requires_python` admits.
pub(crate) fn pythons(requires_python: &str) -> Vec<&'static str> {
    let Ok(supported) = pep440_rs::VersionSpecifiers::from_str(requires_python) else {
        return Vec::new();
    };
    PYTHONS
        .into_iter()
        .filter(|p| pep440_rs::Version::from_str(p).is_ok_and(|v| supported.contains(&v)))
        .collect()
}

/// The two claims of a set, as sentences' parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Claims {
    /// `Linux x86_64 (glibc 2.17+), …, and Windows x64`.
    pub resolved_for: String,
    /// `CPython 3.11.7, 3.12.1 and 3.13.0 on Linux x86_64 (installed with pip 22.3 to 25.3)`,
    /// or that nothing proved it yet.
    pub verified_on: String,
    /// The pips that installed it: `22.3 to 25.3`, or `none yet`.
    pub verified_pips: String,
}

/// The claims of `entry`.
pub(crate) fn claims(entry: &LockedBlueprint) -> Claims {
    let proved: Vec<&Verification> = proving(entry);
    Claims {
        resolved_for: resolved_for(entry),
        verified_on: match verified_on(&proved) {
            on if proved.is_empty() => on,
            on => format!("{on} (installed with pip {})", pips(&proved)),
        },
        verified_pips: pips(&proved),
    }
}

/// Where the set's files install, per platform, with the oldest glibc or macOS they need
/// (development packages included: the README installs them too).
fn resolved_for(entry: &LockedBlueprint) -> String {
    let pythons = pythons(&entry.requires_python);
    let support = platforms::support(&entry.artifacts, &pythons, Scope::WithDev);
    match support {
        Ok(s) => {
            let each: Vec<String> = platforms::summarise(&s)
                .iter()
                .map(ToString::to_string)
                .collect();
            format!(
                "CPython {} on {}",
                words_list(&own(&pythons)),
                words_list(&each)
            )
        }
        Err(e) => format!("no platform spacegen can name ({e})"),
    }
}

fn own(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The passing records that proved exactly this set.
pub(crate) fn proving(entry: &LockedBlueprint) -> Vec<&Verification> {
    let fingerprint = entry.fingerprint();
    entry
        .verifications
        .iter()
        .filter(|v| v.result == "pass" && v.fingerprint == fingerprint)
        .collect()
}

/// A platform as Python's `sysconfig.get_platform()` names it, in words.
pub(crate) fn platform_words(platform: &str) -> String {
    let arch = |a: &str| match a {
        "amd64" | "x86_64" => "x86_64".to_owned(),
        "arm64" | "aarch64" => "arm64".to_owned(),
        other => other.to_owned(),
    };
    if let Some(a) = platform.strip_prefix("linux-") {
        let a = if a == "aarch64" {
            "aarch64".to_owned()
        } else {
            arch(a)
        };
        return format!("Linux {a}");
    }
    if let Some(rest) = platform.strip_prefix("macosx-") {
        let a = rest.rsplit('-').next().unwrap_or(rest);
        return format!("macOS {}", arch(a));
    }
    match platform {
        "win-amd64" => "Windows x64".to_owned(),
        "win-arm64" => "Windows arm64".to_owned(),
        "win32" => "Windows x86".to_owned(),
        other => other.to_owned(),
    }
}

/// `a`, `a and b`, `a, b and c`.
pub(crate) fn words_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn verified_on(proved: &[&Verification]) -> String {
    if proved.is_empty() {
        return "no machine yet (`spacegen lock --verify` records where it passed)".to_owned();
    }
    let mut platforms: Vec<String> = proved.iter().map(|v| v.platform.clone()).collect();
    platforms.sort();
    platforms.dedup();
    let per_platform: Vec<String> = platforms
        .iter()
        .map(|p| {
            let mut pythons: Vec<&str> = proved
                .iter()
                .filter(|v| &v.platform == p)
                .map(|v| v.python.as_str())
                .collect();
            pythons.sort_by_key(|v| pep440_rs::Version::from_str(v).ok());
            pythons.dedup();
            let pythons: Vec<String> = pythons.iter().map(|s| (*s).to_owned()).collect();
            format!("CPython {} on {}", words_list(&pythons), platform_words(p))
        })
        .collect();
    words_list(&per_platform)
}

fn pips(proved: &[&Verification]) -> String {
    let mut versions: Vec<pep440_rs::Version> = proved
        .iter()
        .flat_map(|v| &v.installers)
        .filter_map(|i| i.strip_prefix("pip "))
        .filter_map(|v| pep440_rs::Version::from_str(v).ok())
        .collect();
    versions.sort();
    match (versions.first(), versions.last()) {
        (Some(a), Some(b)) if a == b => a.to_string(),
        (Some(a), Some(b)) => format!("{a} to {b}"),
        _ => "none yet".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(python: &str, platform: &str, fingerprint: &str) -> Verification {
        Verification {
            date: "2026-12-06".into(),
            python: python.into(),
            platform: platform.into(),
            spacegen: "0.1.0".into(),
            installers: vec!["pip 22.3".into(), "pip 25.3".into()],
            fingerprint: fingerprint.into(),
            result: "pass".into(),
            steps: vec![],
        }
    }

    #[test]
    fn platforms_read_as_words() {
        assert_eq!(platform_words("linux-x86_64"), "Linux x86_64");
        assert_eq!(platform_words("linux-aarch64"), "Linux aarch64");
        assert_eq!(platform_words("macosx-14.0-arm64"), "macOS arm64");
        assert_eq!(platform_words("win-amd64"), "Windows x64");
    }

    #[test]
    fn only_records_of_this_exact_set_are_claimed() {
        let mut entry =
            crate::lock::file::embedded().unwrap().lock.blueprints["sqlite-demo"].clone();
        let fp = entry.fingerprint();
        entry.verifications = vec![
            record("3.12.1", "linux-x86_64", &fp),
            record("3.11.7", "linux-x86_64", &fp),
            record("3.13.0", "macosx-14.0-arm64", "sha256:0000"),
        ];
        let c = claims(&entry);
        assert_eq!(
            c.verified_on,
            "CPython 3.11.7 and 3.12.1 on Linux x86_64 (installed with pip 22.3 to 25.3)"
        );
        assert_eq!(c.verified_pips, "22.3 to 25.3");
        entry.verifications.clear();
        let c = claims(&entry);
        assert!(
            c.verified_on.starts_with("no machine yet"),
            "{}",
            c.verified_on
        );
        assert_eq!(c.verified_pips, "none yet");
    }
}

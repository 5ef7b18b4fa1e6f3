//! Python package requirements (PEP 508) and names (PEP 503): the one place a requirement
//! string is parsed and a package name normalised. Blueprints, the matrix, the resolver and the
//! lock all speak in these terms.

use std::fmt;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{PackageName, VerbatimUrl, VersionOrUrl};

/// `name[extras] <versions>`, with the name normalised and no URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The PEP 503 normalised distribution name, e.g. `pydantic-settings`.
    pub name: String,
    pub extras: Vec<String>,
    /// The allowed versions; empty means any.
    pub versions: VersionSpecifiers,
}

impl Requirement {
    /// Parses `text`; the message says what is wrong with it.
    pub fn parse(text: &str) -> Result<Requirement, String> {
        // pep508_rs reads a name as [A-Za-z0-9._-]* and then panics when that name is not one
        // PEP 508 allows (`fastapi-`): check the name first.
        let name_end = text
            .trim_start()
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
            .unwrap_or(text.trim_start().len());
        let name = &text.trim_start()[..name_end];
        if !name.is_empty() {
            normalise(name).map_err(|e| format!("{text:?} is not a valid requirement: {e}"))?;
        }
        let req = pep508_rs::Requirement::<VerbatimUrl>::from_str(text)
            .map_err(|e| format!("{text:?} is not a valid requirement: {}", e.message))?;
        let versions = match req.version_or_url {
            Some(VersionOrUrl::VersionSpecifier(s)) => s,
            Some(VersionOrUrl::Url(_)) => {
                return Err(format!(
                    "{text:?}: a URL requirement cannot be locked; name a version range"
                ))
            }
            None => VersionSpecifiers::empty(),
        };
        Ok(Requirement {
            name: req.name.to_string(),
            extras: req.extras.iter().map(ToString::to_string).collect(),
            versions,
        })
    }

    /// `name[extra,…]`, without versions.
    pub fn name_with_extras(&self) -> String {
        if self.extras.is_empty() {
            self.name.clone()
        } else {
            format!("{}[{}]", self.name, self.extras.join(","))
        }
    }

    /// The requested range as the lock records it: `>=0.160`, or `*` for any version.
    pub fn requested(&self) -> String {
        if self.versions.is_empty() {
            "*".to_owned()
        } else {
            self.versions.to_string()
        }
    }

    /// Whether `version` is allowed.
    pub fn allows(&self, version: &Version) -> bool {
        self.versions.contains(version)
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.name_with_extras(), self.versions)
    }
}

/// The PEP 503 normalised form of a package name (`Pydantic_Core` → `pydantic-core`), or a
/// message saying why it is not a valid name.
pub(crate) fn normalise(name: &str) -> Result<String, String> {
    PackageName::from_str(name)
        .map(|n| n.to_string())
        .map_err(|e| format!("{name:?} is not a valid package name: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised_one_way() {
        for (raw, want) in [
            ("PyYAML", "pyyaml"),
            ("pydantic_core", "pydantic-core"),
            ("zope.interface", "zope-interface"),
            ("a__b", "a-b"),
            ("A._-b", "a-b"),
        ] {
            assert_eq!(normalise(raw).unwrap(), want);
            assert_eq!(Requirement::parse(raw).unwrap().name, want);
        }
        assert!(normalise("-bad").is_err());
    }

    #[test]
    fn requirements_keep_extras_and_ranges() {
        let r = Requirement::parse("Uvicorn[standard]>=0.30,<1").unwrap();
        assert_eq!(r.name_with_extras(), "uvicorn[standard]");
        assert_eq!(r.requested(), ">=0.30, <1");
        assert!(r.allows(&Version::from_str("0.54.0").unwrap()));
        assert!(!r.allows(&Version::from_str("1.0").unwrap()));
        assert_eq!(Requirement::parse("fastapi").unwrap().requested(), "*");
    }

    #[test]
    fn names_pep508_reads_but_pep503_refuses_are_errors_not_panics() {
        for text in [
            "fastapi-==1.0",
            "fastapi_>=1",
            "a.[x]==1",
            "fastapi- ; python_version>'3'",
        ] {
            let e = Requirement::parse(text).unwrap_err();
            assert!(e.contains("not a valid"), "{text}: {e}");
        }
    }

    #[test]
    fn urls_and_garbage_are_refused() {
        let e = Requirement::parse("x @ https://example.com/x.whl").unwrap_err();
        assert!(e.contains("URL"), "{e}");
        let e = Requirement::parse("fastapi>>1").unwrap_err();
        assert!(
            e.contains("\"fastapi>>1\" is not a valid requirement"),
            "{e}"
        );
    }
}

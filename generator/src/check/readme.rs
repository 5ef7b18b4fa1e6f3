//! The Spaces configuration in `README.md`: the YAML header between the first two `---` lines,
//! parsed with a YAML parser, each key with the line it is on.

use yaml_rust2::{Yaml, YamlLoader};

/// Where the Hub reads a Space's configuration.
pub(crate) const FILE: &str = "README.md";

/// The header of `README.md`.
#[derive(Debug)]
pub(crate) enum Header {
    /// No `---` block at the top.
    Missing,
    /// A block that is not a YAML mapping; the message says why, at `line`.
    Invalid {
        line: usize,
        message: String,
    },
    Parsed(Fields),
}

/// The keys of a header, in order, with their values and lines.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    entries: Vec<(String, Yaml, usize)>,
}

impl Fields {
    /// The value of `key` and its line.
    pub(crate) fn get(&self, key: &str) -> Option<(&Yaml, usize)> {
        self.entries
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, l)| (v, *l))
    }

    /// `app_port`, when it is an integer; 7860 (the Hub's default) when it is absent.
    pub(crate) fn app_port(&self) -> Option<i64> {
        match self.get("app_port") {
            None => Some(7860),
            Some((Yaml::Integer(p), _)) => Some(*p),
            Some(_) => None,
        }
    }
}

/// Reads the header of `text` (a whole README.md).
pub(crate) fn header(text: &str) -> Header {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines();
    if lines.next().map(str::trim_end) != Some("---") {
        return Header::Missing;
    }
    let body: Vec<&str> = lines.take_while(|l| l.trim_end() != "---").collect();
    if 1 + body.len() + 1 > text.lines().count() {
        return Header::Invalid {
            line: 1,
            message: "the header opened with `---` is never closed by a second `---` line".into(),
        };
    }
    let yaml = body.join("\n");
    let docs = match YamlLoader::load_from_str(&yaml) {
        Ok(docs) => docs,
        Err(e) => {
            return Header::Invalid {
                line: e.marker().line() + 1,
                message: format!("the header is not valid YAML: {}", e.info()),
            }
        }
    };
    let Some(Yaml::Hash(map)) = docs.into_iter().next() else {
        return Header::Invalid {
            line: 2,
            message: "the header is not a mapping of keys to values".into(),
        };
    };
    let mut fields = Fields::default();
    for (key, value) in map {
        let Yaml::String(key) = key else { continue };
        let line = body
            .iter()
            .position(|l| {
                l.strip_prefix(key.as_str())
                    .is_some_and(|rest| rest.trim_start().starts_with(':'))
            })
            .map_or(1, |i| i + 2);
        fields.entries.push((key, value, line));
    }
    Header::Parsed(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_with_their_lines() {
        let Header::Parsed(f) = header("---\ntitle: A\nsdk: docker\napp_port: 8000\n---\n# A\n")
        else {
            panic!("not parsed");
        };
        assert_eq!(
            f.get("sdk").map(|(v, l)| (v.as_str(), l)),
            Some((Some("docker"), 3))
        );
        assert_eq!(f.app_port(), Some(8000));
    }

    #[test]
    fn missing_unclosed_and_broken_headers_are_told_apart() {
        assert!(matches!(header("# Title\n"), Header::Missing));
        assert!(matches!(header("---\ntitle: A\n"), Header::Invalid { .. }));
        assert!(matches!(
            header("---\ntitle: [a\n---\n"),
            Header::Invalid { .. }
        ));
        assert!(matches!(header("---\n- a\n---\n"), Header::Invalid { .. }));
    }
}

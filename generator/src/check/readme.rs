//! The Spaces configuration in `README.md`: the YAML header between the first two `---` lines,
//! parsed with a YAML parser, each key with the line it is on. Aliases, and the values they
//! copy, are counted before the header is loaded, because loading copies the anchored value at
//! every alias: a few hundred bytes of nested aliases would expand to billions of nodes.

use std::collections::HashMap;

use yaml_rust2::parser::Parser;
use yaml_rust2::{Event, Yaml, YamlLoader};

use super::Project;

/// The most aliases (`*name`) a header may use; a Space's header needs none.
pub(crate) const MAX_ALIASES: usize = 16;

/// The most values aliases may copy in all: a few aliases of a large anchor copy it each time.
pub(crate) const MAX_ALIAS_NODES: usize = 10_000;

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
}

/// The port Hugging Face routes to when `app_port` is absent.
pub(crate) const DEFAULT_APP_PORT: u16 = 7860;

/// What the header says about serving, as the Dockerfile rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SpaceHeader {
    /// `sdk`, if given.
    pub sdk: Option<String>,
    /// `app_port`: the port, the default when absent, `Err(())` when not a valid port.
    pub app_port: Result<u16, ()>,
}

impl SpaceHeader {
    /// Whether the header says this is anything but a Docker Space.
    pub(crate) fn other_sdk(&self) -> bool {
        self.sdk.as_deref().is_some_and(|s| s != "docker")
    }
}

/// `README.md` as the rules read it: its text, and its header, parsed once.
#[derive(Debug)]
pub(crate) struct Readme<'a> {
    pub text: &'a str,
    pub header: Header,
}

impl<'a> Readme<'a> {
    /// The project's `README.md`, if it has one.
    pub(crate) fn of(project: &'a Project) -> Option<Readme<'a>> {
        let text = project.text(FILE)?;
        Some(Readme {
            text,
            header: header(text),
        })
    }

    /// The `sdk` and `app_port` of the header, if it is readable.
    pub(crate) fn space(&self) -> Option<SpaceHeader> {
        space_of(&self.header)
    }
}

/// The `sdk` and `app_port` of a README's header, if it has a readable one.
pub(crate) fn space(text: &str) -> Option<SpaceHeader> {
    space_of(&header(text))
}

/// The `sdk` and `app_port` of a header, if it is readable.
fn space_of(header: &Header) -> Option<SpaceHeader> {
    let Header::Parsed(fields) = header else {
        return None;
    };
    let sdk = fields
        .get("sdk")
        .and_then(|(v, _)| v.as_str())
        .map(str::to_owned);
    let app_port = match fields.get("app_port").map(|(v, _)| v) {
        None | Some(Yaml::Null) => Ok(DEFAULT_APP_PORT),
        Some(Yaml::Integer(n)) => u16::try_from(*n).map_err(|_| ()),
        Some(Yaml::String(s)) => s.trim().parse().map_err(|_| ()),
        Some(_) => Err(()),
    };
    Some(SpaceHeader { sdk, app_port })
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
    if let Some((line, message)) = alias_budget(&yaml) {
        return Header::Invalid { line, message };
    }
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
    let pairs: Vec<(String, Yaml)> = map
        .into_iter()
        .filter_map(|(key, value)| match key {
            Yaml::String(key) => Some((key, value)),
            _ => None,
        })
        .collect();
    let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    let lines = key_lines(&body, &keys);
    let mut fields = Fields::default();
    for ((key, value), line) in pairs.into_iter().zip(lines) {
        fields.entries.push((key, value, line));
    }
    Header::Parsed(fields)
}

/// The README line of each key: that of the first header line that starts with the key
/// followed by `:` (after blanks), or 1 when none does. `body` is the header's lines, from
/// README line 2. One pass over the lines, looking up only the prefixes of a line as long as
/// some key and followed by `:`: linear in the header's size, where looking for each key in
/// every line was quadratic (seconds for a header of a few thousand keys, a minute for 1 MiB).
fn key_lines(body: &[&str], keys: &[&str]) -> Vec<usize> {
    let mut lines = vec![1; keys.len()];
    let mut wanted: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, key) in keys.iter().enumerate() {
        wanted.entry(key).or_default().push(i);
    }
    let mut lengths: Vec<usize> = wanted.keys().map(|k| k.len()).collect();
    lengths.sort_unstable();
    lengths.dedup();
    // The first bytes keys start with; the empty key matches any line.
    let mut starts = [false; 256];
    let empty_key = wanted.contains_key("");
    for key in wanted.keys() {
        if let Some(&b) = key.as_bytes().first() {
            starts[usize::from(b)] = true;
        }
    }
    // `colon_from[p]`: the line from byte `p` is blanks, then `:`.
    let mut colon_from: Vec<bool> = Vec::new();
    for (n, line) in body.iter().enumerate() {
        if wanted.is_empty() {
            break;
        }
        let first = line
            .as_bytes()
            .first()
            .is_some_and(|&b| starts[usize::from(b)]);
        if !first && !empty_key {
            continue;
        }
        colon_from.clear();
        colon_from.resize(line.len() + 1, false);
        let mut after = false;
        for (p, c) in line.char_indices().rev() {
            after = c == ':' || (c.is_whitespace() && after);
            colon_from[p] = after;
        }
        for &length in lengths.iter().take_while(|&&l| l <= line.len()) {
            if !colon_from[length] {
                continue;
            }
            if let Some(found) = wanted.remove(&line[..length]) {
                for i in found {
                    lines[i] = n + 2;
                }
            }
        }
    }
    lines
}

/// The README line of the alias past [`MAX_ALIASES`], or of the alias whose copy brings the
/// nodes copied past [`MAX_ALIAS_NODES`], with the message, if `yaml` has one. The sizes are
/// counted from the parser's events, without building anything. Errors are left to the
/// loader, which reports them with their place.
fn alias_budget(yaml: &str) -> Option<(usize, String)> {
    let mut parser = Parser::new_from_str(yaml);
    let mut aliases = 0;
    let mut copied = 0usize;
    // The expanded size of each anchor, and of each open collection (with its anchor).
    let mut anchors: HashMap<usize, usize> = HashMap::new();
    let mut open: Vec<(usize, usize)> = Vec::new();
    loop {
        let (event, mark) = parser.next_token().ok()?;
        let size = match event {
            Event::StreamEnd => return None,
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                open.push((anchor, 1));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (anchor, size) = open.pop()?;
                if anchor > 0 {
                    anchors.insert(anchor, size);
                }
                size
            }
            Event::Scalar(_, _, anchor, _) => {
                if anchor > 0 {
                    anchors.insert(anchor, 1);
                }
                1
            }
            Event::Alias(id) => {
                aliases += 1;
                let size = anchors.get(&id).copied().unwrap_or(1);
                copied = copied.saturating_add(size);
                let line = mark.line() + 1;
                if aliases > MAX_ALIASES {
                    return Some((line, format!(
                        "the header uses more than {MAX_ALIASES} YAML aliases (`*name`); it is not loaded"
                    )));
                }
                if copied > MAX_ALIAS_NODES {
                    return Some((line, format!(
                        "the header's YAML aliases (`*name`) copy more than {MAX_ALIAS_NODES} values; it is not loaded"
                    )));
                }
                size
            }
            _ => continue,
        };
        if let Some(parent) = open.last_mut() {
            parent.1 = parent.1.saturating_add(size);
        }
    }
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
    }

    /// The line of each key, looked for in every line: what [`key_lines`] must agree with.
    fn key_lines_one_by_one(body: &[&str], keys: &[&str]) -> Vec<usize> {
        keys.iter()
            .map(|key| {
                body.iter()
                    .position(|l| {
                        l.strip_prefix(key)
                            .is_some_and(|rest| rest.trim_start().starts_with(':'))
                    })
                    .map_or(1, |i| i + 2)
            })
            .collect()
    }

    #[test]
    fn each_key_is_at_the_first_line_that_starts_with_it() {
        let body = [
            "k10: a",
            "k1 : b",
            "  k2: nested",
            "k2:c",
            "a:b: d",
            "x\u{a0}: e",
            ": empty",
            "é: f",
            "k3",
            "k3 \t:",
            "kk: g",
        ];
        let keys = [
            "k1", "k10", "k2", "a", "a:b", "x", "", "é", "k3", "k", "kk", "absent", "  k2",
        ];
        let lines = key_lines(&body, &keys);
        assert_eq!(lines, key_lines_one_by_one(&body, &keys));
        assert_eq!(&lines[..5], &[3, 2, 5, 6, 6]);
    }

    #[test]
    fn a_header_of_many_keys_is_read_in_one_pass() {
        let keys: Vec<String> = (0..20_000).map(|i| format!("k{i}")).collect();
        let mut readme = String::from("---\n");
        for key in &keys {
            readme.push_str(&format!("{key}: v\n"));
        }
        readme.push_str("---\n");
        let Header::Parsed(fields) = header(&readme) else {
            panic!("not parsed");
        };
        assert_eq!(fields.get("k19999").map(|(_, l)| l), Some(20_001));
        assert_eq!(fields.get("k1").map(|(_, l)| l), Some(3));
    }

    #[test]
    fn sdk_and_port_for_the_dockerfile_rules() {
        let h = space("---\ntitle: x\nsdk: docker\napp_port: 8000\n---\n# x\n").unwrap();
        assert_eq!(h.sdk.as_deref(), Some("docker"));
        assert_eq!(h.app_port, Ok(8000));
        let h = space("---\r\nsdk: docker\r\n---\r\n").unwrap();
        assert_eq!(h.app_port, Ok(DEFAULT_APP_PORT));
        assert_eq!(
            space("---\napp_port: high\n---\n").unwrap().app_port,
            Err(())
        );
        assert!(space("---\nsdk: gradio\n---\n").unwrap().other_sdk());
        assert_eq!(space("# Title\n"), None);
        assert_eq!(space("---\n- a list\n---\n"), None);
        assert_eq!(space(""), None);
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

    #[test]
    fn aliases_past_the_budget_are_refused_before_loading() {
        let few = "---\na: &a [x]\nb: *a\nc: *a\n---\n";
        assert!(matches!(header(few), Header::Parsed(_)));
        let mut bomb = String::from("---\nsdk: docker\na0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 9].join(", ");
            bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        bomb.push_str("---\n");
        let Header::Invalid { line, message } = header(&bomb) else {
            panic!("loaded");
        };
        assert_eq!(line, 5);
        assert!(message.contains("more than 16 YAML aliases"), "{message}");
        let big = format!(
            "---\na: &a [{}]\nb: [*a, *a]\nc: [*a, *a]\n---\n",
            vec!["x"; 3000].join(", ")
        );
        let Header::Invalid { line, message } = header(&big) else {
            panic!("loaded");
        };
        assert_eq!(line, 4);
        assert!(message.contains("copy more than 10000 values"), "{message}");
    }
}

//! APIs that a library removed, used in code whose requirements allow only versions without
//! them. A use is reported only when a requirement's lower bound proves the API is gone; an
//! unpinned requirement proves nothing.

use std::collections::BTreeSet;

use super::Facts;
use crate::check::pins::{proven_at_least, Pin};
use crate::check::python::{self, Kind};
use crate::check::{Finding, Rule, Severity};

pub(crate) static HUB_REMOVED: Rule = Rule {
    id: "SG213",
    name: "huggingface-hub-removed-api",
    severity: Severity::Error,
    why: "the import names an API huggingface_hub has removed in the pinned version: the app fails at import with ImportError",
    fix: "use hf_hub_download instead of cached_download, and HfApi/`HF_TOKEN` or huggingface_hub.get_token() instead of HfFolder",
    doc: r#"
huggingface_hub removed `cached_download` in 0.26.0 ("Use hf_hub_download instead"), and
`HfFolder` and `Repository` in 1.0.0. With a requirement that allows only later versions,
`from huggingface_hub import cached_download` raises
    ImportError: cannot import name 'cached_download' from 'huggingface_hub'
when the app starts. (sentence-transformers 2.2.2 and older import it too: use >=2.3.0.)
"#,
};

pub(crate) static QDRANT_SEARCH: Rule = Rule {
    id: "SG214",
    name: "qdrant-search-removed",
    severity: Severity::Error,
    why: "QdrantClient.search() is gone from qdrant-client 1.16.0 on: the call raises AttributeError",
    fix: "call client.query_points(collection, query=vector, limit=…, query_filter=…) and read `.points`",
    doc: r#"
qdrant-client 1.16.0 removed QdrantClient.search (and AsyncQdrantClient.search): with a
requirement that allows only 1.16.0 or later, `client.search(...)` raises
    AttributeError: 'QdrantClient' object has no attribute 'search'
Use query_points, which takes `query=` (the vector), `limit`, `query_filter`, and returns an
object whose `.points` are the hits.
"#,
};

pub(crate) static RULES: &[&Rule] = &[&HUB_REMOVED, &QDRANT_SEARCH];

/// Names huggingface_hub removed, with the version that removed them.
const HUB_GONE: &[(&str, &str)] = &[
    ("cached_download", "0.26.0"),
    ("HfFolder", "1.0.0"),
    ("Repository", "1.0.0"),
];

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    let project = facts.project;
    let modules: &[(&str, python::Module)] = &facts.python;
    for (file, module) in modules {
        for import in &module.imports {
            if import.module != "huggingface_hub" {
                continue;
            }
            let Some(name) = import.name.as_deref() else {
                continue;
            };
            let Some((_, removed)) = HUB_GONE.iter().find(|(n, _)| *n == name) else {
                continue;
            };
            if let Some(pin) = proven_at_least(project, "huggingface-hub", removed) {
                findings.push(
                    Finding::new(
                        &HUB_REMOVED,
                        *file,
                        import.place.line,
                        format!(
                            "huggingface_hub removed {name} in {removed}, and {}",
                            pinned(&pin)
                        ),
                    )
                    .at_column(import.place.column),
                );
            }
        }
    }
    let Some(pin) = proven_at_least(project, "qdrant-client", "1.16.0") else {
        return;
    };
    for (file, module) in modules {
        let clients: BTreeSet<&str> = module
            .assigns
            .iter()
            .filter(|a| matches!(&a.value.kind, Kind::Call(n) if n.ends_with("QdrantClient")))
            .map(|a| a.target.as_str())
            .collect();
        for call in module.calls_to("search") {
            if call.receiver().is_some_and(|r| clients.contains(r)) {
                findings.push(
                    Finding::new(
                        &QDRANT_SEARCH,
                        *file,
                        call.place.line,
                        format!(
                            "{}() does not exist from qdrant-client 1.16.0 on, and {}",
                            call.name,
                            pinned(&pin)
                        ),
                    )
                    .at_column(call.place.column),
                );
            }
        }
    }
}

fn pinned(pin: &Pin) -> String {
    format!("{}:{} requires {}", pin.file, pin.line, pin.describe())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(files: &[(&str, &str)]) -> Vec<(&'static str, usize)> {
        super::super::found(check, files)
    }

    #[test]
    fn removed_apis_are_reported_only_under_a_proving_pin() {
        let code = "from huggingface_hub import hf_hub_download, cached_download, HfFolder\n\
                    client = QdrantClient(url=URL)\n\
                    other = Thing()\n\
                    def f():\n    hits = client.search('c', vector)\n    other.search('x')\n    re.search('a', 'b')\n";
        let new = [
            ("app/main.py", code),
            (
                "requirements.txt",
                "huggingface_hub>=0.30\nqdrant-client==1.16.2\n",
            ),
        ];
        assert_eq!(found(&new), vec![("SG213", 1), ("SG214", 5)]);
        let newest = [
            ("app/main.py", code),
            ("requirements.txt", "huggingface-hub>=1.3\n"),
        ];
        assert_eq!(found(&newest), vec![("SG213", 1), ("SG213", 1)]);
        let loose = [
            ("app/main.py", code),
            ("requirements.txt", "huggingface_hub\nqdrant-client>=1.12\n"),
        ];
        assert_eq!(found(&loose), vec![]);
    }
}

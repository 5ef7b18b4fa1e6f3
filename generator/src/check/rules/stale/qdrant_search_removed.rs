use std::collections::BTreeSet;

use super::pinned;
use crate::check::finding::rule;
use crate::check::pins::proven_at_least;
use crate::check::python::Kind;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports `client.search(…)` on a name the same module assigns a `QdrantClient` (or
    /// `AsyncQdrantClient`), when a requirement's lower bound proves qdrant-client 1.16.0 or
    /// later. An unpinned requirement proves nothing.
    ///
    /// ## Why it breaks a Space
    /// qdrant-client 1.16.0 removed `QdrantClient.search` (and `AsyncQdrantClient.search`):
    /// with a requirement that allows only 1.16.0 or later, `client.search(...)` raises
    /// `AttributeError: 'QdrantClient' object has no attribute 'search'`.
    ///
    /// ## Example
    /// ```python
    /// client = QdrantClient(url=URL)  # requirements: qdrant-client==1.16.2
    /// hits = client.search("docs", query_vector=vector, limit=5)
    /// ```
    ///
    /// ## Fix
    /// Use `query_points`, which takes `query=` (the vector), `limit`, `query_filter`, and
    /// returns an object whose `.points` are the hits:
    /// ```python
    /// hits = client.query_points("docs", query=vector, limit=5).points
    /// ```
    ///
    /// ## References
    /// - Qdrant, search: <https://qdrant.tech/documentation/concepts/search/>
    /// - qdrant-client releases: <https://github.com/qdrant/qdrant-client/releases>
    pub(crate) static RULE = "SG214", "qdrant-search-removed", Error;
    why: "QdrantClient.search() is gone from qdrant-client 1.16.0 on: the call raises AttributeError";
    fix: "call client.query_points(collection, query=vector, limit=…, query_filter=…) and read `.points`";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    let Some(pin) = proven_at_least(facts.project, "qdrant-client", "1.16.0") else {
        return;
    };
    for (file, module) in &facts.python {
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
                        &RULE,
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

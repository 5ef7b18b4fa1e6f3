use super::fields;
use crate::check::finding::rule;
use crate::check::readme::FILE;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a `suggested_storage` key in the README header.
    ///
    /// ## Why it breaks a Space
    /// The Hub removed the persistent storage tiers: the disk of a Space is ephemeral and wiped
    /// on restart or rebuild, `suggested_storage` is ignored, and `/data` is not a persistent
    /// volume. Storage Buckets are the documented persistence now; a SQLite file in the
    /// container is lost on every restart.
    ///
    /// ## Example
    /// ```yaml
    /// ---
    /// sdk: docker
    /// suggested_storage: small
    /// ---
    /// ```
    ///
    /// ## Fix
    /// Drop `suggested_storage`, and keep durable data in a database (e.g. Neon) or a Storage
    /// Bucket:
    /// ```yaml
    /// ---
    /// sdk: docker
    /// ---
    /// ```
    ///
    /// ## References
    /// - Hugging Face, Spaces configuration reference: <https://huggingface.co/docs/hub/spaces-config-reference>
    /// - Hugging Face, Spaces overview: <https://huggingface.co/docs/hub/spaces-overview>
    pub(crate) static RULE = "SG308", "readme-persistent-data", Warning;
    why: "`suggested_storage` asks for persistent storage Spaces no longer offer: whatever the app writes is lost on every restart";
    fix: "drop `suggested_storage`; keep durable data in a database (e.g. Neon) or a Storage Bucket";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    if let Some((_, line)) = fields(facts).and_then(|f| f.get("suggested_storage")) {
        findings.push(Finding::new(
            &RULE,
            FILE,
            line,
            "`suggested_storage` asks for persistent storage, which Spaces no longer offer",
        ));
    }
}

use super::pinned;
use crate::check::finding::rule;
use crate::check::pins::proven_at_least;
use crate::check::rules::Facts;
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports `from huggingface_hub import NAME` of a name huggingface_hub has removed
    /// (`cached_download`, `HfFolder`, `Repository`), when a requirement's lower bound proves
    /// the installed version is one without it. An unpinned requirement proves nothing.
    ///
    /// ## Why it breaks a Space
    /// huggingface_hub removed `cached_download` in 0.26.0 ("Use hf_hub_download instead"), and
    /// `HfFolder` and `Repository` in 1.0.0. With a requirement that allows only later
    /// versions, `from huggingface_hub import cached_download` raises
    /// `ImportError: cannot import name 'cached_download' from 'huggingface_hub'` when the app
    /// starts. (sentence-transformers 2.2.2 and older import it too: use >=2.3.0.)
    ///
    /// ## Example
    /// ```python
    /// from huggingface_hub import cached_download, HfFolder  # requirements: huggingface_hub>=1.0
    /// ```
    ///
    /// ## Fix
    /// Use `hf_hub_download` instead of `cached_download`, and `HfApi`/`HF_TOKEN` or
    /// `huggingface_hub.get_token()` instead of `HfFolder`:
    /// ```python
    /// from huggingface_hub import get_token, hf_hub_download
    ///
    /// path = hf_hub_download(repo_id="me/model", filename="model.safetensors")
    /// token = get_token()
    /// ```
    ///
    /// ## References
    /// - huggingface_hub, download files from the Hub: <https://huggingface.co/docs/huggingface_hub/guides/download>
    /// - huggingface_hub, migrating to v1.0: <https://huggingface.co/docs/huggingface_hub/concepts/migration>
    pub(crate) static RULE = "SG213", "huggingface-hub-removed-api", Error;
    why: "the import names an API huggingface_hub has removed in the pinned version: the app fails at import with ImportError";
    fix: "use hf_hub_download instead of cached_download, and HfApi/`HF_TOKEN` or huggingface_hub.get_token() instead of HfFolder";
}

/// Names huggingface_hub removed, with the version that removed them.
const HUB_GONE: &[(&str, &str)] = &[
    ("cached_download", "0.26.0"),
    ("HfFolder", "1.0.0"),
    ("Repository", "1.0.0"),
];

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    for (file, module) in &facts.python {
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
            if let Some(pin) = proven_at_least(facts.project, "huggingface-hub", removed) {
                findings.push(
                    Finding::new(
                        &RULE,
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
}

//! APIs that a library removed, used in code whose requirements allow only versions without
//! them. A use is reported only when a requirement's lower bound proves the API is gone; an
//! unpinned requirement proves nothing.

pub(super) mod huggingface_hub_removed_api;
pub(super) mod qdrant_search_removed;

use crate::check::pins::Pin;

/// Where a requirement proves the version: `requirements.txt:3 requires …`.
pub(super) fn pinned(pin: &Pin) -> String {
    format!("{}:{} requires {}", pin.file, pin.line, pin.describe())
}

#[cfg(test)]
mod tests {
    fn found(files: &[(&str, &str)]) -> Vec<(&'static str, usize)> {
        super::super::found_by("stale", files)
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

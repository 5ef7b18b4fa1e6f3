//! A locked set as a PEP 751 `pylock.toml`: every distribution of the set (the application's
//! and the test tools', as `requirements-dev.txt` pins them) with its marker and every file
//! with the URL, size and sha256 spaces.lock records, so `uv pip sync pylock.toml` (or any
//! installer of the standard format) installs exactly that set without resolving anything.
//! Nothing here touches the disk.

use toml_edit::{value, Array, ArrayOfTables, DocumentMut, InlineTable, Table};

use super::file::{LockedBlueprint, LockedFile};

/// The index the files come from.
const INDEX: &str = "https://pypi.org/simple";

/// The `pylock.toml` text of the distributions of `entry` that `pinned` names (`name`,
/// `version`: what the project's requirements files pin), without a header comment.
pub(crate) fn render(entry: &LockedBlueprint, pinned: &[(&str, &str)]) -> String {
    let mut doc = DocumentMut::new();
    doc["lock-version"] = value("1.0");
    doc["requires-python"] = value(entry.requires_python.as_str());
    doc["created-by"] = value("spacegen");
    let mut packages = ArrayOfTables::new();
    let mut artifacts: Vec<_> = entry
        .artifacts
        .iter()
        .filter(|a| pinned.contains(&(a.name.as_str(), a.version.as_str())))
        .collect();
    artifacts.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    for a in artifacts {
        let mut p = Table::new();
        p["name"] = value(a.name.as_str());
        p["version"] = value(a.version.as_str());
        if let Some(marker) = &a.marker {
            p["marker"] = value(marker.as_str());
        }
        p["index"] = value(INDEX);
        let (sdists, wheels): (Vec<&LockedFile>, Vec<&LockedFile>) =
            a.files.iter().partition(|f| !f.name.ends_with(".whl"));
        if let Some(sdist) = sdists.first() {
            p["sdist"] = value(file(sdist));
        }
        if !wheels.is_empty() {
            let mut array = Array::new();
            for w in wheels {
                array.push(file(w));
            }
            for v in array.iter_mut() {
                v.decor_mut().set_prefix("\n    ");
            }
            array.set_trailing_comma(true);
            array.set_trailing("\n");
            p["wheels"] = value(array);
        }
        packages.push(p);
    }
    doc["packages"] = toml_edit::Item::ArrayOfTables(packages);
    doc.to_string()
}

/// `{ name, url, size, hashes = { sha256 } }`.
fn file(f: &LockedFile) -> InlineTable {
    let mut t = InlineTable::new();
    t.insert("name", f.name.as_str().into());
    t.insert("url", f.url.as_str().into());
    if let Some(size) = f.size.and_then(|s| i64::try_from(s).ok()) {
        t.insert("size", size.into());
    }
    let mut hashes = InlineTable::new();
    hashes.insert("sha256", f.sha256.as_str().into());
    t.insert("hashes", hashes.into());
    t.fmt();
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every distribution and file of the set is there, as PEP 751 names them.
    #[test]
    fn the_whole_set_with_every_file() {
        let lock = crate::lock::file::embedded().unwrap().lock;
        let entry = &lock.blueprints["neon-qdrant-openai"];
        let pinned: Vec<(&str, &str)> = entry
            .artifacts
            .iter()
            .map(|a| (a.name.as_str(), a.version.as_str()))
            .collect();
        let text = render(entry, &pinned);
        let parsed: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(parsed["lock-version"].as_str(), Some("1.0"));
        let packages = parsed["packages"].as_array().unwrap();
        assert_eq!(packages.len(), entry.artifacts.len());
        let files: usize = packages
            .iter()
            .map(|p| {
                p.get("wheels")
                    .and_then(|w| w.as_array())
                    .map_or(0, Vec::len)
                    + usize::from(p.get("sdist").is_some())
            })
            .sum();
        let locked: usize = entry.artifacts.iter().map(|a| a.files.len()).sum();
        assert_eq!(files, locked);
        let numpy: Vec<&toml::Value> = packages
            .iter()
            .filter(|p| p["name"].as_str() == Some("numpy"))
            .collect();
        assert_eq!(numpy.len(), 2, "one numpy per Python range");
        assert!(numpy.iter().all(|p| p.get("marker").is_some()));
        let wheel = &packages[0]["wheels"][0];
        assert!(wheel["url"].as_str().unwrap().starts_with("https://"));
        assert_eq!(wheel["hashes"]["sha256"].as_str().unwrap().len(), 64);
    }
}

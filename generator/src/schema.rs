//! JSON Schemas of `blueprint.toml`, `matrix.toml`, `matrix.index.toml` and `spaces.lock`, generated from their
//! wire types (which derive `JsonSchema` in test builds only). The repository ships them in
//! `schemas/` for editors (Taplo and Even Better TOML read them through the `#:schema` line of
//! each hand-written file, and `.taplo.toml` for the machine-written index); the tests here keep
//! the shipped files equal to what the types generate, and check that the shipped files validate
//! against them and name their schema.

use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde_json::{json, Value};

use crate::blueprint::manifest::ManifestWire;
use crate::lock::file::Lock;
use crate::lock::index::Index;
use crate::lock::matrix::MatrixWire;

/// Draft 7, which every TOML editor's schema support reads. TOML has no null, so an optional
/// key is only absent, never `null`.
fn generate<T: JsonSchema>() -> String {
    let schema = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<T>();
    let mut schema = schema.to_value();
    drop_null(&mut schema);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// Removes the `null` schemars admits for an `Option`: `"type": ["string", "null"]` becomes
/// `"type": "string"`, and `"anyOf": [{"$ref": …}, {"type": "null"}]` the `$ref` alone.
fn drop_null(schema: &mut Value) {
    let null = json!({ "type": "null" });
    if let Value::Object(map) = schema {
        if let Some(Value::Array(types)) = map.get_mut("type") {
            types.retain(|t| t != "null");
            if let [only] = types.as_slice() {
                let only = only.clone();
                map.insert("type".into(), only);
            }
        }
        if let Some(Value::Array(any_of)) = map.get_mut("anyOf") {
            any_of.retain(|s| *s != null);
            if let [Value::Object(only)] = any_of.as_slice() {
                let only = only.clone();
                map.remove("anyOf");
                map.extend(only);
            }
        }
    }
    match schema {
        Value::Object(map) => map.values_mut().for_each(drop_null),
        Value::Array(items) => items.iter_mut().for_each(drop_null),
        _ => {}
    }
}

/// The schema of `blueprint.toml`.
pub(crate) fn blueprint() -> String {
    generate::<ManifestWire>()
}

/// The schema of `matrix.toml`.
pub(crate) fn matrix() -> String {
    generate::<MatrixWire>()
}

/// The schema of `matrix.index.toml`.
pub(crate) fn matrix_index() -> String {
    generate::<Index>()
}

/// The schema of `spaces.lock` (its shape; every value is also parsed strictly when read).
pub(crate) fn lock() -> String {
    generate::<Lock>()
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    fn repo() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    /// The shipped schema at `schemas/<name>` equals `generated`; with `SPACEGEN_WRITE_SCHEMAS=1`
    /// it is written instead.
    fn assert_shipped(name: &str, generated: &str) {
        let path = repo().join("schemas").join(name);
        if std::env::var_os("SPACEGEN_WRITE_SCHEMAS").is_some() {
            std::fs::write(&path, generated).unwrap();
            return;
        }
        let shipped = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            shipped == generated,
            "schemas/{name} differs from what the wire types generate; \
             run `SPACEGEN_WRITE_SCHEMAS=1 cargo test -p spacegen --lib schema` and commit it\n{}",
            similar::TextDiff::from_lines(shipped.as_str(), generated)
                .unified_diff()
                .header("shipped", "generated")
        );
    }

    fn validator(generated: &str) -> jsonschema::Validator {
        let schema: serde_json::Value = serde_json::from_str(generated).unwrap();
        jsonschema::validator_for(&schema).unwrap()
    }

    /// Where in `value` each error of `validator` is (JSON pointers).
    fn error_paths(validator: &jsonschema::Validator, value: &serde_json::Value) -> Vec<String> {
        validator
            .iter_errors(value)
            .map(|e| e.instance_path().to_string())
            .collect()
    }

    /// The errors of `file` (TOML) against `validator`, one per line.
    fn errors(validator: &jsonschema::Validator, file: &Path) -> Vec<String> {
        let text = std::fs::read_to_string(file).unwrap();
        let value: serde_json::Value = toml::from_str(&text).unwrap();
        validator
            .iter_errors(&value)
            .map(|e| format!("{}: {} at {}", file.display(), e, e.instance_path()))
            .collect()
    }

    #[test]
    fn shipped_blueprint_schema_is_generated() {
        assert_shipped("blueprint.schema.json", &super::blueprint());
    }

    #[test]
    fn shipped_matrix_schema_is_generated() {
        assert_shipped("matrix.schema.json", &super::matrix());
    }

    #[test]
    fn shipped_matrix_index_schema_is_generated() {
        assert_shipped("matrix-index.schema.json", &super::matrix_index());
    }

    #[test]
    fn shipped_lock_schema_is_generated() {
        assert_shipped("spaces-lock.schema.json", &super::lock());
    }

    #[test]
    fn shipped_lock_validates_and_a_wrong_value_does_not() {
        let validator = validator(&super::lock());
        let errors = errors(&validator, &repo().join("spaces.lock"));
        assert!(errors.is_empty(), "{}", errors.join("\n"));
        let bad: serde_json::Value = toml::from_str(
            "format = 3\n[blueprints.x]\nversion = 1\ncontent-hash = \"h\"\npython = \"3.11\"\nrequires-python = \">=3.11\"\nexclude-newer = \"t\"\npackages = {}\ncolour = \"red\"\n",
        )
        .unwrap();
        let found = error_paths(&validator, &bad);
        assert!(
            found.iter().any(|p| p == "/blueprints/x/version"),
            "{found:?}"
        );
        assert!(found.iter().any(|p| p == "/blueprints/x"), "{found:?}");
    }

    #[test]
    fn every_shipped_blueprint_validates() {
        let validator = validator(&super::blueprint());
        let mut manifests: Vec<PathBuf> = std::fs::read_dir(repo().join("blueprints"))
            .unwrap()
            .map(|e| e.unwrap().path().join("blueprint.toml"))
            .filter(|p| p.is_file())
            .collect();
        manifests.sort();
        assert!(manifests.len() >= 5, "{manifests:?}");
        let errors: Vec<String> = manifests
            .iter()
            .flat_map(|m| errors(&validator, m))
            .collect();
        assert!(errors.is_empty(), "{}", errors.join("\n"));
    }

    #[test]
    fn shipped_matrix_validates() {
        let validator = validator(&super::matrix());
        let errors = errors(&validator, &repo().join("blueprints/matrix.toml"));
        assert!(errors.is_empty(), "{}", errors.join("\n"));
    }

    #[test]
    fn shipped_matrix_index_validates() {
        let validator = validator(&super::matrix_index());
        let errors = errors(&validator, &repo().join("blueprints/matrix.index.toml"));
        assert!(errors.is_empty(), "{}", errors.join("\n"));
        let bad: serde_json::Value =
            toml::from_str("[declared.fastapi.\"1.0\"]\nrequires-python = 3\nextra = []\n")
                .unwrap();
        let found = error_paths(&validator, &bad);
        assert!(
            found
                .iter()
                .any(|p| p == "/declared/fastapi/1.0/requires-python"),
            "{found:?}"
        );
        assert!(
            found.iter().any(|p| p == "/declared/fastapi/1.0"),
            "{found:?}"
        );
    }

    /// Each hand-written file names its schema on its first line, by a path relative to the file
    /// that leads to the shipped schema (what Taplo and Even Better TOML follow).
    #[test]
    fn every_hand_written_file_names_its_schema() {
        let mut files: Vec<(PathBuf, &str)> = std::fs::read_dir(repo().join("blueprints"))
            .unwrap()
            .map(|e| e.unwrap().path().join("blueprint.toml"))
            .filter(|p| p.is_file())
            .map(|p| (p, "blueprint.schema.json"))
            .collect();
        files.push((repo().join("blueprints/matrix.toml"), "matrix.schema.json"));
        assert!(files.len() >= 6, "{files:?}");
        let mut wrong = Vec::new();
        for (file, schema) in &files {
            let text = std::fs::read_to_string(file).unwrap();
            let first = text.lines().next().unwrap_or("");
            let named = first.strip_prefix("#:schema ").map(str::trim);
            let resolves = named.is_some_and(|rel| {
                let target = file.parent().unwrap().join(rel);
                rel.ends_with(&format!("/schemas/{schema}"))
                    && target.canonicalize().ok()
                        == repo().join("schemas").join(schema).canonicalize().ok()
            });
            if !resolves {
                wrong.push(format!(
                    "{}: first line {first:?}, expected `#:schema <relative path to schemas/{schema}>`",
                    file.display()
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn the_schema_rejects_what_the_parser_rejects() {
        let validator = validator(&super::blueprint());
        let bad: serde_json::Value = toml::from_str(
            "[blueprint]\nname = \"x\"\nversion = \"1\"\ndescription = \"d\"\ncolour = \"red\"\n\n\
             [[variables]]\nname = \"v\"\ntype = \"float\"\n",
        )
        .unwrap();
        let found = error_paths(&validator, &bad);
        assert!(found.iter().any(|p| p == "/blueprint"), "{found:?}");
        assert!(found.iter().any(|p| p == "/variables/0/type"), "{found:?}");
        assert!(validator.is_valid(
            &toml::from_str::<serde_json::Value>(
                "[blueprint]\nname = \"x\"\nversion = \"1\"\ndescription = \"d\"\n"
            )
            .unwrap()
        ));
    }
}

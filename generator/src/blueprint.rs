//! Loading a blueprint: its manifest, its layers, its templates and partials.
//!
//! A blueprint is resolved once into a [`Blueprint`]: layers merged (a blueprint's file replaces
//! a layer's file at the same output path; a blueprint's variable replaces a layer's variable of
//! the same name), every manifest field checked, every requirement parsed. Later stages never
//! look at the manifest again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use globset::{Glob, GlobMatcher};
use pep508_rs::{Requirement, VersionOrUrl};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::hash;
use crate::source::{FileTree, Source};
use crate::variables::{Variable, VariableDef};

const MANIFEST: &str = "blueprint.toml";
const TEMPLATE_DIR: &str = "template/";
const PARTIALS_DIR: &str = "partials/";
const LIQUID_SUFFIX: &str = ".liquid";
const MAX_LAYERS: usize = 8;

/// The default blueprint of `spacegen new`.
pub const DEFAULT_BLUEPRINT: &str = "sqlite-demo";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    blueprint: Meta,
    #[serde(default)]
    variables: Vec<VariableDef>,
    #[serde(default)]
    files: Vec<FileRuleDef>,
    #[serde(default)]
    dependencies: DependenciesDef,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    name: String,
    version: String,
    description: String,
    min_spacegen: Option<String>,
    extends: Option<String>,
    #[serde(default)]
    kind: Kind,
}

/// Whether a folder can be generated on its own or only serves as a shared layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    #[default]
    Blueprint,
    Layer,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRuleDef {
    path: String,
    when: Option<String>,
    #[serde(default)]
    raw: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DependenciesDef {
    #[serde(default)]
    groups: Vec<GroupDef>,
    #[serde(default)]
    dev: Vec<GroupDef>,
    /// APIs the blueprint's code uses, for the matrix's `if-uses` rules.
    #[serde(default)]
    uses: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupDef {
    name: String,
    comment: String,
    packages: Vec<String>,
}

/// A rule over template files, matched against output paths.
#[derive(Debug, Clone)]
pub struct FileRule {
    pub pattern: String,
    matcher: GlobMatcher,
    /// A liquid condition; the file is written only when it is true.
    pub when: Option<String>,
    pub raw: bool,
    /// The blueprint or layer that declared it.
    pub origin: String,
}

impl FileRule {
    pub fn matches(&self, output_path: &str) -> bool {
        self.matcher.is_match(output_path)
    }
}

/// A Python requirement of a blueprint: `name[extras]` with the allowed versions.
#[derive(Debug, Clone)]
pub struct Package {
    /// As written in `blueprint.toml`.
    pub spec: String,
    pub requirement: Requirement,
}

impl Package {
    /// The normalised distribution name, e.g. `pydantic-settings`.
    pub fn name(&self) -> String {
        self.requirement.name.to_string()
    }

    /// `name[extra,…]`, without version.
    pub fn name_with_extras(&self) -> String {
        let extras = &self.requirement.extras;
        if extras.is_empty() {
            self.name()
        } else {
            let e: Vec<String> = extras.iter().map(ToString::to_string).collect();
            format!("{}[{}]", self.name(), e.join(","))
        }
    }

    /// The allowed versions, if the blueprint restricts them.
    pub fn specifiers(&self) -> Option<&pep440_rs::VersionSpecifiers> {
        match &self.requirement.version_or_url {
            Some(VersionOrUrl::VersionSpecifier(s)) => Some(s),
            _ => None,
        }
    }
}

/// A named group of requirements, written as one commented block of `requirements.txt`.
#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub comment: String,
    pub packages: Vec<Package>,
}

/// The requirements of a blueprint: runtime groups and development (test) groups.
#[derive(Debug, Clone, Default)]
pub struct Dependencies {
    pub groups: Vec<Group>,
    pub dev: Vec<Group>,
    pub uses: Vec<String>,
}

impl Dependencies {
    /// Every package, runtime first.
    pub fn all(&self) -> impl Iterator<Item = &Package> {
        self.groups
            .iter()
            .chain(&self.dev)
            .flat_map(|g| &g.packages)
    }
}

/// A template file of the blueprint, keyed by its output path (templated, before rendering).
#[derive(Debug, Clone)]
pub struct Template {
    /// Path inside its blueprint folder, for messages: `sqlite-demo/template/app/config.py.liquid`.
    pub source: String,
    pub contents: Vec<u8>,
    pub executable: bool,
    /// `.liquid` files are rendered; everything else is copied.
    pub render: bool,
}

/// A loaded blueprint with its layers merged.
#[derive(Debug, Clone)]
pub struct Blueprint {
    pub name: String,
    pub version: semver::Version,
    pub description: String,
    pub kind: Kind,
    /// Layers this blueprint extends, outermost first.
    pub layers: Vec<String>,
    pub variables: Vec<Variable>,
    pub rules: Vec<FileRule>,
    pub dependencies: Dependencies,
    /// Output path (possibly templated) → template.
    pub templates: BTreeMap<String, Template>,
    /// Partial name (`readme/header`) → source.
    pub partials: BTreeMap<String, String>,
    /// Content hash over this blueprint's folder and its layers' folders.
    pub content_hash: String,
    /// Where it was loaded from, for messages.
    pub origin: String,
}

/// One folder's parsed manifest with its files.
struct Folder {
    name: String,
    origin: String,
    manifest: Manifest,
    files: FileTree,
}

/// How the user named a blueprint: by embedded name, or by a folder path (`./my-bp`, `a/b`).
pub fn locate(spec: &str) -> Result<(Source, String)> {
    // Only something that looks like a path is one: a bare name always means an embedded
    // blueprint, whatever folders happen to sit in the working directory.
    let looks_like_path = spec.contains('/') || spec.contains('\\') || spec.starts_with('.');
    let path = Path::new(spec);
    if looks_like_path {
        if !path.join(MANIFEST).is_file() {
            return Err(Error::Input(vec![format!(
                "--blueprint {spec}: no {MANIFEST} in that folder; pass a blueprint folder or one of the names `spacegen list` shows"
            )]));
        }
        let abs = std::fs::canonicalize(path).map_err(|e| Error::io("open", path, e))?;
        let name = abs
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let parent = abs
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/"));
        return Ok((Source::Disk(parent), name));
    }
    Ok((Source::Embedded, spec.to_owned()))
}

/// Loads blueprint `name` from `source`. Layers are looked up in the same source first and then
/// among the embedded blueprints.
pub fn load(source: &Source, name: &str) -> Result<Blueprint> {
    let mut chain: Vec<Folder> = Vec::new();
    let mut next = Some((source.clone(), name.to_owned()));
    while let Some((src, folder_name)) = next.take() {
        if chain.len() >= MAX_LAYERS {
            return Err(Error::blueprint(
                source.describe(name),
                format!("more than {MAX_LAYERS} layers of `extends`; is there a cycle?"),
            ));
        }
        if chain.iter().any(|f| f.name == folder_name) {
            let names: Vec<&str> = chain.iter().map(|f| f.name.as_str()).collect();
            return Err(Error::blueprint(
                source.describe(name),
                format!(
                    "`extends` forms a cycle: {} → {folder_name}",
                    names.join(" → ")
                ),
            ));
        }
        let (src, files) = match src.read(&folder_name)? {
            Some(files) => (src, files),
            None => match (&src, Source::Embedded.read(&folder_name)?) {
                (Source::Disk(_), Some(files)) if !chain.is_empty() => (Source::Embedded, files),
                _ => return Err(not_found(&folder_name, chain.last())),
            },
        };
        let origin = src.describe(&folder_name);
        let manifest = parse_manifest(&origin, &files)?;
        next = manifest
            .blueprint
            .extends
            .clone()
            .map(|parent| (src.clone(), parent));
        chain.push(Folder {
            name: folder_name,
            origin,
            manifest,
            files,
        });
    }
    chain.reverse();
    merge(chain)
}

fn not_found(name: &str, child: Option<&Folder>) -> Error {
    match child {
        Some(child) => Error::blueprint(
            format!("{}/{MANIFEST}", child.origin),
            format!("extends \"{name}\", but no blueprint or layer of that name exists"),
        ),
        None => {
            let known = Source::Embedded.names().unwrap_or_default().join(", ");
            Error::Input(vec![format!(
                "--blueprint {name}: no such blueprint; the embedded ones are: {known} (or pass a folder path)"
            )])
        }
    }
}

fn parse_manifest(origin: &str, files: &FileTree) -> Result<Manifest> {
    let where_ = format!("{origin}/{MANIFEST}");
    let Some(entry) = files.get(MANIFEST) else {
        return Err(Error::blueprint(where_, "missing"));
    };
    let text = std::str::from_utf8(&entry.contents)
        .map_err(|_| Error::blueprint(&where_, "not valid UTF-8"))?;
    let manifest: Manifest =
        toml::from_str(text).map_err(|e| Error::blueprint(&where_, e.to_string().trim_end()))?;
    Ok(manifest)
}

fn merge(chain: Vec<Folder>) -> Result<Blueprint> {
    let mut variables: Vec<Variable> = Vec::new();
    let mut rules = Vec::new();
    let mut deps = Dependencies::default();
    let mut templates = BTreeMap::new();
    let mut partials = BTreeMap::new();
    let mut layers = Vec::new();
    let hash_input: Vec<(&str, &FileTree)> =
        chain.iter().map(|f| (f.name.as_str(), &f.files)).collect();
    let content_hash = hash::tree_hash(&hash_input);

    let last = chain.len() - 1;
    for (i, folder) in chain.iter().enumerate() {
        let where_ = format!("{}/{MANIFEST}", folder.origin);
        let meta = &folder.manifest.blueprint;
        check_meta(&where_, meta)?;
        if i < last {
            if meta.kind != Kind::Layer {
                return Err(Error::blueprint(
                    where_,
                    "is extended by another blueprint, so it must say kind = \"layer\"",
                ));
            }
            layers.push(meta.name.clone());
        }
        for def in &folder.manifest.variables {
            let var = Variable::new(def.clone()).map_err(|e| Error::blueprint(&where_, e))?;
            match variables.iter_mut().find(|v| v.name() == var.name()) {
                Some(existing) if i > 0 => *existing = var,
                Some(_) => {
                    return Err(Error::blueprint(
                        where_,
                        format!("variable '{}' is declared twice", var.name()),
                    ))
                }
                None => variables.push(var),
            }
        }
        for rule in &folder.manifest.files {
            let matcher = Glob::new(&rule.path)
                .map_err(|e| Error::blueprint(&where_, format!("files.path {:?}: {e}", rule.path)))?
                .compile_matcher();
            rules.push(FileRule {
                pattern: rule.path.clone(),
                matcher,
                when: rule.when.clone(),
                raw: rule.raw,
                origin: where_.clone(),
            });
        }
        let d = &folder.manifest.dependencies;
        deps.groups.extend(parse_groups(&where_, &d.groups)?);
        deps.dev.extend(parse_groups(&where_, &d.dev)?);
        deps.uses.extend(d.uses.iter().cloned());
        for (path, entry) in &folder.files {
            if let Some(rel) = path.strip_prefix(TEMPLATE_DIR) {
                let (output, render) = match rel.strip_suffix(LIQUID_SUFFIX) {
                    Some(stem) => (stem.to_owned(), true),
                    None => (rel.to_owned(), false),
                };
                let source = format!("{}/{path}", folder.name);
                if templates
                    .get(&output)
                    .is_some_and(|t: &Template| t.source.starts_with(&format!("{}/", folder.name)))
                {
                    return Err(Error::blueprint(
                        source,
                        format!("two template files produce {output}; keep one"),
                    ));
                }
                templates.insert(
                    output,
                    Template {
                        source,
                        contents: entry.contents.clone(),
                        executable: entry.executable,
                        render,
                    },
                );
            } else if let Some(rel) = path.strip_prefix(PARTIALS_DIR) {
                let name = rel.strip_suffix(LIQUID_SUFFIX).unwrap_or(rel).to_owned();
                let text = String::from_utf8(entry.contents.clone()).map_err(|_| {
                    Error::blueprint(format!("{}/{path}", folder.origin), "partial is not UTF-8")
                })?;
                partials.insert(name, text);
            }
        }
    }
    check_unique_packages(&chain[last].origin, &deps)?;

    let Some(own) = chain.last() else {
        return Err(Error::Other("empty blueprint chain".into()));
    };
    let meta = &own.manifest.blueprint;
    let version = semver::Version::parse(&meta.version).map_err(|e| {
        Error::blueprint(
            format!("{}/{MANIFEST}", own.origin),
            format!("blueprint.version: {e}"),
        )
    })?;
    for rule in &rules {
        if let Some(first) = rule
            .when
            .as_deref()
            .and_then(|w| w.split_whitespace().next())
        {
            let known = variables.iter().any(|v| v.name() == first);
            let literal = matches!(first, "true" | "false") || first.starts_with(['"', '\'', '(']);
            if !known && !literal && !first.starts_with(|c: char| c.is_ascii_digit()) {
                return Err(Error::blueprint(
                    &rule.origin,
                    format!(
                        "files.when {:?} names '{first}', which is not a variable",
                        rule.pattern
                    ),
                ));
            }
        }
    }
    Ok(Blueprint {
        name: meta.name.clone(),
        version,
        description: meta.description.clone(),
        kind: meta.kind,
        layers,
        variables,
        rules,
        dependencies: deps,
        templates,
        partials,
        content_hash,
        origin: own.origin.clone(),
    })
}

fn check_meta(where_: &str, meta: &Meta) -> Result<()> {
    let valid = !meta.name.is_empty()
        && meta
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        return Err(Error::blueprint(
            where_,
            format!(
                "blueprint.name {:?}: use lowercase letters, digits and '-'",
                meta.name
            ),
        ));
    }
    semver::Version::parse(&meta.version).map_err(|e| {
        Error::blueprint(where_, format!("blueprint.version {:?}: {e}", meta.version))
    })?;
    if let Some(min) = &meta.min_spacegen {
        let min = semver::Version::parse(min).map_err(|e| {
            Error::blueprint(where_, format!("blueprint.min_spacegen {min:?}: {e}"))
        })?;
        let ours = semver::Version::parse(env!("CARGO_PKG_VERSION"))
            .map_err(|e| Error::Other(format!("spacegen's own version: {e}")))?;
        if ours < min {
            return Err(Error::blueprint(
                where_,
                format!("needs spacegen {min} or newer; this is {ours}: upgrade spacegen"),
            ));
        }
    }
    Ok(())
}

fn parse_groups(where_: &str, groups: &[GroupDef]) -> Result<Vec<Group>> {
    groups
        .iter()
        .map(|g| {
            let packages = g
                .packages
                .iter()
                .map(|spec| {
                    let requirement = Requirement::from_str(spec).map_err(|e| {
                        Error::blueprint(
                            where_,
                            format!("dependencies group '{}': {spec:?} is not a valid requirement: {e}", g.name),
                        )
                    })?;
                    if matches!(requirement.version_or_url, Some(VersionOrUrl::Url(_))) {
                        return Err(Error::blueprint(
                            where_,
                            format!("dependencies group '{}': {spec:?}: URL requirements cannot be locked", g.name),
                        ));
                    }
                    Ok(Package { spec: spec.clone(), requirement })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Group { name: g.name.clone(), comment: g.comment.clone(), packages })
        })
        .collect()
}

fn check_unique_packages(origin: &str, deps: &Dependencies) -> Result<()> {
    let mut seen = BTreeMap::new();
    for p in deps.all() {
        if let Some(first) = seen.insert(p.name(), p.spec.clone()) {
            return Err(Error::blueprint(
                format!("{origin}/{MANIFEST}"),
                format!(
                    "package '{}' is listed twice ({first:?} and {:?}); list it once",
                    p.name(),
                    p.spec
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, contents: &str) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    const MINIMAL: &str = r#"[blueprint]
name = "mini"
version = "1.0.0"
description = "test"
"#;

    #[test]
    fn the_default_blueprint_loads_with_its_layer() {
        let bp = load(&Source::Embedded, DEFAULT_BLUEPRINT).unwrap();
        assert_eq!(bp.name, "sqlite-demo");
        assert_eq!(bp.layers, vec!["base".to_string()]);
        assert!(bp.variables.iter().any(|v| v.name() == "title"));
        assert!(bp.templates.contains_key("Dockerfile"));
        assert!(bp.content_hash.starts_with("sha256:"));
    }

    #[test]
    fn blueprint_files_replace_layer_files() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "lay/blueprint.toml", "[blueprint]\nname = \"lay\"\nversion = \"1.0.0\"\ndescription = \"l\"\nkind = \"layer\"\n");
        write(dir.path(), "lay/template/a.txt", "layer");
        write(dir.path(), "lay/template/b.txt", "layer");
        write(
            dir.path(),
            "bp/blueprint.toml",
            &format!("{}extends = \"lay\"\n", MINIMAL.replace("mini", "bp")),
        );
        write(dir.path(), "bp/template/a.txt.liquid", "own");
        let bp = load(&Source::Disk(dir.path().to_path_buf()), "bp").unwrap();
        assert_eq!(bp.templates["a.txt"].contents, b"own");
        assert!(bp.templates["a.txt"].render);
        assert_eq!(bp.templates["b.txt"].contents, b"layer");
    }

    #[test]
    fn manifest_errors_name_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "bad/blueprint.toml",
            "[blueprint]\nname = \"bad\"\nversoin = \"1\"\n",
        );
        let err = load(&Source::Disk(dir.path().to_path_buf()), "bad")
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad/blueprint.toml"), "{err}");
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("versoin"), "{err}");
    }

    #[test]
    fn extending_a_non_layer_or_a_cycle_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "a/blueprint.toml",
            "[blueprint]\nname = \"a\"\nversion = \"1.0.0\"\ndescription = \"\"\nextends = \"b\"\n",
        );
        write(
            dir.path(),
            "b/blueprint.toml",
            "[blueprint]\nname = \"b\"\nversion = \"1.0.0\"\ndescription = \"\"\nextends = \"a\"\n",
        );
        let err = load(&Source::Disk(dir.path().to_path_buf()), "a")
            .unwrap_err()
            .to_string();
        assert!(err.contains("cycle"), "{err}");
    }

    #[test]
    fn bad_requirements_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "r/blueprint.toml", &format!("{}[dependencies]\ngroups = [{{ name = \"g\", comment = \"c\", packages = [\"fastapi>>1\"] }}]\n", MINIMAL.replace("mini", "r")));
        let err = load(&Source::Disk(dir.path().to_path_buf()), "r")
            .unwrap_err()
            .to_string();
        assert!(err.contains("fastapi>>1"), "{err}");
    }

    #[test]
    fn when_must_name_a_variable() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "w/blueprint.toml",
            &format!(
                "{}[[files]]\npath = \"x\"\nwhen = \"nope\"\n",
                MINIMAL.replace("mini", "w")
            ),
        );
        let err = load(&Source::Disk(dir.path().to_path_buf()), "w")
            .unwrap_err()
            .to_string();
        assert!(err.contains("'nope', which is not a variable"), "{err}");
    }

    #[test]
    fn unknown_names_list_the_embedded_blueprints() {
        let err = load(&Source::Embedded, "nope").unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::USAGE);
        assert!(err.to_string().contains("sqlite-demo"), "{err}");
    }
}

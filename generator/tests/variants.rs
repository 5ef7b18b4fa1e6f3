//! The generated output of every shipped blueprint, snapshot-tested, and the guarantee that
//! hostile answers still give files that parse.
//!
//! Every blueprint `spacegen list` shows is covered, so a new blueprint needs no edit here: its
//! output with default answers is snapshotted file by file, and each variant of the shared
//! `base` answers (and of the blueprint's own, `own_variants`) only where it differs from the
//! defaults, so a review shows what the answers change. Snapshots live in the repository's top-level `snapshots/` folder.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{read_tree, Test};

/// A set of answers and its name.
struct Variant {
    name: &'static str,
    vars: &'static [(&'static str, &'static str)],
}

const HOSTILE_TITLE: &str = "He said \"hi\" \\ '''\"\"\" {{ x }} {% if %} ünï 🚀\nsecond line";

const VARIANTS: &[Variant] = &[
    Variant {
        name: "custom",
        vars: &[
            ("title", "Chat Bot API"),
            ("hf_owner", "Acme_Labs"),
            ("port", "8080"),
            ("frontend_url", "https://chat.acme.dev"),
            ("dev_origins", "http://localhost:3000"),
            ("vercel_project", "chat-ui"),
            ("vercel_scope", "acme"),
            ("github_sync", "true"),
            ("github_update", "true"),
            ("color_from", "green"),
            ("license", "apache-2.0"),
            ("emoji", "🤖"),
        ],
    },
    Variant {
        name: "options",
        vars: &[
            ("frontend_url", "https://Chat.Acme.DEV:443"),
            ("dev_origins", "http://LOCALHOST:80,http://localhost:3000"),
            ("vercel_scope", "acme"),
            ("dev_mode", "true"),
            ("postgres", "true"),
        ],
    },
    Variant {
        name: "hostile",
        vars: &[
            ("title", HOSTILE_TITLE),
            ("slug", "hostile-space"),
            (
                "short_description",
                "Quotes \" and ' and \\ and {{ }} and # and: colons",
            ),
            ("vercel_project", ""),
            ("dev_origins", ""),
            ("github_sync", "true"),
        ],
    },
];

/// Variants of a blueprint's own variables, on top of the shared ones.
fn own_variants(blueprint: &str) -> &'static [Variant] {
    match blueprint {
        "openrouter" => &[Variant {
            name: "models",
            vars: &[
                ("model", "anthropic/claude-3.5-sonnet"),
                (
                    "fallback_models",
                    "openai/gpt-4o-mini,meta-llama/llama-3.1-70b-instruct:free",
                ),
            ],
        }],
        "neon-qdrant-openai" => &[Variant {
            name: "rag",
            vars: &[
                ("postgres", "false"),
                ("chat_model", "gpt-4.1-mini"),
                ("embedding_model", "text-embedding-3-large"),
                ("embedding_dimensions", "3072"),
                ("collection", "handbook-v2"),
            ],
        }],
        _ => &[],
    }
}

/// The blueprints `spacegen list` shows.
fn blueprints() -> Vec<String> {
    let (run, _dir) = Test::new().args(["list"]).run();
    let names: Vec<String> = run
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    assert!(!names.is_empty(), "spacegen list shows no blueprint");
    names
}

fn generate(blueprint: &str, vars: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
    let mut t = Test::new().args(["new", "out", "--blueprint", blueprint, "--defaults"]);
    for (k, v) in vars {
        t = t.var(k, v);
    }
    let (run, _dir) = t.run();
    read_tree(&run.dir.join("out"))
}

fn snapshot_name(blueprint: &str, variant: &str, path: &str) -> String {
    format!("{blueprint}@{variant}@{}", path.replace('/', "__"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap_or_else(|_| format!("<{} binary bytes>", bytes.len()))
}

#[test]
fn every_blueprint_output_snapshots() {
    for blueprint in blueprints() {
        output_snapshots(&blueprint);
    }
}

fn output_snapshots(bp: &str) {
    let defaults = generate(bp, &[]);
    insta::with_settings!({ snapshot_path => "../../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        let listing: Vec<&str> = defaults.keys().map(String::as_str).collect();
        insta::assert_snapshot!(snapshot_name(bp, "defaults", "FILES"), listing.join("\n"));
        for (path, bytes) in &defaults {
            insta::assert_snapshot!(snapshot_name(bp, "defaults", path), text(bytes));
        }
        for variant in VARIANTS.iter().chain(own_variants(bp)) {
            let files = generate(bp, variant.vars);
            let mut changed = Vec::new();
            for (path, bytes) in &files {
                match defaults.get(path) {
                    Some(d) if d == bytes => {}
                    Some(_) => changed.push(format!("changed {path}")),
                    None => changed.push(format!("added   {path}")),
                }
            }
            for path in defaults.keys().filter(|p| !files.contains_key(*p)) {
                changed.push(format!("removed {path}"));
            }
            insta::assert_snapshot!(snapshot_name(bp, variant.name, "CHANGES"), changed.join("\n"));
            for (path, bytes) in &files {
                if defaults.get(path) != Some(bytes) {
                    insta::assert_snapshot!(snapshot_name(bp, variant.name, path), text(bytes));
                }
            }
        }
    });
}

/// The YAML front matter of a README.
fn front_matter(readme: &str) -> &str {
    let body = readme
        .strip_prefix("---\n")
        .expect("README starts with a YAML header");
    &body[..body.find("\n---\n").expect("YAML header is closed")]
}

fn parse_yaml(what: &str, src: &str) -> yaml_rust2::Yaml {
    let mut docs =
        yaml_rust2::YamlLoader::load_from_str(src).unwrap_or_else(|e| panic!("{what}: {e}"));
    docs.remove(0)
}

/// Every Python file must parse (`ast`), every TOML file must parse, YAML must parse and the
/// Space header must hold the values exactly as typed.
fn check_parses(root: &Path, files: &BTreeMap<String, Vec<u8>>, title: &str) {
    let py: Vec<String> = files
        .keys()
        .filter(|p| p.ends_with(".py"))
        .cloned()
        .collect();
    let status = Command::new("python3")
        .arg("-c")
        .arg("import ast, sys\nfor p in sys.argv[1:]:\n    ast.parse(open(p, encoding='utf-8').read(), p)")
        .args(&py)
        .current_dir(root)
        .status()
        .expect("python3 runs");
    assert!(status.success(), "a generated Python file does not parse");
    for (path, bytes) in files {
        let src = text(bytes);
        if path.ends_with(".toml") {
            toml::from_str::<toml::Table>(&src).unwrap_or_else(|e| panic!("{path}: {e}"));
        }
        if path.ends_with(".yml") || path.ends_with(".yaml") {
            parse_yaml(path, &src);
        }
    }
    let readme = text(&files["README.md"]);
    let header = parse_yaml("README.md header", front_matter(&readme));
    assert_eq!(header["title"].as_str(), Some(title));
    assert_eq!(header["sdk"].as_str(), Some("docker"));
    assert!(header["app_port"].as_i64().is_some());
    let short = header["short_description"]
        .as_str()
        .expect("short_description");
    assert!(short.chars().count() <= 60);
    let colours = [
        "red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray",
    ];
    for key in ["colorFrom", "colorTo"] {
        assert!(
            colours.contains(&header[key].as_str().unwrap_or("")),
            "{key}"
        );
    }
}

#[test]
fn every_variant_of_every_blueprint_parses() {
    for blueprint in blueprints() {
        variants_parse(&blueprint);
    }
}

fn variants_parse(bp: &str) {
    let (run, _d) = Test::new()
        .args(["new", "out", "--defaults", "--blueprint", bp])
        .run();
    check_parses(
        &run.dir.join("out"),
        &read_tree(&run.dir.join("out")),
        "My Space API",
    );
    passes_spacegen_check(&run.dir.join("out"), bp, "defaults");
    for variant in VARIANTS.iter().chain(own_variants(bp)) {
        let mut t = Test::new().args(["new", "out", "--defaults", "--blueprint", bp]);
        for (k, v) in variant.vars {
            t = t.var(k, v);
        }
        let (run, _d) = t.run();
        let title = variant
            .vars
            .iter()
            .find(|(k, _)| *k == "title")
            .map(|(_, v)| *v)
            .unwrap_or("My Space API");
        check_parses(
            &run.dir.join("out"),
            &read_tree(&run.dir.join("out")),
            title,
        );
        passes_spacegen_check(&run.dir.join("out"), bp, variant.name);
    }
}

/// `spacegen check` finds nothing in what spacegen generates.
fn passes_spacegen_check(project: &Path, bp: &str, variant: &str) {
    let (run, _d) = Test::new()
        .args(["check", &project.display().to_string(), "--format", "json"])
        .run();
    let report: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{bp}@{variant}: not JSON ({e}): {}", run.stdout));
    let unexpected: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .expect("a findings array")
        .iter()
        .collect();
    assert!(unexpected.is_empty(), "{bp}@{variant}: {unexpected:#?}");
}

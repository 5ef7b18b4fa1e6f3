//! Property tests: thousands of generated templates, conditions, blueprint manifests and
//! answers files, thrown at the parsers and the renderer. None may panic or hang; every failure
//! is an error of the right kind (a blueprint error naming the file and line for a template or
//! a manifest, a usage error for an answers file). The inputs that once crashed spacegen are
//! kept as fixtures under `tests/fixtures/templates/crashers/` and checked here and through the
//! binary (`tests/crashers.rs`).

use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;

use crate::answers::{self, Provided};
use crate::blueprint::{self, manifest::Manifest, Source, DEFAULT_BLUEPRINT};
use crate::error::{exit, Error, FileKind};
use crate::template::{Context, Engine, Origin};

/// `cases` cases from a fixed seed, so a run in CI can be replayed; `PROPTEST_RNG_SEED` picks
/// another seed to explore further (a new crasher found so becomes a fixture).
fn config(cases: u32) -> ProptestConfig {
    let mut config = ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = proptest::test_runner::RngSeed::Fixed(0x5ace_9e11);
    }
    config
}

/// An integer literal: mostly small, sometimes at or past the edges of 64 bits.
fn integer() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => (-3i64..40).prop_map(|i| i.to_string()),
        1 => any::<i64>().prop_map(|i| i.to_string()),
        1 => "-?[0-9]{19,25}",
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("n".to_owned()),
        Just("xs".to_owned()),
        Just("s".to_owned()),
        Just("i".to_owned()),
        Just("missing".to_owned()),
    ]
}

/// An expression: a literal, a name or a range, through a few filters.
fn expression() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        integer(),
        name(),
        Just("\"text\"".to_owned()),
        Just("1.5".to_owned()),
        (integer(), integer()).prop_map(|(a, b)| format!("({a}..{b})")),
        (integer(), name()).prop_map(|(a, b)| format!("({a}..{b})")),
    ];
    let filter = prop_oneof![
        integer().prop_map(|i| format!("plus: {i}")),
        integer().prop_map(|i| format!("times: {i}")),
        integer().prop_map(|i| format!("divided_by: {i}")),
        integer().prop_map(|i| format!("modulo: {i}")),
        (integer(), integer()).prop_map(|(a, b)| format!("slice: {a}, {b}")),
        integer().prop_map(|i| format!("truncate: {i}")),
        name().prop_map(|n| format!("append: {n}")),
        Just("split: \"\"".to_owned()),
        Just("join: \",\"".to_owned()),
        Just("size".to_owned()),
        Just("first".to_owned()),
        Just("upcase".to_owned()),
        Just("slug".to_owned()),
        Just("nope".to_owned()),
    ];
    (value, prop::collection::vec(filter, 0..3))
        .prop_map(|(v, fs)| std::iter::once(v).chain(fs).collect::<Vec<_>>().join(" | "))
}

/// A piece of template: text, an output, or a tag, opening and closing tags coming apart.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z \n{}%]{0,6}",
        1 => "[a \t\r\n]{0,4}",
        4 => expression().prop_map(|e| format!("{{{{ {e} }}}}")),
        2 => (expression(), any::<bool>(), any::<bool>()).prop_map(|(e, l, r)| {
            let (l, r) = (if l { "-" } else { "" }, if r { "-" } else { "" });
            format!("{{{{{l} {e} {r}}}}}")
        }),
        1 => Just("{%- if n > 2 -%}".to_owned()),
        1 => Just("{%- else %}".to_owned()),
        1 => Just("{% endif -%}".to_owned()),
        2 => expression().prop_map(|e| format!("{{% if {e} %}}")),
        1 => (name(), integer()).prop_map(|(n, i)| format!("{{% elsif {n} == {i} %}}")),
        1 => Just("{% else %}".to_owned()),
        2 => Just("{% endif %}".to_owned()),
        2 => (name(), expression()).prop_map(|(n, e)| format!("{{% for {n} in {e} %}}")),
        1 => (integer(), integer()).prop_map(|(a, b)| format!("{{% for i in (1..n) limit:{a} offset:{b} %}}")),
        2 => Just("{% endfor %}".to_owned()),
        1 => (expression(), integer()).prop_map(|(e, c)| format!("{{% tablerow x in {e} cols:{c} %}}")),
        1 => Just("{% tablerow x in xs cols:n %}".to_owned()),
        1 => Just("{% endtablerow %}".to_owned()),
        1 => (name(), expression()).prop_map(|(n, e)| format!("{{% assign {n} = {e} %}}")),
        1 => name().prop_map(|n| format!("{{% capture {n} %}}")),
        1 => Just("{% endcapture %}".to_owned()),
        1 => Just("{% case n %}{% when 1 %}".to_owned()),
        1 => Just("{% endcase %}".to_owned()),
        1 => prop_oneof![Just("p"), Just("q"), Just("none")]
            .prop_map(|p| format!("{{% include \"{p}\" %}}")),
        1 => name().prop_map(|n| format!("{{% include {n} %}}")),
        1 => Just("{% raw %}{{ 99999999999999999999 }}{% endraw %}".to_owned()),
        1 => Just("{% break %}".to_owned()),
        1 => "\\PC{0,3}",
    ]
}

fn template() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..24).prop_map(|pieces| pieces.concat())
}

/// A template that renders: text with spaces, tabs and line ends around markup with and
/// without whitespace control, blocks balanced.
fn valid_template() -> impl Strategy<Value = String> {
    let dash = || prop_oneof![Just(""), Just("-")];
    let piece = prop_oneof![
        3 => "[a-z \t\r\n]{0,5}".boxed(),
        2 => (dash(), dash()).prop_map(|(l, r)| format!("{{{{{l} n {r}}}}}")).boxed(),
        1 => (dash(), dash()).prop_map(|(l, r)| format!("{{{{{l} s | upcase {r}}}}}")).boxed(),
        1 => (dash(), dash(), "[a \n]{0,3}", dash(), dash(), "[b \n]{0,3}", dash(), dash())
            .prop_map(|(a, b, t, c, d, f, e, g)| {
                format!("{{%{a} if n > 2 {b}%}}{t}{{%{c} else {d}%}}{f}{{%{e} endif {g}%}}")
            })
            .boxed(),
        1 => (dash(), dash(), "[ \n]{0,2}", dash(), dash())
            .prop_map(|(a, b, t, c, d)| {
                format!("{{%{a} for x in xs {b}%}}{t}[{{{{ x }}}}]{t}{{%{c} endfor {d}%}}")
            })
            .boxed(),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

fn engine() -> Engine {
    let mut partials = BTreeMap::new();
    partials.insert("p".to_owned(), "{{ n }}\n".to_owned());
    partials.insert(
        "q".to_owned(),
        "{% include \"p\" %}{% for x in xs %}{{ x }}{% endfor %}".to_owned(),
    );
    Engine::new(&partials, "bp").unwrap_or_else(|e| panic!("{e:?}"))
}

fn context(n: i64) -> Context {
    Context::empty()
        .with("n", n)
        .with(
            "xs",
            &crate::blueprint::Value::List(vec!["a".to_owned(), "b".to_owned()]),
        )
        .with("s", "text")
}

/// A template error is a blueprint error naming a file and a line.
fn assert_blueprint_error(e: &Error, text: &str) {
    let all = match e {
        Error::Diagnostic(d) => vec![d.as_ref().clone()],
        Error::Diagnostics(ds) => ds.clone(),
        other => panic!("not a diagnostic: {other:?}\n{text}"),
    };
    for d in all {
        assert_eq!(d.kind, FileKind::Blueprint, "{d:?}\n{text}");
        assert!(d.position.is_some(), "no line: {d:?}\n{text}");
    }
}

proptest! {
    #![proptest_config(config(500))]

    #[test]
    fn templates_render_or_fail_as_blueprint_errors(text in template(), n in integer()) {
        let n = n.parse::<i64>().unwrap_or(i64::MAX);
        if let Err(e) = engine().render(&Origin::file("t.liquid"), &text, &context(n)) {
            assert_blueprint_error(&e, &text);
        }
    }

    #[test]
    fn text_handed_over_as_stand_ins_renders_as_the_whole_text(
        text in prop_oneof![template(), valid_template()],
        n in -3i64..40,
    ) {
        let engine = engine();
        let context = context(n);
        // What spacegen renders (text as stand-ins where it can) is what liquid renders from
        // the whole text; a failure of the fast path falls back to the whole text.
        if let Ok(fast) = engine.render(&Origin::file("t.liquid"), &text, &context) {
            let whole = engine.parse_and_render(text.clone(), &context);
            prop_assert!(matches!(&whole, Ok(Ok(w)) if *w == fast), "{:?} vs {:?}", whole, fast);
        }
    }

    #[test]
    fn conditions_hold_or_fail_as_blueprint_errors(expr in expression()) {
        if let Err(e) = engine().condition(&Origin::file("blueprint.toml"), &expr, &context(3)) {
            assert_blueprint_error(&e, &expr);
        }
    }
}

/// A line of a manifest: a table header or a key with a value.
fn manifest_line() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("name"),
        Just("version"),
        Just("description"),
        Just("type"),
        Just("default"),
        Just("when"),
        Just("path"),
        Just("raw"),
        Just("extends"),
        Just("kind"),
        Just("min"),
        Just("max"),
        Just("choices"),
        Just("regex"),
        Just("prompt"),
        Just("odd"),
    ];
    let value = prop_oneof![
        integer(),
        expression().prop_map(|e| format!("{e:?}")),
        Just("\"string\"".to_owned()),
        Just("\"integer\"".to_owned()),
        Just("\"1.0.0\"".to_owned()),
        Just("true".to_owned()),
        Just("[\"a\", 1]".to_owned()),
        Just("{ a = 1 }".to_owned()),
        "[^\n]{0,8}",
    ];
    prop_oneof![
        1 => prop_oneof![
            Just("[blueprint]"), Just("[[variables]]"), Just("[variables.validate]"),
            Just("[[files]]"), Just("[dependencies]"), Just("[[notes]]"), Just("[[x"),
        ].prop_map(str::to_owned),
        4 => (key, value).prop_map(|(k, v)| format!("{k} = {v}")),
    ]
}

/// A line of an answers file.
fn answers_line() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("name"),
        Just("title"),
        Just("github_sync"),
        Just("port"),
        Just("python"),
        Just("unknown"),
        Just("\"quoted key\""),
    ];
    let value = prop_oneof![
        integer(),
        Just("\"my-space\"".to_owned()),
        Just("\"\"".to_owned()),
        Just("true".to_owned()),
        Just("[1, \"a\"]".to_owned()),
        Just("{ a = 1 }".to_owned()),
        Just("1979-05-27".to_owned()),
        "[^\n]{0,8}",
    ];
    (key, value).prop_map(|(k, v)| format!("{k} = {v}"))
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn manifests_parse_or_fail_as_blueprint_errors(
        lines in prop::collection::vec(manifest_line(), 0..16),
    ) {
        let text = lines.join("\n");
        if let Err(e) = Manifest::parse("bp", Some(text.as_bytes())) {
            prop_assert_eq!(e.exit_code(), exit::BLUEPRINT, "{:?}\n{}", e, text);
        }
    }

    #[test]
    fn answers_files_are_read_or_fail_as_usage_errors(
        lines in prop::collection::vec(answers_line(), 0..8),
    ) {
        let text = lines.join("\n");
        let mut provided = Provided::default();
        match provided.add_text(&text, "answers.toml") {
            Err(e) => prop_assert_eq!(e.exit_code(), exit::USAGE, "{:?}\n{}", e, text),
            Ok(()) => {
                let bp = blueprint::load(&Source::Embedded, DEFAULT_BLUEPRINT)
                    .unwrap_or_else(|e| panic!("{e:?}"));
                let engine = Engine::new(&bp.partials, &bp.origin)
                    .unwrap_or_else(|e| panic!("{e:?}"));
                if let Err(e) = answers::collect(&bp, &engine, &provided, None) {
                    prop_assert_eq!(e.exit_code(), exit::USAGE, "{:?}\n{}", e, text);
                }
            }
        }
    }
}

/// The crashers kept as fixtures fail as blueprint errors with a line, rendered on their own.
#[test]
fn the_kept_crashers_fail_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/templates/crashers");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{e}")) {
        let fixture = entry.unwrap_or_else(|e| panic!("{e}")).path();
        let read = |sub: &str| -> BTreeMap<String, String> {
            let Ok(files) = std::fs::read_dir(fixture.join(sub)) else {
                return BTreeMap::new();
            };
            files
                .filter_map(|f| {
                    let path = f.ok()?.path();
                    let name = path
                        .file_name()?
                        .to_str()?
                        .strip_suffix(".liquid")?
                        .to_owned();
                    Some((name, std::fs::read_to_string(&path).ok()?))
                })
                .collect()
        };
        let (partials, templates) = (read("partials"), read("template"));
        let n = std::fs::read_to_string(fixture.join("answers.toml"))
            .ok()
            .and_then(|t| t.trim().strip_prefix("n = ")?.parse::<i64>().ok())
            .unwrap_or(1);
        let outcome = Engine::new(&partials, "bp").and_then(|engine| {
            templates.iter().try_for_each(|(name, text)| {
                engine.render(&Origin::file(name), name, &context(n))?;
                engine
                    .render(&Origin::file(name), text, &context(n))
                    .map(drop)
            })
        });
        if templates.is_empty() {
            continue;
        }
        seen += 1;
        match outcome {
            Ok(()) => panic!("{} renders", fixture.display()),
            Err(e) => assert_blueprint_error(&e, &fixture.display().to_string()),
        }
    }
    assert!(seen >= 10, "the crashers are there");
}

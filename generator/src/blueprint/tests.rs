//! Tests of blueprint loading.

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
    write(
        dir.path(),
        "lay/blueprint.toml",
        "[blueprint]\nname = \"lay\"\nversion = \"1.0.0\"\ndescription = \"l\"\nkind = \"layer\"\n",
    );
    write(dir.path(), "lay/template/a.txt", "layer");
    write(dir.path(), "lay/template/b.txt", "layer");
    write(
        dir.path(),
        "bp/blueprint.toml",
        &format!("{}extends = \"lay\"\n", MINIMAL.replace("mini", "bp")),
    );
    write(dir.path(), "bp/template/a.txt.liquid", "own");
    let bp = load(&Source::Disk(dir.path().to_path_buf()), "bp").unwrap();
    assert_eq!(&*bp.templates["a.txt"].contents, b"own");
    assert!(bp.templates["a.txt"].render);
    assert_eq!(&*bp.templates["b.txt"].contents, b"layer");
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
    assert!(err.contains("bad/blueprint.toml:3:1"), "{err}");
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
    match err {
        Error::UnknownBlueprint { known, place, .. } => {
            assert!(known.contains(&"sqlite-demo".to_owned()), "{known:?}");
            assert_eq!(place, None);
        }
        other => panic!("{other}"),
    }
}

#[test]
fn a_variable_may_not_hide_a_template_value() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "r/blueprint.toml",
        &format!(
            "{}[[variables]]\nname = \"python\"\ntype = \"string\"\n",
            MINIMAL.replace("mini", "r")
        ),
    );
    let err = load(&Source::Disk(dir.path().to_path_buf()), "r")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("r/blueprint.toml:6:8: variable 'python' would hide"),
        "{err}"
    );
}

#[test]
fn errors_point_at_the_value() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "v/blueprint.toml",
        "[blueprint]\nname = \"v\"\nversion = \"one\"\ndescription = \"\"\n",
    );
    let err = load(&Source::Disk(dir.path().to_path_buf()), "v").unwrap_err();
    let Error::Diagnostic(d) = err else {
        panic!("{err}")
    };
    let p = d.position.expect("a position");
    assert_eq!((p.line, p.column), (3, 11));
    assert_eq!(&p.text[p.span], "\"one\"");
}

#[test]
fn group_and_note_conditions_must_name_a_variable() {
    for extra in [
        "[dependencies]\ngroups = [{ name = \"g\", comment = \"c\", packages = [\"x\"], when = \"pg\" }]\n",
        "[[notes]]\nwhen = \"pg\"\ntext = \"t\"\n",
    ] {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "c/blueprint.toml",
            &format!("{}{extra}", MINIMAL.replace("mini", "c")),
        );
        let err = load(&Source::Disk(dir.path().to_path_buf()), "c")
            .unwrap_err()
            .to_string();
        assert!(err.contains("'pg', which is not a variable"), "{err}");
    }
}

#[test]
fn layers_build_on_layers_and_every_one_is_hashed() {
    let dir = tempfile::tempdir().unwrap();
    let layer = |name: &str, extends: Option<&str>| {
        let extends = extends
            .map(|e| format!("extends = \"{e}\"\n"))
            .unwrap_or_default();
        format!("[blueprint]\nname = \"{name}\"\nversion = \"1.0.0\"\ndescription = \"\"\nkind = \"layer\"\n{extends}")
    };
    write(dir.path(), "one/blueprint.toml", &layer("one", None));
    write(dir.path(), "one/template/a.txt", "one");
    write(dir.path(), "one/template/b.txt", "one");
    write(dir.path(), "one/template/c.txt", "one");
    write(dir.path(), "two/blueprint.toml", &layer("two", Some("one")));
    write(dir.path(), "two/template/b.txt", "two");
    write(dir.path(), "two/template/c.txt", "two");
    write(
        dir.path(),
        "bp/blueprint.toml",
        &format!("{}extends = \"two\"\n", MINIMAL.replace("mini", "bp")),
    );
    write(dir.path(), "bp/template/c.txt", "bp");
    let source = Source::Disk(dir.path().to_path_buf());
    let bp = load(&source, "bp").unwrap();
    assert_eq!(bp.layers, vec!["one".to_string(), "two".to_string()]);
    let contents = |p: &str| String::from_utf8(bp.templates[p].contents.to_vec()).unwrap();
    assert_eq!(
        (contents("a.txt"), contents("b.txt"), contents("c.txt")),
        ("one".into(), "two".into(), "bp".into())
    );
    write(dir.path(), "one/template/a.txt", "changed");
    assert_ne!(load(&source, "bp").unwrap().content_hash, bp.content_hash);
}

#[test]
fn extends_takes_a_name_not_a_path() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "bps/lay/blueprint.toml",
        "[blueprint]\nname = \"lay\"\nversion = \"1.0.0\"\ndescription = \"l\"\nkind = \"layer\"\n",
    );
    for extends in ["../bps/lay", "/lay", "x/lay", "..\\\\lay", "Lay", ""] {
        write(
            dir.path(),
            "bps/bp/blueprint.toml",
            &format!("{}extends = \"{extends}\"\n", MINIMAL.replace("mini", "bp")),
        );
        let err = load(&Source::Disk(dir.path().join("bps")), "bp").unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::BLUEPRINT, "{extends}");
        let Error::Diagnostic(d) = err else {
            panic!("{extends}: {err}")
        };
        assert!(d.message.starts_with("blueprint.extends"), "{}", d.message);
        assert_eq!(d.position.map(|p| p.line), Some(5), "{extends}");
    }
}

#[test]
fn conditions_are_parsed_at_load_and_point_into_the_manifest() {
    let vars = "[[variables]]\nname = \"db\"\ntype = \"string\"\ndefault = \"x\"\n\n[[variables]]\nname = \"key\"\ntype = \"string\"\nsecret = true\n";
    for (when, message, pointed) in [
        ("db ==", "Value expected", "db =="),
        (
            "db == 'a' and other",
            "'other', which is not a variable",
            "other",
        ),
        ("key", "a secret variable", "key"),
        ("db %}{% endif %}{% if db", "markup", "%}"),
        (" ", "is empty", ""),
    ] {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "c/blueprint.toml",
            &format!(
                "{}{vars}\n[[notes]]\nwhen = \"{when}\"\ntext = \"t\"\n",
                MINIMAL.replace("mini", "c")
            ),
        );
        let err = load(&Source::Disk(dir.path().to_path_buf()), "c").unwrap_err();
        let Error::Diagnostic(d) = err else {
            panic!("{when}: {err}")
        };
        assert!(d.message.contains(message), "{when}: {}", d.message);
        let p = d.position.expect("a position");
        assert_eq!(p.line, 16, "{when}");
        assert_eq!(&p.text[p.span], pointed, "{when}");
    }
}

#[test]
fn variables_cannot_take_names_templates_read_otherwise() {
    for name in ["python", "dev_requirements", "nil", "forloop"] {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "c/blueprint.toml",
            &format!(
                "{}[[variables]]\nname = \"{name}\"\ntype = \"string\"\n",
                MINIMAL.replace("mini", "c")
            ),
        );
        let err = load(&Source::Disk(dir.path().to_path_buf()), "c")
            .unwrap_err()
            .to_string();
        assert!(err.contains(&format!("variable '{name}'")), "{err}");
    }
}

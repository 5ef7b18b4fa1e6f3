//! Collecting answers: the scripted prompt, and every problem at once without one.

use super::*;
use crate::blueprint::{self, Source, DEFAULT_BLUEPRINT};

fn default_blueprint() -> (Blueprint, Engine) {
    let bp = blueprint::load(&Source::Embedded, DEFAULT_BLUEPRINT).unwrap();
    let engine = Engine::new(&bp.partials, &bp.origin).unwrap();
    (bp, engine)
}

/// Answers prompts from a script and records what it was asked, with the default it was shown.
struct Scripted {
    replies: BTreeMap<&'static str, Value>,
    asked: Vec<(String, Option<Value>)>,
}

impl Prompter for Scripted {
    fn ask(&mut self, var: &Variable, default: Option<&Value>) -> Result<Value> {
        self.asked.push((var.name().to_owned(), default.cloned()));
        match self.replies.get(var.name()) {
            Some(v) => Ok(v.clone()),
            None => default
                .cloned()
                .ok_or_else(|| Error::Other(format!("no scripted reply for {}", var.name()))),
        }
    }
}

#[test]
fn the_prompt_is_asked_in_order_with_defaults_derived_from_earlier_answers() {
    let (bp, engine) = default_blueprint();
    let mut provided = Provided::default();
    provided.add_flags(&["port=8080".into()]);
    let mut script = Scripted {
        replies: BTreeMap::from([
            ("title", Value::String("Chat Bot API".into())),
            ("github_sync", Value::Bool(true)),
        ]),
        asked: Vec::new(),
    };
    let answers = collect(&bp, &engine, &provided, Some(&mut script)).unwrap();

    let asked: Vec<&str> = script.asked.iter().map(|(n, _)| n.as_str()).collect();
    let expected: Vec<&str> = bp
        .variables
        .iter()
        .map(Variable::name)
        .filter(|n| *n != "port")
        .collect();
    assert_eq!(
        asked, expected,
        "every variable but the given one, in order"
    );
    let slug_default = script.asked.iter().find(|(n, _)| n == "slug").unwrap();
    assert_eq!(slug_default.1, Some(Value::String("chat-bot-api".into())));
    assert_eq!(
        answers.get("slug"),
        Some(&Value::String("chat-bot-api".into()))
    );
    assert_eq!(answers.get("port"), Some(&Value::Integer(8080)));
    assert_eq!(answers.get("github_sync"), Some(&Value::Bool(true)));
}

#[test]
fn a_cancelled_prompt_stops_collection() {
    struct Cancel;
    impl Prompter for Cancel {
        fn ask(&mut self, var: &Variable, _: Option<&Value>) -> Result<Value> {
            Err(Error::input(Problem::new(
                About::Variable(var.name().to_owned()),
                "cancelled at the prompt",
            )))
        }
    }
    let (bp, engine) = default_blueprint();
    let err = collect(&bp, &engine, &Provided::default(), Some(&mut Cancel)).unwrap_err();
    assert_eq!(err.exit_code(), crate::error::exit::USAGE);
}

#[test]
fn without_a_prompt_every_problem_is_reported_at_once() {
    let (bp, engine) = default_blueprint();
    let mut provided = Provided::default();
    provided.add_flags(&[
        "port=80".into(),
        "color_from=orange".into(),
        "nope=1".into(),
        "bad".into(),
    ]);
    let Err(Error::Input(problems)) = collect(&bp, &engine, &provided, None) else {
        panic!("invalid values were accepted");
    };
    assert_eq!(
        abouts(&problems),
        vec!["malformed bad", "flag nope", "flag color_from", "flag port"]
    );
}

#[test]
fn a_derived_default_that_fails_validation_asks_for_a_value() {
    let (bp, engine) = default_blueprint();
    let mut provided = Provided::default();
    provided.add_flags(&["title=!!!".into()]);
    let Err(Error::Input(problems)) = collect(&bp, &engine, &provided, None) else {
        panic!("an empty slug was accepted");
    };
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].about, About::Variable("slug".into()));
    assert_eq!(problems[0].fix, Some(Fix::GiveValue("slug".into())));
}

#[test]
fn secrets_are_collected_but_never_public() {
    let (mut bp, engine) = default_blueprint();
    let wire: crate::blueprint::variable::VariableWire =
        toml::from_str("name = \"token\"\ntype = \"string\"\nsecret = true\n").unwrap();
    bp.variables.push(Variable::new(wire).unwrap());
    let mut provided = Provided::default();
    provided.add_flags(&["token=s3cr3t".into()]);
    let answers = collect(&bp, &engine, &provided, None).unwrap();
    assert_eq!(answers.get("token"), Some(&Value::String("s3cr3t".into())));
    assert!(answers.public().all(|(n, _)| n != "token"));
}

#[test]
fn an_invalid_value_does_not_hide_a_missing_one_nor_break_a_default_derived_from_it() {
    let (mut bp, engine) = default_blueprint();
    let wire: crate::blueprint::variable::VariableWire =
        toml::from_str("name = \"owner\"\ntype = \"string\"\n").unwrap();
    bp.variables.push(Variable::new(wire).unwrap());
    let mut provided = Provided::default();
    // `slug` derives from `title`: with `title` invalid it is not computed, nor reported.
    provided.add_flags(&["title=".into(), "port=abc".into()]);
    let Err(Error::Input(problems)) = collect(&bp, &engine, &provided, None) else {
        panic!("invalid values were accepted");
    };
    assert_eq!(
        abouts(&problems),
        vec!["flag title", "flag port", "missing owner"]
    );
}

/// What each problem is about, in words a test can compare.
fn abouts(problems: &[crate::error::Problem]) -> Vec<String> {
    problems
        .iter()
        .map(|p| match &p.about {
            About::Flag { name, .. } => format!("flag {name}"),
            About::MalformedFlag(raw) => format!("malformed {raw}"),
            About::Variable(name) => format!("missing {name}"),
            other => format!("{other:?}"),
        })
        .collect()
}

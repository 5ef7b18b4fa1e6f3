//! Blueprint variables: their types, values, parsing and validation.

use std::fmt;

use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

/// The type of a variable, as written in `blueprint.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum VarType {
    String,
    Bool,
    Integer,
    Choice,
    List,
}

impl fmt::Display for VarType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VarType::String => "string",
            VarType::Bool => "bool",
            VarType::Integer => "integer",
            VarType::Choice => "choice",
            VarType::List => "list",
        })
    }
}

/// Validation rules of a variable, all optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Validation {
    pub regex: Option<String>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub choices: Option<Vec<String>>,
}

impl Validation {
    /// The rules in words, for listings: `one of a, b`, `matches re`, `length ≥ n`, `1..=9`.
    pub fn describe(&self) -> Vec<String> {
        let mut rules = Vec::new();
        if let Some(c) = &self.choices {
            rules.push(format!("one of {}", c.join(", ")));
        }
        if let Some(r) = &self.regex {
            rules.push(format!("matches {r}"));
        }
        if let Some(n) = self.min_length {
            rules.push(format!("length ≥ {n}"));
        }
        if let Some(n) = self.max_length {
            rules.push(format!("length ≤ {n}"));
        }
        match (self.min, self.max) {
            (Some(a), Some(b)) => rules.push(format!("{a}..={b}")),
            (Some(a), None) => rules.push(format!("≥ {a}")),
            (None, Some(b)) => rules.push(format!("≤ {b}")),
            (None, None) => {}
        }
        rules
    }
}

/// A variable as written in `blueprint.toml`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct VariableWire {
    #[cfg_attr(test, schemars(with = "String"))]
    pub name: Spanned<String>,
    #[serde(rename = "type")]
    pub ty: VarType,
    pub prompt: Option<String>,
    pub help: Option<String>,
    /// A string (a liquid template when it holds `{{` or `{%`), a boolean, an integer or a
    /// list of strings, matching `type`.
    #[cfg_attr(test, schemars(schema_with = "default_schema"))]
    pub default: Option<toml::Value>,
    #[serde(default)]
    pub secret: bool,
    #[serde(default)]
    pub validate: Validation,
}

/// The values `default` may take, as JSON Schema.
#[cfg(test)]
fn default_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "anyOf": [
            { "type": "string" },
            { "type": "boolean" },
            { "type": "integer" },
            { "type": "array", "items": { "type": "string" } }
        ]
    })
}

/// A value given to a variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    String(String),
    Bool(bool),
    Integer(i64),
    List(Vec<String>),
}

impl From<&Value> for crate::template::context::ContextValue {
    fn from(value: &Value) -> Self {
        match value {
            Value::String(s) => s.as_str().into(),
            Value::Bool(b) => (*b).into(),
            Value::Integer(i) => (*i).into(),
            Value::List(items) => items.as_slice().into(),
        }
    }
}

impl Value {
    /// The value as TOML, for answer files.
    pub fn to_toml(&self) -> toml::Value {
        match self {
            Value::String(s) => toml::Value::String(s.clone()),
            Value::Bool(b) => toml::Value::Boolean(*b),
            Value::Integer(i) => toml::Value::Integer(*i),
            Value::List(items) => {
                toml::Value::Array(items.iter().cloned().map(toml::Value::String).collect())
            }
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::String(s) => f.write_str(s),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Integer(i) => write!(f, "{i}"),
            Value::List(items) => f.write_str(&items.join(", ")),
        }
    }
}

/// A checked variable.
#[derive(Debug, Clone)]
pub struct Variable {
    pub name: String,
    pub ty: VarType,
    /// The question asked at a prompt; the name when there is none.
    pub prompt: Option<String>,
    pub help: Option<String>,
    pub default: DefaultSpec,
    /// Never written to a file, never readable by a template.
    pub secret: bool,
    pub validation: Validation,
    regex: Option<Regex>,
}

/// A variable's default, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefaultSpec {
    /// No default: the value must be given.
    None,
    /// A string template over earlier variables, rendered before it is parsed.
    Template(String),
    /// A ready value.
    Value(Value),
}

impl Variable {
    /// Checks a definition: name, type-specific rules, regex, default type. The message says
    /// what is wrong; the caller knows where the definition is.
    pub(crate) fn new(wire: VariableWire) -> Result<Self, String> {
        let name = wire.name.into_inner();
        let valid_name = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid_name {
            return Err(format!(
                "variable name '{name}' must start with a lowercase letter and hold only a-z, 0-9 and '_'"
            ));
        }
        let v = &wire.validate;
        let regex = match &v.regex {
            Some(re) => Some(
                Regex::new(&format!("^(?:{re})$"))
                    .map_err(|e| format!("variable '{name}': invalid regex: {e}"))?,
            ),
            None => None,
        };
        match wire.ty {
            VarType::Choice => match &v.choices {
                Some(c) if !c.is_empty() => {}
                _ => {
                    return Err(format!(
                        "variable '{name}': type \"choice\" needs validate.choices"
                    ))
                }
            },
            _ if v.choices.is_some() => {
                return Err(format!(
                    "variable '{name}': validate.choices is only for type \"choice\""
                ))
            }
            _ => {}
        }
        if wire.ty != VarType::Integer && (v.min.is_some() || v.max.is_some()) {
            return Err(format!(
                "variable '{name}': validate.min/max are only for type \"integer\""
            ));
        }
        let mut var = Variable {
            name,
            ty: wire.ty,
            prompt: wire.prompt,
            help: wire.help,
            default: DefaultSpec::None,
            secret: wire.secret,
            validation: wire.validate,
            regex,
        };
        var.default = match wire.default {
            None => DefaultSpec::None,
            // String defaults (and choice defaults) that contain liquid are templates.
            Some(toml::Value::String(s)) if s.contains("{{") || s.contains("{%") => {
                DefaultSpec::Template(s)
            }
            Some(raw) => {
                let value = var
                    .parse_toml(&raw)
                    .and_then(|value| var.validate(&value).map(|()| value))
                    .map_err(|e| format!("variable '{}': default {e}", var.name))?;
                DefaultSpec::Value(value)
            }
        };
        Ok(var)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Parses a value typed on the command line or at a prompt.
    pub fn parse_str(&self, raw: &str) -> Result<Value, String> {
        match self.ty {
            VarType::String | VarType::Choice => Ok(Value::String(line_feeds(raw))),
            VarType::Bool => match raw.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "y" | "1" | "on" => Ok(Value::Bool(true)),
                "false" | "no" | "n" | "0" | "off" => Ok(Value::Bool(false)),
                _ => Err(format!("expected true or false, got {}", self.shown(raw))),
            },
            VarType::Integer => raw
                .trim()
                .parse::<i64>()
                .map(Value::Integer)
                .map_err(|_| format!("expected a whole number, got {}", self.shown(raw))),
            VarType::List => Ok(Value::List(
                raw.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(line_feeds)
                    .collect(),
            )),
        }
    }

    /// Parses a value from an answers file or a default in `blueprint.toml`.
    pub fn parse_toml(&self, raw: &toml::Value) -> Result<Value, String> {
        use toml::Value as T;
        match (self.ty, raw) {
            (VarType::String | VarType::Choice, T::String(s)) => Ok(Value::String(line_feeds(s))),
            (VarType::Bool, T::Boolean(b)) => Ok(Value::Bool(*b)),
            (VarType::Integer, T::Integer(i)) => Ok(Value::Integer(*i)),
            (VarType::List, T::Array(items)) => items
                .iter()
                .map(|i| match i {
                    T::String(s) => Ok(line_feeds(s)),
                    other => Err(format!(
                        "expected a list of strings, found {}",
                        other.type_str()
                    )),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Value::List),
            (VarType::List, T::String(s)) => self.parse_str(s),
            (ty, other) => Err(format!("expected type {ty}, found {}", other.type_str())),
        }
    }

    /// Checks a value against the variable's validation rules. The message says what is wrong
    /// and what would be accepted.
    pub fn validate(&self, value: &Value) -> Result<(), String> {
        let v = &self.validation;
        match value {
            Value::String(s) => {
                if let Some(choices) = &v.choices {
                    if !choices.iter().any(|c| c == s) {
                        return Err(format!(
                            "{} is not one of: {}",
                            self.shown(s),
                            choices.join(", ")
                        ));
                    }
                }
                self.check_text(s, "")?;
                let n = s.chars().count();
                if let Some(min) = v.min_length {
                    if n < min {
                        return Err(format!(
                            "{} is {n} characters long; at least {min} needed",
                            self.shown(s)
                        ));
                    }
                }
                if let Some(max) = v.max_length {
                    if n > max {
                        return Err(format!(
                            "{} is {n} characters long; at most {max} allowed",
                            self.shown(s)
                        ));
                    }
                }
            }
            Value::Integer(i) => {
                if let Some(min) = v.min {
                    if *i < min {
                        let shown = if self.secret {
                            "the value".to_owned()
                        } else {
                            i.to_string()
                        };
                        return Err(format!("{shown} is below the minimum {min}"));
                    }
                }
                if let Some(max) = v.max {
                    if *i > max {
                        let shown = if self.secret {
                            "the value".to_owned()
                        } else {
                            i.to_string()
                        };
                        return Err(format!("{shown} is above the maximum {max}"));
                    }
                }
            }
            Value::List(items) => {
                for item in items {
                    self.check_text(item, "item ")?;
                }
                let n = items.len();
                if let Some(min) = v.min_length {
                    if n < min {
                        return Err(format!("has {n} items; at least {min} needed"));
                    }
                }
                if let Some(max) = v.max_length {
                    if n > max {
                        return Err(format!("has {n} items; at most {max} allowed"));
                    }
                }
            }
            Value::Bool(_) => {}
        }
        Ok(())
    }

    /// `s` as a message quotes it; a secret's value is never shown.
    fn shown(&self, s: &str) -> String {
        if self.secret {
            "the value".to_owned()
        } else {
            format!("{s:?}")
        }
    }

    fn check_text(&self, s: &str, what: &str) -> Result<(), String> {
        if let Some((at, c, kind)) = s
            .chars()
            .enumerate()
            .find_map(|(i, c)| forbidden(c).map(|kind| (i + 1, c, kind)))
        {
            let at = if self.secret {
                String::new()
            } else {
                format!(" at character {at}")
            };
            return Err(format!(
                "{what}holds U+{:04X} ({kind}){at}, which a project file cannot carry as it is; remove it (tabs and line breaks are fine)",
                c as u32
            ));
        }
        if let (Some(re), Some(pattern)) = (&self.regex, &self.validation.regex) {
            if !re.is_match(s) {
                let hint = self
                    .help
                    .as_deref()
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default();
                return Err(format!(
                    "{what}{} does not match {pattern}{hint}",
                    self.shown(s)
                ));
            }
        }
        Ok(())
    }
}

/// `s` with every CRLF line break written as LF, as every generated file writes it.
fn line_feeds(s: &str) -> String {
    s.replace("\r\n", "\n")
}

/// What `c` is, if a text value may not hold it: a control character other than tab and line
/// feed (YAML cannot hold one; a carriage return left after [`line_feeds`] is one without its
/// line feed, which files and the record would read differently), or a noncharacter (YAML
/// cannot hold U+FFFE or U+FFFF; none of them is text).
fn forbidden(c: char) -> Option<&'static str> {
    let code = c as u32;
    match c {
        '\t' | '\n' => None,
        '\r' => Some("a carriage return without a line feed"),
        _ if c.is_control() => Some("a control character"),
        _ if (0xFDD0..=0xFDEF).contains(&code) || code & 0xFFFE == 0xFFFE => {
            Some("a Unicode noncharacter")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(toml_src: &str) -> Result<Variable, String> {
        let wire: VariableWire = toml::from_str(toml_src).map_err(|e| e.to_string())?;
        Variable::new(wire)
    }

    #[test]
    fn string_validation_reports_length_and_regex() {
        let v = var(r#"name = "slug"
type = "string"
validate = { regex = "[a-z-]+", max_length = 5 }"#)
        .unwrap();
        assert!(v.validate(&Value::String("ab-c".into())).is_ok());
        let e = v.validate(&Value::String("Abc".into())).unwrap_err();
        assert!(e.contains("does not match [a-z-]+"), "{e}");
        let e = v.validate(&Value::String("abcdef".into())).unwrap_err();
        assert!(e.contains("at most 5"), "{e}");
    }

    #[test]
    fn regex_must_match_the_whole_value() {
        let v = var(r#"name = "x"
type = "string"
validate = { regex = "[a-z]+|[0-9]+" }"#)
        .unwrap();
        assert!(v.validate(&Value::String("abc1".into())).is_err());
        assert!(v.validate(&Value::String("123".into())).is_ok());
    }

    #[test]
    fn integers_parse_and_check_bounds() {
        let v = var(r#"name = "port"
type = "integer"
default = 7860
validate = { min = 1024, max = 65535 }"#)
        .unwrap();
        assert_eq!(v.parse_str(" 8080 ").unwrap(), Value::Integer(8080));
        assert!(v.parse_str("80a").unwrap_err().contains("whole number"));
        assert!(v
            .validate(&Value::Integer(80))
            .unwrap_err()
            .contains("minimum 1024"));
    }

    #[test]
    fn bools_accept_common_spellings() {
        let v = var("name = \"b\"\ntype = \"bool\"").unwrap();
        for (s, b) in [("yes", true), ("TRUE", true), ("0", false), ("off", false)] {
            assert_eq!(v.parse_str(s).unwrap(), Value::Bool(b));
        }
        assert!(v.parse_str("maybe").is_err());
    }

    #[test]
    fn lists_split_on_commas_and_validate_items() {
        let v = var(r#"name = "origins"
type = "list"
validate = { regex = "https?://[a-z.]+" }"#)
        .unwrap();
        let value = v.parse_str(" http://a.b , ,https://c.d").unwrap();
        assert_eq!(
            value,
            Value::List(vec!["http://a.b".into(), "https://c.d".into()])
        );
        let e = v
            .validate(&Value::List(vec!["ftp://x".into()]))
            .unwrap_err();
        assert!(e.starts_with("item \"ftp://x\""), "{e}");
    }

    #[test]
    fn choices_are_required_and_enforced() {
        assert!(var("name = \"c\"\ntype = \"choice\"")
            .unwrap_err()
            .contains("needs validate.choices"));
        let v = var(r#"name = "c"
type = "choice"
default = "red"
validate = { choices = ["red", "blue"] }"#)
        .unwrap();
        assert!(v
            .validate(&Value::String("teal".into()))
            .unwrap_err()
            .contains("red, blue"));
    }

    #[test]
    fn defaults_are_type_checked_and_validated() {
        let e = var("name = \"n\"\ntype = \"integer\"\ndefault = \"x\"").unwrap_err();
        assert!(e.contains("expected type integer, found string"), "{e}");
        let e = var(r#"name = "n"
type = "string"
default = "toolong"
validate = { max_length = 3 }"#)
        .unwrap_err();
        assert!(e.contains("default"), "{e}");
        let v = var("name = \"n\"\ntype = \"string\"\ndefault = \"{{ title | slug }}\"").unwrap();
        assert_eq!(
            v.default,
            DefaultSpec::Template("{{ title | slug }}".into())
        );
    }

    #[test]
    fn bad_names_and_regexes_are_refused() {
        assert!(var("name = \"Title\"\ntype = \"string\"")
            .unwrap_err()
            .contains("variable name"));
        let e = var("name = \"t\"\ntype = \"string\"\nvalidate = { regex = \"(\" }").unwrap_err();
        assert!(e.contains("invalid regex"), "{e}");
    }

    #[test]
    fn text_refuses_controls_lone_carriage_returns_and_noncharacters() {
        let v = var("name = \"t\"\ntype = \"string\"").unwrap();
        for (bad, code) in [
            ("a\u{0}", "U+0000"),
            ("a\u{1b}[31m", "U+001B"),
            ("a\u{7f}", "U+007F"),
            ("a\u{85}", "U+0085"),
            ("a\rb", "U+000D"),
            ("a\r", "U+000D"),
            ("\u{fdd0}", "U+FDD0"),
            ("\u{fffe}", "U+FFFE"),
            ("\u{ffff}", "U+FFFF"),
            ("\u{10fffe}", "U+10FFFE"),
        ] {
            let value = v.parse_str(bad).unwrap();
            let e = v.validate(&value).unwrap_err();
            assert!(e.contains(code), "{bad:?}: {e}");
            assert!(!e.contains(bad), "{bad:?} echoed: {e}");
        }
        for good in [
            "tab\there",
            "two\nlines",
            "ünï 🚀 \u{2028}\u{feff}",
            "\u{fffd}",
        ] {
            assert!(v.validate(&v.parse_str(good).unwrap()).is_ok(), "{good:?}");
        }
        let list = var("name = \"l\"\ntype = \"list\"").unwrap();
        let e = list
            .validate(&list.parse_str("a, b\u{1}").unwrap())
            .unwrap_err();
        assert!(e.starts_with("item holds U+0001"), "{e}");
    }

    #[test]
    fn crlf_line_breaks_are_read_as_lf_from_every_source() {
        let v = var("name = \"t\"\ntype = \"string\"").unwrap();
        let want = Value::String("a\nb\n".into());
        assert_eq!(v.parse_str("a\r\nb\r\n").unwrap(), want);
        assert_eq!(
            v.parse_toml(&toml::Value::String("a\r\nb\r\n".into()))
                .unwrap(),
            want
        );
        let list = var("name = \"l\"\ntype = \"list\"").unwrap();
        let items = toml::Value::Array(vec![toml::Value::String("x\r\ny".into())]);
        assert_eq!(
            list.parse_toml(&items).unwrap(),
            Value::List(vec!["x\ny".into()])
        );
    }

    #[test]
    fn a_secret_is_not_located_either() {
        let v = var("name = \"t\"\ntype = \"string\"\nsecret = true").unwrap();
        let e = v.validate(&Value::String("ab\u{7}".into())).unwrap_err();
        assert!(e.contains("U+0007") && !e.contains("character 3"), "{e}");
    }
}

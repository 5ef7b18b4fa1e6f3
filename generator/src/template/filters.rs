//! Liquid filters the templates use: case conversions and escaping for target languages.
//!
//! Each escaping filter turns any string a user can type (quotes, backslashes, newlines,
//! control characters, `"""`, `{{ }}`, any unicode) into a literal that the target language
//! parses back to the same string.

use heck::{ToKebabCase, ToPascalCase, ToSnakeCase};
use liquid_core::{
    Display_filter, Filter, FilterReflection, ParseFilter, Result, Runtime, Value, ValueView,
};

/// A double-quoted literal with backslash escapes, valid both as a Python string literal and
/// as a YAML double-quoted scalar: quotes and backslashes escaped, every control character,
/// line separator, byte-order mark and noncharacter of the first plane (YAML cannot hold
/// U+FFFE or U+FFFF) written as `\uXXXX`, all else (any unicode) kept.
fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control()
                || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}')
                || matches!(c, '\u{fdd0}'..='\u{fdef}' | '\u{fffe}' | '\u{ffff}') =>
            {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A Python string literal.
pub(crate) fn py_str(s: &str) -> String {
    double_quoted(s)
}

/// A TOML basic string.
pub(crate) fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// A YAML double-quoted scalar that reads back as exactly `s`.
pub(crate) fn yaml_str(s: &str) -> String {
    double_quoted(s)
}

/// A `.env` value that python-dotenv (and so pydantic-settings) reads back as `s`. Written as
/// it is whenever that is unambiguous, so the same text pasted into a form that takes values
/// literally (a Space's Variables, `docker run --env-file`) means the same; single-quoted
/// otherwise (leading or trailing spaces, ` #`, a leading quote or `#`, control characters).
/// Inside single quotes nothing is expanded, and only `\\` and `\'` are decoded; a newline stays
/// a newline.
pub(crate) fn dotenv_str(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let comment = chars
        .windows(2)
        .any(|w| w[0].is_whitespace() && w[1] == '#');
    let plain = s.trim() == s
        && !s.starts_with(['\'', '"', '#'])
        && !comment
        && !s.chars().any(char::is_control);
    if plain {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// An origin as browsers serialise it in the `Origin` header: `scheme://host[:port]`, scheme
/// and host lowercase (a Unicode host in its `xn--` form), the default port left out, no path.
/// A value that is not a URL is returned as it is (variables validate their input).
pub(crate) fn origin(s: &str) -> String {
    match url::Url::parse(s.trim()) {
        Ok(u) if u.has_host() => u.origin().ascii_serialization(),
        _ => s.to_owned(),
    }
}

/// `owner/name` → the Space's host, the way Hugging Face derives the subdomain.
pub(crate) fn hf_host(s: &str) -> String {
    let sub: String = s
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if matches!(c, '/' | '.' | '_') { '-' } else { c })
        .collect();
    format!("{sub}.hf.space")
}

/// Defines a liquid filter from a `fn(&str) -> String`.
macro_rules! string_filter {
    ($parser:ident, $filter:ident, $name:literal, $desc:literal, $func:expr) => {
        #[derive(Clone, ParseFilter, FilterReflection)]
        #[filter(name = $name, description = $desc, parsed($filter))]
        pub(crate) struct $parser;

        #[derive(Debug, Default, Display_filter)]
        #[name = $name]
        struct $filter;

        impl Filter for $filter {
            fn evaluate(&self, input: &dyn ValueView, _runtime: &dyn Runtime) -> Result<Value> {
                let f: fn(&str) -> String = $func;
                Ok(Value::scalar(f(input.to_kstr().as_str())))
            }
        }
    };
}

string_filter!(
    Slug,
    SlugFilter,
    "slug",
    "ASCII slug: lowercase words joined by '-'.",
    |s| { slug::slugify(s) }
);
string_filter!(Snake, SnakeFilter, "snake", "snake_case.", |s| s
    .to_snake_case());
string_filter!(Kebab, KebabFilter, "kebab", "kebab-case.", |s| s
    .to_kebab_case());
string_filter!(Pascal, PascalFilter, "pascal", "PascalCase.", |s| s
    .to_pascal_case());
string_filter!(
    PyStr,
    PyStrFilter,
    "py_str",
    "A Python string literal.",
    py_str
);
string_filter!(
    TomlStr,
    TomlStrFilter,
    "toml_str",
    "A TOML basic string.",
    toml_str
);
string_filter!(
    YamlStr,
    YamlStrFilter,
    "yaml_str",
    "A YAML double-quoted scalar.",
    yaml_str
);
string_filter!(
    DotenvStr,
    DotenvFilter,
    "dotenv",
    "A single-quoted .env value.",
    dotenv_str
);
string_filter!(
    Origin,
    OriginFilter,
    "origin",
    "An origin as browsers send it.",
    origin
);
string_filter!(
    HfHost,
    HfHostFilter,
    "hf_host",
    "owner/name to the Space host.",
    hf_host
);

/// `json`: any value (string, number, bool, array) as JSON.
#[derive(Clone, ParseFilter, FilterReflection)]
#[filter(name = "json", description = "The value as JSON.", parsed(JsonFilter))]
pub(crate) struct Json;

#[derive(Debug, Default, Display_filter)]
#[name = "json"]
struct JsonFilter;

impl Filter for JsonFilter {
    fn evaluate(&self, input: &dyn ValueView, _runtime: &dyn Runtime) -> Result<Value> {
        let json = serde_json::to_string(&input.to_value())
            .map_err(|e| liquid_core::Error::with_msg(format!("json: {e}")))?;
        Ok(Value::scalar(json))
    }
}

/// Registers every filter on a parser builder.
pub(crate) fn register<P: liquid::partials::PartialCompiler>(
    builder: liquid::ParserBuilder<P>,
) -> liquid::ParserBuilder<P> {
    use super::sizes::Bounded;
    use liquid_lib::stdlib as std_;
    // liquid's own filters that can make a value larger than their input, weighed (the others
    // only keep or shrink what they are given).
    builder
        .filter(Bounded(std_::Append))
        .filter(Bounded(std_::Prepend))
        .filter(Bounded(std_::Replace))
        .filter(Bounded(std_::ReplaceFirst))
        .filter(Bounded(std_::Split))
        .filter(Bounded(std_::Join))
        .filter(Bounded(std_::Concat))
        .filter(Bounded(std_::Escape))
        .filter(Bounded(std_::EscapeOnce))
        .filter(Bounded(std_::NewlineToBr))
        .filter(Bounded(std_::UrlEncode))
        .filter(Bounded(std_::Truncate))
        .filter(Bounded(std_::TruncateWords))
        .filter(Bounded(std_::Date))
        .filter(Bounded(std_::Upcase))
        .filter(Bounded(std_::Downcase))
        .filter(Bounded(std_::Capitalize))
        .filter(Bounded(std_::Default))
        .filter(Bounded(Slug))
        .filter(Bounded(Snake))
        .filter(Bounded(Kebab))
        .filter(Bounded(Pascal))
        .filter(Bounded(PyStr))
        .filter(Bounded(TomlStr))
        .filter(Bounded(YamlStr))
        .filter(Bounded(DotenvStr))
        .filter(Bounded(HfHost))
        .filter(Bounded(Origin))
        .filter(Bounded(Json))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JSON string. JSON is also a valid YAML double-quoted scalar, except that YAML folds
    /// some characters JSON leaves raw; `yaml_str` handles those.
    fn json_str(s: &str) -> String {
        serde_json::Value::String(s.to_owned()).to_string()
    }

    const HOSTILE: &str =
        "He said \"hi\" \\ '''\"\"\"\n{{ x }} {% raw %} ünï 🚀\t\r\u{0}\u{2028}$HOME";

    #[test]
    fn py_str_escapes_everything_python_would_choke_on() {
        let lit = py_str(HOSTILE);
        assert!(lit.starts_with('"') && lit.ends_with('"'));
        assert!(!lit[1..lit.len() - 1].contains('\n'));
        assert!(lit.contains("\\\"\\\"\\\""));
        assert!(lit.contains("\\u0000") && lit.contains("\\u2028"));
        assert!(lit.contains("ünï 🚀"));
    }

    #[test]
    fn toml_str_round_trips() {
        let doc = format!("v = {}", toml_str(HOSTILE));
        let parsed: toml::Table = toml::from_str(&doc).unwrap();
        assert_eq!(parsed["v"].as_str(), Some(HOSTILE));
    }

    #[test]
    fn json_str_round_trips() {
        let parsed: String = serde_json::from_str(&json_str(HOSTILE)).unwrap();
        assert_eq!(parsed, HOSTILE);
    }

    #[test]
    fn yaml_str_is_single_line_json_compatible() {
        let s = yaml_str(HOSTILE);
        assert!(!s.contains('\n') && !s.contains('\u{2028}'));
        // Every escape used is also JSON's, so a JSON parser reads it back.
        let parsed: String = serde_json::from_str(&s).unwrap();
        assert_eq!(parsed, HOSTILE);
    }

    /// Characters a YAML stream cannot hold raw, or that some readers fold or drop.
    const UNPRINTABLE: &str = "a\u{7f}\u{85}\u{9c}\u{a0}\u{fdd0}\u{fffe}\u{ffff}\u{1fffe}\u{feff}b";

    #[test]
    fn yaml_str_round_trips_through_a_yaml_parser() {
        for s in [
            HOSTILE,
            UNPRINTABLE,
            "",
            " lead",
            "a: b # c",
            "- x",
            "\u{2029}",
        ] {
            let doc = format!("v: {}\n", yaml_str(s));
            let docs = yaml_rust2::YamlLoader::load_from_str(&doc)
                .unwrap_or_else(|e| panic!("{s:?}: {e}"));
            assert_eq!(docs[0]["v"].as_str(), Some(s), "{doc}");
        }
    }

    #[test]
    fn py_str_and_toml_str_escape_what_their_files_cannot_hold() {
        let lit = py_str(UNPRINTABLE);
        for escaped in [
            "\\u007f", "\\u0085", "\\u009c", "\\ufdd0", "\\ufffe", "\\uffff",
        ] {
            assert!(lit.contains(escaped), "{escaped} in {lit}");
        }
        let parsed: String = serde_json::from_str(&lit).unwrap();
        assert_eq!(parsed, UNPRINTABLE);
        let doc = format!("v = {}", toml_str(UNPRINTABLE));
        let parsed: toml::Table = toml::from_str(&doc).unwrap();
        assert_eq!(parsed["v"].as_str(), Some(UNPRINTABLE));
    }

    #[test]
    fn dotenv_quotes_every_control_character_and_keeps_line_breaks() {
        for s in ["a\tb", "a\nb", "a\u{85}b", "a\u{7f}"] {
            let v = dotenv_str(s);
            assert!(v.starts_with('\'') && v.ends_with('\''), "{s:?}: {v:?}");
            assert_eq!(&v[1..v.len() - 1], s);
        }
    }

    #[test]
    fn dotenv_writes_plain_values_as_they_are() {
        for plain in [
            "My Space API",
            "https://a-(git-[a-z0-9-]+|[a-z0-9]{9})-b\\.vercel\\.app",
            "a#b",
            "ünï 🚀 $5",
            "",
        ] {
            assert_eq!(dotenv_str(plain), plain);
        }
    }

    #[test]
    fn dotenv_quotes_what_would_be_read_otherwise() {
        assert_eq!(dotenv_str("a'b\\c $HOME \"d\""), "a'b\\c $HOME \"d\"");
        assert_eq!(dotenv_str(" lead"), "' lead'");
        assert_eq!(dotenv_str("x #not a comment"), "'x #not a comment'");
        assert_eq!(dotenv_str("'quoted'"), "'\\'quoted\\''");
        assert_eq!(dotenv_str("#hash"), "'#hash'");
        assert_eq!(dotenv_str("two\nlines \\"), "'two\nlines \\\\'");
    }

    #[test]
    fn origins_are_serialised_as_browsers_send_them() {
        for (raw, want) in [
            ("HTTPS://My-App.Vercel.app/", "https://my-app.vercel.app"),
            (
                "https://app.example.com:443/path?q",
                "https://app.example.com",
            ),
            ("http://localhost:80", "http://localhost"),
            ("http://localhost:3000", "http://localhost:3000"),
            ("https://bücher.example", "https://xn--bcher-kva.example"),
            ("not a url", "not a url"),
        ] {
            assert_eq!(origin(raw), want, "{raw}");
        }
    }

    #[test]
    fn hf_host_follows_the_subdomain_rules() {
        assert_eq!(
            hf_host("NimaBoscarino/hotdog-gradio"),
            "nimaboscarino-hotdog-gradio.hf.space"
        );
        assert_eq!(hf_host("jglowa/ai-gov.pl"), "jglowa-ai-gov-pl.hf.space");
        assert_eq!(hf_host("name/of_app"), "name-of-app.hf.space");
    }

    #[test]
    fn case_filters_render() {
        let parser = register(liquid::ParserBuilder::with_stdlib())
            .build()
            .unwrap();
        let t = parser
            .parse("{{ s | slug }}|{{ s | snake }}|{{ s | kebab }}|{{ s | pascal }}|{{ n | json }}")
            .unwrap();
        let globals = liquid::object!({ "s": "Ünï Space API!", "n": [1, "a"] });
        assert_eq!(
            t.render(&globals).unwrap(),
            "uni-space-api|ünï_space_api|ünï-space-api|ÜnïSpaceApi|[1,\"a\"]"
        );
    }
}

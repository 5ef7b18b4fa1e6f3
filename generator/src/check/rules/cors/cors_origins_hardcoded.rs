use super::{configs, Config};
use crate::check::finding::rule;
use crate::check::python::{Kind, Module, Value};
use crate::check::rules::{is_test, Facts};
use crate::check::Finding;

rule! {
    /// ## What it does
    /// Reports a `CORSMiddleware` whose `allow_origins` is a literal written in the code: a
    /// non-empty list of strings, `"*"`, or a name assigned such a literal (directly or through
    /// module-level names assigned once) that nothing extends with a value computed at run
    /// time.
    ///
    /// An origin that comes from configuration is not reported, even when a literal entry such
    /// as `http://localhost:3000` sits beside it, and neither is a field of a pydantic
    /// `BaseSettings` class: its default is only a fallback that an environment variable of
    /// the same name overrides (a wildcard default with `allow_credentials=True` is SG202's).
    /// Test code is not judged. This is a policy finding: a project that serves one fixed
    /// frontend may keep its list.
    ///
    /// ## Why it breaks a Space
    /// Which websites may call the API is a deployment decision: the frontend moves to another
    /// domain, a preview deployment or a second frontend appears, and the code has to change
    /// and the Space be rebuilt. A wildcard written in the code is the same choice, made for
    /// every deployment at once.
    ///
    /// ## Example
    /// ```python
    /// origins = ["https://app.example.com", "http://localhost:3000"]
    /// app.add_middleware(CORSMiddleware, allow_origins=origins)
    /// ```
    ///
    /// ## Fix
    /// Read the origins from configuration instead, and set them in the Space's settings:
    /// ```python
    /// origins = [o.strip() for o in os.environ.get("CORS_ORIGINS", "").split(",") if o.strip()]
    /// app.add_middleware(CORSMiddleware, allow_origins=origins)
    /// ```
    ///
    /// ## References
    /// - Hugging Face, Spaces secrets and variables: <https://huggingface.co/docs/hub/spaces-overview#managing-secrets>
    /// - pydantic-settings: <https://docs.pydantic.dev/latest/concepts/pydantic_settings/>
    /// - FastAPI, CORS: <https://fastapi.tiangolo.com/tutorial/cors/>
    pub(crate) static RULE = "SG221", "cors-origins-hardcoded", Info;
    why: "the allowed origins are written in the code: a new frontend address needs a code change and a rebuild instead of a Space setting";
    fix: "read the origins from configuration: a settings field or `os.environ.get(\"CORS_ORIGINS\", \"\").split(\",\")`, set in the Space's variables";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    for config in configs(facts).filter(|c| !is_test(c.file)) {
        if let Some(value) = hardcoded_origins(&config) {
            findings.push(
                Finding::new(
                    &RULE,
                    config.file,
                    value.place.line,
                    "allow_origins is written in the code, not read from configuration",
                )
                .at_column(value.place.column),
            );
        }
    }
}

/// The literal `allow_origins` stands for, when every origin it holds is written in the code:
/// a string, or a non-empty list of strings (directly or through module-level names assigned
/// once), that nothing extends with a value computed at run time.
fn hardcoded_origins<'a>(config: &Config<'a>) -> Option<&'a Value> {
    let module = config.module;
    let written = config.call.keyword("allow_origins")?;
    let value = module.resolve(written);
    let literal = match &value.kind {
        Kind::Str(_) => true,
        Kind::Seq(items) => {
            !items.is_empty()
                && items
                    .iter()
                    .all(|item| module.literal(item).and_then(Value::as_str).is_some())
        }
        _ => false,
    };
    if !literal {
        return None;
    }
    if let Kind::Name(name) = &written.kind {
        let computed = config.additions(name).any(|added| {
            !matches!(&added.kind, Kind::Str(_) | Kind::Seq(_)) || !all_literal(module, added)
        });
        if computed {
            return None;
        }
    }
    Some(value)
}

/// Whether `value` is a string literal, or a sequence of them.
fn all_literal(module: &Module, value: &Value) -> bool {
    match &value.kind {
        Kind::Seq(items) => items
            .iter()
            .all(|item| module.literal(item).and_then(Value::as_str).is_some()),
        _ => module.literal(value).and_then(Value::as_str).is_some(),
    }
}

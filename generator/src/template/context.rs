//! What templates see: the blueprint's name and version, spacegen's version, the answers that
//! may be written down, the target Python and the pinned requirements. Built by the stage that
//! has them; the engine only reads it.

use liquid::model::{Object, Value as L};

/// Every name the context holds besides the answers: `spacegen`, `blueprint` ([`Context::base`])
/// and `python`, `requirements`, `dev_requirements` ([`Context::insert_packages`]). A variable
/// may not take one of them.
pub(crate) const NAMES: &[&str] = &[
    "spacegen",
    "blueprint",
    "python",
    "requirements",
    "dev_requirements",
];

/// The names a template can read, with their values.
#[derive(Debug, Clone, Default)]
pub(crate) struct Context {
    /// Shared: every render reads it, none copies it.
    globals: std::sync::Arc<Object>,
}

/// A package pinned for generation, as the requirement templates see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pin {
    pub name: String,
    pub version: String,
    /// The requirement entry: `uvicorn[standard]==0.54.0`, with `--hash` lines when the lock
    /// has the artifact.
    pub line: String,
}

/// What templates read as `python`: the target and supported versions, and the claims of the
/// locked set in words.
#[derive(Debug, Clone, Default)]
pub(crate) struct PythonFacts {
    pub version: String,
    pub requires: String,
    pub resolved_for: String,
    pub verified_on: String,
    /// The locked set as a PEP 751 `pylock.toml` body ([`crate::lock::pylock`]).
    pub pylock: String,
}

/// A commented block of a requirements file: a group of the blueprint, or the transitive
/// packages, with their pins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PinnedGroup {
    pub name: String,
    pub comment: String,
    pub pins: Vec<Pin>,
}

impl Context {
    /// A context with no names.
    pub(crate) fn empty() -> Context {
        Context::default()
    }

    /// What every template of a blueprint sees besides the answers: `spacegen.version`,
    /// `blueprint.name` and `blueprint.version`.
    pub(crate) fn base(name: &str, version: &str) -> Context {
        let mut c = Context::empty();
        std::sync::Arc::make_mut(&mut c.globals).insert(
            "spacegen".into(),
            L::Object(object([("version", env!("CARGO_PKG_VERSION").to_owned())])),
        );
        std::sync::Arc::make_mut(&mut c.globals).insert(
            "blueprint".into(),
            L::Object(object([
                ("name", name.to_owned()),
                ("version", version.to_owned()),
            ])),
        );
        c
    }

    /// Adds (or replaces) one name.
    #[cfg(test)]
    pub(crate) fn with(mut self, name: &str, value: impl Into<ContextValue>) -> Context {
        std::sync::Arc::make_mut(&mut self.globals).insert(name.to_owned().into(), value.into().0);
        self
    }

    /// Adds answers.
    pub(crate) fn insert_answers<'a, V: Into<ContextValue>>(
        &mut self,
        answers: impl Iterator<Item = (&'a str, V)>,
    ) {
        for (name, value) in answers {
            std::sync::Arc::make_mut(&mut self.globals)
                .insert(name.to_owned().into(), value.into().0);
        }
    }

    /// Adds `python.version` (the oldest supported minor version), `python.requires` (the
    /// supported versions, `>=3.11`), what the set may claim (`python.resolved_for`,
    /// `python.verified_on`: [`crate::lock::claims`]), the set as PEP 751 (`python.pylock`) and
    /// the pinned
    /// `requirements` and `dev_requirements`.
    pub(crate) fn insert_packages(
        &mut self,
        python: &PythonFacts,
        runtime: &[PinnedGroup],
        dev: &[PinnedGroup],
    ) {
        std::sync::Arc::make_mut(&mut self.globals).insert(
            "python".into(),
            L::Object(object([
                ("version", python.version.clone()),
                ("requires", python.requires.clone()),
                ("resolved_for", python.resolved_for.clone()),
                ("verified_on", python.verified_on.clone()),
                ("pylock", python.pylock.clone()),
            ])),
        );
        std::sync::Arc::make_mut(&mut self.globals)
            .insert("requirements".into(), groups_value(runtime));
        std::sync::Arc::make_mut(&mut self.globals)
            .insert("dev_requirements".into(), groups_value(dev));
    }

    /// Whether a template can read `name`.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.globals.contains_key(name)
    }

    #[cfg(test)]
    pub(crate) fn globals(&self) -> &Object {
        &self.globals
    }

    /// The names and values, shared (for a render on another thread).
    pub(crate) fn shared(&self) -> std::sync::Arc<Object> {
        std::sync::Arc::clone(&self.globals)
    }
}

/// A value a template reads: a string, a boolean, an integer or a list of strings.
pub(crate) struct ContextValue(L);

impl From<bool> for ContextValue {
    fn from(b: bool) -> Self {
        ContextValue(L::scalar(b))
    }
}

impl From<i64> for ContextValue {
    fn from(i: i64) -> Self {
        ContextValue(L::scalar(i))
    }
}

impl From<&str> for ContextValue {
    fn from(s: &str) -> Self {
        ContextValue(L::scalar(s.to_owned()))
    }
}

impl From<&[String]> for ContextValue {
    fn from(items: &[String]) -> Self {
        ContextValue(L::Array(
            items.iter().map(|s| L::scalar(s.clone())).collect(),
        ))
    }
}

fn object<const N: usize>(pairs: [(&str, String); N]) -> Object {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned().into(), L::scalar(v)))
        .collect()
}

fn groups_value(groups: &[PinnedGroup]) -> L {
    L::Array(
        groups
            .iter()
            .map(|g| {
                let packages = g
                    .pins
                    .iter()
                    .map(|p| {
                        L::Object(object([
                            ("name", p.name.clone()),
                            ("version", p.version.clone()),
                            ("line", p.line.clone()),
                        ]))
                    })
                    .collect();
                let mut o = object([("name", g.name.clone()), ("comment", g.comment.clone())]);
                o.insert("packages".into(), L::Array(packages));
                L::Object(o)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blueprint::{self, Source, DEFAULT_BLUEPRINT};

    #[test]
    fn names_lists_every_name_the_context_holds_besides_the_answers() {
        let bp = blueprint::load(&Source::Embedded, DEFAULT_BLUEPRINT).unwrap();
        let mut c = Context::base(&bp.name, &bp.version.to_string());
        let python = PythonFacts {
            version: "3.11".into(),
            requires: ">=3.11".into(),
            ..PythonFacts::default()
        };
        c.insert_packages(&python, &[], &[]);
        let mut held: Vec<&str> = c.globals().keys().map(|k| k.as_str()).collect();
        let mut names = NAMES.to_vec();
        held.sort_unstable();
        names.sort_unstable();
        assert_eq!(held, names);
    }
}

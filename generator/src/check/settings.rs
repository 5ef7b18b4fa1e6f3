//! The settings data flow of a project's Python: which classes are pydantic settings (a
//! `BaseSettings` subclass, directly or through another class of the project, and the
//! `BaseModel` classes nested in them), their fields' defaults and their properties, which names
//! hold an instance (`settings = Settings()`, `settings = get_settings()` where the function
//! returns one), and so what value an expression such as `settings.cors.allowed_origins` or
//! `settings.origins.split(",")` takes when no environment variable overrides it. Only what
//! the files write is followed; anything computed is left out, and the walk is bounded.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};

use super::python::{Call, Class, Function, Kind, Module, Value};

/// How many steps (an attribute, a property, a nested class) one expression is followed
/// through, in all.
const MAX_STEPS: usize = 64;
/// How many steps all the expressions of one check are followed through together.
const MAX_TOTAL_STEPS: usize = 100_000;
/// How many comprehensions (`[o.strip() for o in …]`) one value is looked through.
const MAX_COMPREHENSIONS: usize = 4;
/// How many classes deep `class A(B)` chains are followed.
const MAX_DEPTH: usize = 16;

/// A literal default an expression falls back to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fallback {
    /// The file that writes the default.
    pub file: String,
    /// `Class.field`.
    pub field: String,
    pub value: Value,
}

/// A settings class: where it is, its fields' defaults and its properties.
#[derive(Debug)]
struct SettingsClass {
    file: String,
    /// The bases' last names.
    bases: Vec<String>,
    fields: BTreeMap<String, Option<Value>>,
    properties: BTreeMap<String, Property>,
}

/// What a property returns.
#[derive(Debug, Default)]
struct Property {
    /// `self.a.b` paths it returns (as `a.b`), a trailing `.split(…)` dropped.
    paths: Vec<String>,
    /// Settings classes it builds and returns, with the keywords passed.
    builds: Vec<(String, Vec<(String, Value)>)>,
    /// The fields it reads from `self`, when it returns something else (a local, a list).
    reads: Vec<String>,
}

/// The settings of a project.
#[derive(Debug, Default)]
pub(crate) struct Settings {
    classes: BTreeMap<String, SettingsClass>,
    /// Names that hold an instance, with its class.
    instances: BTreeMap<String, String>,
    /// The steps taken so far, up to [`MAX_TOTAL_STEPS`].
    spent: Cell<usize>,
}

/// Where the walk is: an instance of a class, with the fields its constructor was given.
struct At<'a> {
    class: &'a str,
    given: Vec<(String, Vec<Fallback>)>,
}

impl Settings {
    /// The settings of `modules`.
    pub(crate) fn of(modules: &[(&str, Module)]) -> Settings {
        let mut settings = Settings::default();
        let classes: Vec<(&str, &Class)> = modules
            .iter()
            .flat_map(|(file, m)| m.classes.iter().map(move |c| (*file, c)))
            .collect();
        let roots = extending(&classes, "BaseSettings");
        let models = extending(&classes, "BaseModel");
        for (file, module) in modules {
            let calls: Calls<'_> = module
                .calls
                .iter()
                .map(|c| ((c.place.line, c.place.column, c.name.as_str()), c))
                .collect();
            let mut properties: BTreeMap<&str, Vec<&Function>> = BTreeMap::new();
            for function in &module.functions {
                if let Some(class) = &function.class {
                    if function.decorators.iter().any(|d| d.ends_with("property")) {
                        properties.entry(class.as_str()).or_default().push(function);
                    }
                }
            }
            for class in &module.classes {
                if !roots.contains(&class.name) && !models.contains(&class.name) {
                    continue;
                }
                let fields = class
                    .fields
                    .iter()
                    .map(|f| (f.name.clone(), f.default.clone()))
                    .collect();
                let properties = properties
                    .get(class.name.as_str())
                    .into_iter()
                    .flatten()
                    .map(|f| (f.name.clone(), property(&calls, f)))
                    .collect();
                settings
                    .classes
                    .entry(class.name.clone())
                    .or_insert(SettingsClass {
                        file: (*file).to_owned(),
                        bases: class.bases.iter().map(|b| last(b).to_owned()).collect(),
                        fields,
                        properties,
                    });
            }
        }
        // Functions that return an instance of a settings class.
        let mut factories: BTreeMap<&str, &str> = BTreeMap::new();
        for (_, module) in modules {
            for function in module.functions.iter().filter(|f| f.class.is_none()) {
                for ret in &function.returns {
                    if let Kind::Call(callee) = &ret.kind {
                        let name = last(callee);
                        if roots.contains(name) {
                            factories.insert(function.name.as_str(), name);
                        }
                    }
                }
            }
        }
        let mut instances: BTreeMap<String, Option<String>> = BTreeMap::new();
        for (_, module) in modules {
            for assign in &module.assigns {
                let Kind::Call(callee) = &assign.value.kind else {
                    continue;
                };
                let name = last(callee);
                let class = if roots.contains(name) {
                    name
                } else if let Some(class) = factories.get(name) {
                    class
                } else {
                    continue;
                };
                let slot = instances.entry(assign.target.clone()).or_insert(None);
                match slot {
                    None => *slot = Some(class.to_owned()),
                    // One name holding instances of two classes is left out.
                    Some(seen) if seen != class => *slot = Some(String::new()),
                    Some(_) => {}
                }
            }
        }
        settings.instances = instances
            .into_iter()
            .filter_map(|(name, class)| class.filter(|c| !c.is_empty()).map(|c| (name, c)))
            .collect();
        settings
    }

    /// The literal defaults `value` falls back to in `module`: a dotted name whose head holds a
    /// settings instance (or `.split(…)` of one), followed through fields, nested settings and
    /// properties. Empty when the value is not read from settings.
    pub(crate) fn defaults(&self, module: &Module, value: &Value) -> Vec<Fallback> {
        self.defaults_within(module, value, MAX_COMPREHENSIONS)
    }

    /// [`Settings::defaults`], looking through at most `depth` comprehensions and names.
    fn defaults_within(&self, module: &Module, value: &Value, depth: usize) -> Vec<Fallback> {
        let value = module.resolve(value);
        if let Kind::Comp(inner) = &value.kind {
            return match depth.checked_sub(1) {
                Some(depth) => self.defaults_within(module, inner, depth),
                None => Vec::new(),
            };
        }
        let path = match &value.kind {
            Kind::Name(name) => name.as_str(),
            Kind::Call(callee) => match callee.rsplit_once('.') {
                Some((receiver, "split" | "rsplit" | "strip")) => receiver,
                _ => return Vec::new(),
            },
            _ => return Vec::new(),
        };
        let mut parts = path.split('.');
        let Some(head) = parts.next() else {
            return Vec::new();
        };
        let Some(class) = self.instance(module, head) else {
            return Vec::new();
        };
        let attrs: Vec<&str> = parts.collect();
        let at = At {
            class,
            given: Vec::new(),
        };
        self.walk(at, &attrs, &Cell::new(MAX_STEPS))
    }

    /// The class of the instance `name` holds in `module`: assigned there, or imported by that
    /// name from the project.
    fn instance(&self, module: &Module, name: &str) -> Option<&str> {
        let class = self.instances.get(name)?;
        let assigned = module.assigns.iter().any(|a| a.target == name);
        let imported = module
            .imports
            .iter()
            .any(|i| i.name.as_deref() == Some(name));
        (assigned || imported).then_some(class.as_str())
    }

    /// The defaults `attrs` read from `at` fall back to; `steps` is what is left of the budget.
    fn walk(&self, at: At<'_>, attrs: &[&str], steps: &Cell<usize>) -> Vec<Fallback> {
        let Some((attr, rest)) = attrs.split_first() else {
            return Vec::new();
        };
        if steps.get() == 0 || self.spent.get() >= MAX_TOTAL_STEPS {
            return Vec::new();
        }
        steps.set(steps.get() - 1);
        self.spent.set(self.spent.get() + 1);
        let Some((owner, class)) = self.owner(at.class, attr) else {
            return Vec::new();
        };
        if let Some(default) = class.fields.get(*attr) {
            if let Some((_, given)) = at.given.iter().find(|(f, _)| f == attr) {
                return if rest.is_empty() {
                    given.clone()
                } else {
                    Vec::new()
                };
            }
            let Some(default) = default else {
                return Vec::new();
            };
            if let Kind::Call(callee) = &default.kind {
                let nested = last(callee);
                if self.classes.contains_key(nested) {
                    let at = At {
                        class: nested,
                        given: Vec::new(),
                    };
                    return self.walk(at, rest, steps);
                }
            }
            if rest.is_empty() && matches!(default.kind, Kind::Str(_) | Kind::Seq(_)) {
                return vec![Fallback {
                    file: class.file.clone(),
                    field: format!("{owner}.{attr}"),
                    value: default.clone(),
                }];
            }
            return Vec::new();
        }
        let Some(property) = class.properties.get(*attr) else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for path in &property.paths {
            let mut attrs: Vec<&str> = path.split('.').collect();
            attrs.extend_from_slice(rest);
            let here = At {
                class: at.class,
                given: at.given.clone(),
            };
            found.extend(self.walk(here, &attrs, steps));
        }
        for (built, keywords) in &property.builds {
            let given = keywords
                .iter()
                .map(|(field, value)| (field.clone(), self.evaluate(&at, value, steps)))
                .collect();
            let next = At {
                class: built,
                given,
            };
            found.extend(self.walk(next, rest, steps));
        }
        if rest.is_empty() {
            for read in &property.reads {
                let here = At {
                    class: at.class,
                    given: at.given.clone(),
                };
                found.extend(self.walk(here, &[read.as_str()], steps));
            }
        }
        found
    }

    /// The class that declares `attr` (a field or a property) for an instance of `class`: the
    /// class itself or the nearest of its ancestors.
    fn owner<'s>(&'s self, class: &'s str, attr: &str) -> Option<(&'s str, &'s SettingsClass)> {
        let mut queue: Vec<&str> = vec![class];
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        while let Some(name) = queue.first().copied() {
            queue.remove(0);
            if !seen.insert(name) || seen.len() > MAX_DEPTH {
                continue;
            }
            let Some(found) = self.classes.get(name) else {
                continue;
            };
            if found.fields.contains_key(attr) || found.properties.contains_key(attr) {
                return Some((name, found));
            }
            queue.extend(found.bases.iter().map(String::as_str));
        }
        None
    }

    /// The defaults a value written in a method of `at`'s class stands for: a literal itself,
    /// `self.a.b` followed from `at`.
    fn evaluate(&self, at: &At<'_>, value: &Value, steps: &Cell<usize>) -> Vec<Fallback> {
        let Some(path) = self_path(value) else {
            return Vec::new();
        };
        let attrs: Vec<&str> = path.split('.').collect();
        let here = At {
            class: at.class,
            given: at.given.clone(),
        };
        self.walk(here, &attrs, steps)
    }
}

/// The names of the classes of `all` that extend `root` (by its last name), directly or
/// through other classes of `all`, up to [`MAX_DEPTH`] classes deep.
fn extending(all: &[(&str, &Class)], root: &str) -> BTreeSet<String> {
    let mut found: BTreeSet<String> = BTreeSet::new();
    for _ in 0..MAX_DEPTH {
        let more: Vec<String> = all
            .iter()
            .filter(|(_, c)| !found.contains(&c.name))
            .filter(|(_, c)| {
                c.bases.iter().any(|b| {
                    let b = last(b);
                    b == root || found.contains(b)
                })
            })
            .map(|(_, c)| c.name.clone())
            .collect();
        if more.is_empty() {
            break;
        }
        found.extend(more);
    }
    found
}

/// A module's calls, by place and callee.
type Calls<'a> = BTreeMap<(usize, usize, &'a str), &'a Call>;

/// What a property returns, from its `return` values.
fn property(calls: &Calls<'_>, function: &Function) -> Property {
    let mut property = Property::default();
    let mut other = false;
    for ret in &function.returns {
        if let Some(path) = self_path(ret) {
            property.paths.push(path.to_owned());
            continue;
        }
        if let Kind::Call(callee) = &ret.kind {
            let call = calls.get(&(ret.place.line, ret.place.column, callee.as_str()));
            if let Some(call) = call.filter(|c| c.args.is_empty() && !c.has_splat()) {
                let keywords = call
                    .keywords
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone()?, v.clone())))
                    .collect();
                property.builds.push((last(callee).to_owned(), keywords));
                continue;
            }
        }
        other = true;
    }
    if other {
        property.reads = function.self_reads.clone();
        property.reads.dedup();
    }
    property
}

/// `a.b` for a value `self.a.b` or `self.a.b.split(…)`.
fn self_path(value: &Value) -> Option<&str> {
    let path = match &value.kind {
        Kind::Name(name) => name.as_str(),
        Kind::Call(callee) => match callee.rsplit_once('.') {
            Some((receiver, "split" | "rsplit" | "strip")) => receiver,
            _ => return None,
        },
        _ => return None,
    };
    path.strip_prefix("self.")
}

/// The last segment of a dotted name.
fn last(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults(files: &[(&str, &str)], expr_line: usize) -> Vec<(String, String, String)> {
        let modules: Vec<(&str, Module)> = files
            .iter()
            .filter_map(|(f, t)| Module::parse(t).map(|m| (*f, m)))
            .collect();
        let settings = Settings::of(&modules);
        let mut out = Vec::new();
        for (_, module) in &modules {
            for call in module.calls.iter().filter(|c| c.place.line == expr_line) {
                if let Some(value) = call.keyword("allow_origins") {
                    for d in settings.defaults(module, module.resolve(value)) {
                        let text = match &d.value.kind {
                            Kind::Str(s) => s.clone(),
                            other => format!("{other:?}"),
                        };
                        out.push((d.file, d.field, text));
                    }
                }
            }
        }
        out
    }

    const CONFIG: &str = "from pydantic_settings import BaseSettings\n\
        from pydantic import BaseModel, Field\n\
        class Base(BaseSettings):\n    debug: bool = False\n\
        class Cors(BaseModel):\n    allowed_origins: str = 'https://a.example'\n\
        class Nested(BaseSettings):\n    raw: str = Field(default='https://b.example')\n\
        \n    @property\n    def origins(self):\n        items = [o.strip() for o in self.raw.split(',')]\n        return items\n\
        class App(Base):\n    cors_origins: str = '*'\n    cors: Cors = Cors()\n\
        \n    @property\n    def origin_list(self):\n        return self.cors_origins.split(',')\n\
        \n    @property\n    def nested(self):\n        return Nested(raw=self.cors_origins)\n\
        settings = App()\n";

    #[test]
    fn fields_nested_settings_and_properties_are_followed() {
        let main = "from app.config import settings\n\
            CORSMiddleware(a, allow_origins=settings.cors_origins.split(','))\n\
            CORSMiddleware(a, allow_origins=settings.origin_list)\n\
            CORSMiddleware(a, allow_origins=settings.cors.allowed_origins)\n\
            CORSMiddleware(a, allow_origins=settings.nested.origins)\n\
            CORSMiddleware(a, allow_origins=settings.debug)\n\
            CORSMiddleware(a, allow_origins=other.cors_origins)\n";
        let files = [("app/config.py", CONFIG), ("app/main.py", main)];
        let star = (
            "app/config.py".to_owned(),
            "App.cors_origins".to_owned(),
            "*".to_owned(),
        );
        assert_eq!(defaults(&files, 2), vec![star.clone()]);
        assert_eq!(defaults(&files, 3), vec![star.clone()]);
        assert_eq!(
            defaults(&files, 4),
            vec![(
                "app/config.py".to_owned(),
                "Cors.allowed_origins".to_owned(),
                "https://a.example".to_owned()
            )]
        );
        assert_eq!(defaults(&files, 5), vec![star]);
        assert_eq!(defaults(&files, 6), vec![]);
        assert_eq!(defaults(&files, 7), vec![]);
    }

    #[test]
    fn factories_and_local_instances_hold_settings() {
        let config = "class S(BaseSettings):\n    origins: list[str] = ['*']\n\
            @lru_cache\ndef get_settings():\n    return S()\n";
        let main = "from config import get_settings\n\
            def create():\n    settings = get_settings()\n    \
            CORSMiddleware(a, allow_origins=settings.origins)\n";
        let found = defaults(&[("config.py", config), ("main.py", main)], 4);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1, "S.origins");
    }

    #[test]
    fn inheritance_is_followed_and_cycles_end() {
        let config = "class A(B):\n    x: str = '*'\nclass B(A, BaseSettings):\n    y: str = '*'\n\
            \n    @property\n    def p(self):\n        return self.q\n\
            \n    @property\n    def q(self):\n        return self.p\n\
            settings = A()\n";
        let main = "from config import settings\nCORSMiddleware(a, allow_origins=settings.y)\n\
            CORSMiddleware(a, allow_origins=settings.p)\n";
        let files = [("config.py", config), ("main.py", main)];
        let found = defaults(&files, 2);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1, "B.y");
        assert_eq!(defaults(&files, 3), vec![]);
    }
}

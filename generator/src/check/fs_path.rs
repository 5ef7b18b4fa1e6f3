//! Where a Python expression points on the filesystem, as far as the source alone tells, and
//! the writes a module makes: `os.makedirs(p)`, `Path(p).mkdir()`, `open(p, "w")`,
//! `p.write_text(…)`, and a cache folder set with `os.environ["HF_HOME"] = p`. Paths are
//! followed through module-level names, `os.path.join`, `/`, `Path(…)`, `dirname`/`parent`
//! and `__file__`; anything else is [`Location::Unknown`], which no rule reports.

use std::collections::HashMap;

use ruff_python_ast::{Expr, ExprCall, Operator};

/// Where a path expression points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// Relative to the working directory: `data/app.db` (empty for the directory itself).
    Cwd(String),
    /// Relative to the folder of the module's own file (`__file__`): `data` (empty for it).
    ModuleDir(String),
    /// The module's own file.
    ModuleFile,
    /// An absolute path.
    Absolute(String),
    /// The system's temporary folder (world-writable).
    Temp,
    Unknown,
}

impl Location {
    /// `self` joined with a relative `part`; an absolute part replaces it.
    fn join(self, part: &str) -> Location {
        if part.starts_with('/') {
            return Location::Absolute(part.to_owned());
        }
        let part = part.trim_start_matches("./");
        let joined = |base: String| {
            if base.is_empty() {
                part.to_owned()
            } else if part.is_empty() {
                base
            } else {
                format!("{}/{part}", base.trim_end_matches('/'))
            }
        };
        match self {
            Location::Cwd(b) => Location::Cwd(joined(b)),
            Location::ModuleDir(b) => Location::ModuleDir(joined(b)),
            Location::Absolute(b) => Location::Absolute(joined(b)),
            Location::Temp => Location::Temp,
            Location::ModuleFile | Location::Unknown => Location::Unknown,
        }
    }

    /// The folder holding `self`.
    fn parent(self) -> Location {
        let up = |p: String| -> Option<String> {
            let p = p.trim_end_matches('/');
            if p.is_empty() || p == ".." || p.ends_with("/..") {
                return None;
            }
            Some(
                p.rsplit_once('/')
                    .map_or(String::new(), |(d, _)| d.to_owned()),
            )
        };
        match self {
            Location::ModuleFile => Location::ModuleDir(String::new()),
            Location::Cwd(p) => up(p).map_or(Location::Unknown, Location::Cwd),
            // Above the module's own folder: resolved against its place in the project.
            Location::ModuleDir(p) if p.is_empty() => Location::ModuleDir("..".into()),
            Location::ModuleDir(p) if p == ".." || p.ends_with("/..") => {
                Location::ModuleDir(format!("{p}/.."))
            }
            Location::ModuleDir(p) => up(p).map_or(Location::Unknown, Location::ModuleDir),
            Location::Absolute(p) if p.trim_end_matches('/').contains('/') => {
                let p = p.trim_end_matches('/');
                let d = p.rsplit_once('/').map_or("", |(d, _)| d);
                Location::Absolute(if d.is_empty() { "/".into() } else { d.into() })
            }
            Location::Temp => Location::Temp,
            _ => Location::Unknown,
        }
    }
}

/// What a write does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteKind {
    /// `os.makedirs`, `os.mkdir`, `Path.mkdir`: the folder itself is created.
    CreateFolder,
    /// `open(…, "w")`, `write_text`, `write_bytes`, `touch`.
    WriteFile,
    /// A cache folder (`HF_HOME`, `TRANSFORMERS_CACHE`, …) set for libraries that download
    /// into it.
    CacheFolder,
}

/// The variables that point libraries' download caches somewhere.
pub(crate) const CACHE_VARIABLES: &[&str] = &[
    "HF_HOME",
    "HF_HUB_CACHE",
    "HUGGINGFACE_HUB_CACHE",
    "TRANSFORMERS_CACHE",
    "SENTENCE_TRANSFORMERS_HOME",
    "TORCH_HOME",
    "XDG_CACHE_HOME",
];

/// The module-level names that hold a path, in the order they are assigned.
#[derive(Debug, Default)]
pub(crate) struct Paths {
    names: HashMap<String, Location>,
}

impl Paths {
    /// Records `name = value` at module level (a later assignment replaces an earlier one).
    pub(crate) fn assign(&mut self, name: &str, value: &Expr) {
        let location = self.eval(value);
        if location == Location::Unknown {
            self.names.remove(name);
        } else {
            self.names.insert(name.to_owned(), location);
        }
    }

    /// Where `expr` points.
    pub(crate) fn eval(&self, expr: &Expr) -> Location {
        self.eval_depth(expr, 0)
    }

    fn eval_depth(&self, expr: &Expr, depth: usize) -> Location {
        // Paths are short expressions; deeper ones are not followed.
        if depth > 16 {
            return Location::Unknown;
        }
        let eval = |e: &Expr| self.eval_depth(e, depth + 1);
        match expr {
            Expr::StringLiteral(s) => {
                let text = s.value.to_str();
                if text.starts_with('/') {
                    Location::Absolute(text.to_owned())
                } else if text.starts_with('~') || text.contains("://") {
                    Location::Unknown
                } else {
                    Location::Cwd(String::new()).join(text)
                }
            }
            Expr::Name(n) if n.id.as_str() == "__file__" => Location::ModuleFile,
            Expr::Name(n) => self
                .names
                .get(n.id.as_str())
                .cloned()
                .unwrap_or(Location::Unknown),
            Expr::Attribute(a) => match a.attr.as_str() {
                "parent" => eval(&a.value).parent(),
                _ => Location::Unknown,
            },
            Expr::BinOp(b) if b.op == Operator::Div => match literal(&b.right) {
                Some(part) => eval(&b.left).join(part),
                None => Location::Unknown,
            },
            Expr::Call(call) => self.eval_call(call, depth),
            _ => Location::Unknown,
        }
    }

    fn eval_call(&self, call: &ExprCall, depth: usize) -> Location {
        let eval = |e: &Expr| self.eval_depth(e, depth + 1);
        let args = &call.arguments.args;
        let name = callee(&call.func);
        match name.as_deref() {
            Some("os.path.abspath" | "os.path.realpath" | "os.path.normpath" | "str") => {
                args.first().map_or(Location::Unknown, eval)
            }
            Some("os.path.dirname") => args.first().map_or(Location::Unknown, |a| eval(a).parent()),
            Some("os.path.join" | "Path" | "pathlib.Path" | "PurePath") => {
                let Some(first) = args.first() else {
                    return if name.as_deref() == Some("os.path.join") {
                        Location::Unknown
                    } else {
                        Location::Cwd(String::new())
                    };
                };
                let mut location = eval(first);
                for part in &args[1..] {
                    match literal(part) {
                        Some(p) => location = location.join(p),
                        None => return Location::Unknown,
                    }
                }
                location
            }
            Some("os.getcwd" | "Path.cwd" | "pathlib.Path.cwd") => Location::Cwd(String::new()),
            Some("tempfile.gettempdir" | "tempfile.mkdtemp" | "gettempdir" | "mkdtemp") => {
                Location::Temp
            }
            _ => {
                // Methods on a path: `.resolve()`, `.absolute()`, `.joinpath("x")`.
                let Expr::Attribute(a) = &*call.func else {
                    return Location::Unknown;
                };
                match a.attr.as_str() {
                    "resolve" | "absolute" | "expanduser" => eval(&a.value),
                    "joinpath" => {
                        let mut location = eval(&a.value);
                        for part in args.iter() {
                            match literal(part) {
                                Some(p) => location = location.join(p),
                                None => return Location::Unknown,
                            }
                        }
                        location
                    }
                    _ => Location::Unknown,
                }
            }
        }
    }

    /// The write `call` makes, if it is one: (kind, target).
    pub(crate) fn write_of(&self, call: &ExprCall) -> Option<(WriteKind, Location)> {
        let args = &call.arguments.args;
        let keyword = |name: &str| {
            call.arguments
                .keywords
                .iter()
                .find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == name))
                .map(|k| &k.value)
        };
        let name = callee(&call.func);
        match name.as_deref() {
            Some("os.makedirs" | "os.mkdir") => {
                let target = args.first().or_else(|| keyword("name"))?;
                Some((WriteKind::CreateFolder, self.eval(target)))
            }
            Some("open" | "io.open" | "codecs.open" | "aiofiles.open") => {
                let target = args.first().or_else(|| keyword("file"))?;
                let mode = args.get(1).or_else(|| keyword("mode")).and_then(literal)?;
                mode.contains(['w', 'a', 'x', '+'])
                    .then(|| (WriteKind::WriteFile, self.eval(target)))
            }
            Some("os.environ.setdefault") => {
                let variable = args.first().and_then(literal)?;
                let value = args.get(1)?;
                CACHE_VARIABLES
                    .contains(&variable)
                    .then(|| (WriteKind::CacheFolder, self.eval(value)))
            }
            _ => {
                let Expr::Attribute(a) = &*call.func else {
                    return None;
                };
                let kind = match a.attr.as_str() {
                    "mkdir" => WriteKind::CreateFolder,
                    "write_text" | "write_bytes" | "touch" => WriteKind::WriteFile,
                    _ => return None,
                };
                let target = self.eval(&a.value);
                // `something.mkdir()` on what is not known to be a path is not a write we
                // can place.
                (target != Location::Unknown).then_some((kind, target))
            }
        }
    }
}

/// The cache variable an assignment target sets: `os.environ["HF_HOME"]`.
pub(crate) fn cache_variable(target: &Expr) -> Option<&'static str> {
    let Expr::Subscript(sub) = target else {
        return None;
    };
    if callee(&sub.value).as_deref() != Some("os.environ") {
        return None;
    }
    let key = literal(&sub.slice)?;
    CACHE_VARIABLES.iter().copied().find(|v| *v == key)
}

fn literal(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::StringLiteral(s) => Some(s.value.to_str()),
        _ => None,
    }
}

fn callee(expr: &Expr) -> Option<String> {
    ruff_python_ast::name::UnqualifiedName::from_expr(expr).map(|n| n.to_string())
}

//! Facts about one Python file, read with Astral's parser: the calls (with their arguments,
//! whether they decorate a definition and whether they run at import time), the imports, the
//! module-level assignments, the classes and functions (with what they return), the string
//! literals outside docstrings, and the places where a URL is "masked" by keeping what comes
//! before its `@`. A file that does not parse yields no
//! facts: [`Module::parse`] never panics on its input. Places are 1-based lines and columns.

use ruff_python_ast::name::UnqualifiedName;
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{
    Expr, ExprContext, FStringPart, InterpolatedStringElement, Number, Operator, Stmt,
    StmtFunctionDef,
};
use ruff_source_file::LineIndex;
use ruff_text_size::{Ranged, TextSize};

use super::fs_path::{self, Location, Paths, WriteKind};

/// A place in the file: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Place {
    pub line: usize,
    pub column: usize,
}

/// What an argument or a literal is, as far as it can be known without running the code.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// A string literal (implicit concatenations joined).
    Str(String),
    /// An f-string: its literal parts, each interpolation written `{}`.
    FStr(String),
    Bool(bool),
    Int(i64),
    /// A list, tuple or set display.
    Seq(Vec<Value>),
    /// A dict display: its string keys with their values (other keys are left out).
    Dict(Vec<(String, Value)>),
    /// A (dotted) name: `origins`, `settings.cors_origins`.
    Name(String),
    /// A call of a nameable callee: its dotted name.
    Call(String),
    /// A list, set or generator comprehension: what its first `for` iterates over.
    Comp(Box<Value>),
    /// Anything else.
    Other,
}

/// An expression's kind and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Value {
    pub kind: Kind,
    pub place: Place,
}

impl Value {
    /// The text of a plain string literal.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a string or f-string literal (interpolations as `{}`).
    pub(crate) fn as_text(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) | Kind::FStr(s) => Some(s),
            _ => None,
        }
    }
}

/// A call: `callee(args, name=value, **splat)`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    /// The callee's dotted name (`app.add_middleware`), empty when it has none.
    pub name: String,
    /// The attribute called, when the callee is one: `execute` for `conn.execute` and for
    /// `op.get_bind().execute`, whose callee has no dotted name.
    pub attribute: Option<String>,
    pub place: Place,
    pub args: Vec<Value>,
    /// Named arguments; `None` names a `**splat`.
    pub keywords: Vec<(Option<String>, Value)>,
    /// The call is a decorator (`@app.get("/")`).
    pub decorator: bool,
    /// The call runs when the module is imported (not inside a function or a
    /// `if __name__ == "__main__":` block).
    pub import_time: bool,
}

impl Call {
    /// The last segment of the callee's name: `add_middleware`.
    pub(crate) fn method(&self) -> &str {
        self.name.rsplit('.').next().unwrap_or("")
    }

    /// The receiver of a method call: `app` for `app.add_middleware`.
    pub(crate) fn receiver(&self) -> Option<&str> {
        self.name.rsplit_once('.').map(|(r, _)| r)
    }

    /// The keyword argument `name`.
    pub(crate) fn keyword(&self, name: &str) -> Option<&Value> {
        self.keywords
            .iter()
            .find(|(k, _)| k.as_deref() == Some(name))
            .map(|(_, v)| v)
    }

    /// Whether the call passes `**something`, which may hold any keyword.
    pub(crate) fn has_splat(&self) -> bool {
        self.keywords.iter().any(|(k, _)| k.is_none())
    }

    /// The `index`th positional argument, or else the keyword `name`.
    pub(crate) fn arg(&self, index: usize, name: &str) -> Option<&Value> {
        self.args.get(index).or_else(|| self.keyword(name))
    }
}

/// `import module` (`name` is `None`) or `from module import name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Import {
    pub module: String,
    pub name: Option<String>,
    /// How many leading dots a `from` import has: 0 for an absolute import.
    pub level: u32,
    /// The name it is bound to with `as`.
    pub alias: Option<String>,
    pub place: Place,
}

/// `target = value` (or `target: T = value`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Assign {
    /// The dotted target: `engine`, `self.client`.
    pub target: String,
    pub value: Value,
    /// At module level or in a class body (not in a function).
    pub module_level: bool,
}

/// An HTTP route declared with a decorator or `add_api_route`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    /// Upper case: `GET`, `POST`; `*` for `api_route` without `methods`.
    pub methods: Vec<String>,
    /// The literal path; `None` when it is computed.
    pub path: Option<String>,
    pub place: Place,
}

/// One write a module makes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Write {
    pub kind: WriteKind,
    pub target: Location,
    pub place: Place,
    /// The variable set, for [`WriteKind::CacheFolder`].
    pub variable: Option<String>,
}

/// The facts of one parsed file.
#[derive(Debug, Default)]
pub(crate) struct Module {
    pub calls: Vec<Call>,
    pub imports: Vec<Import>,
    pub assigns: Vec<Assign>,
    /// String and f-string literals outside docstrings.
    pub strings: Vec<Value>,
    /// `url.split("@")[0]` joined to a string with `*` in it: a "masked" URL that shows the
    /// password.
    pub at_masks: Vec<Place>,
    /// Subscripts read with a string literal key: (`os.environ`, `KEY`, place).
    pub subscripts: Vec<(String, String, Place)>,
    /// The classes, with their annotated fields and settings configuration.
    pub classes: Vec<Class>,
    /// The files and folders the module writes, where the source tells.
    pub writes: Vec<Write>,
    /// Comments holding a credential: where, and what it is (as [`credential`] describes it).
    ///
    /// [`credential`]: super::secret::credential
    pub comment_secrets: Vec<(Place, String)>,
    /// Where an absolute URL is read from the request: `request.base_url`, `request.url`
    /// (uvicorn builds them from the scheme it trusts).
    pub request_urls: Vec<Place>,
    /// The functions and methods, with what they return.
    pub functions: Vec<Function>,
    /// The `with` items bound with `as`: `with op.batch_alter_table("t") as batch_op:`.
    pub withs: Vec<With>,
}

/// A `with` item bound to a name: `with value as name:`, and the lines its block spans.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct With {
    pub name: String,
    pub value: Value,
    /// The lines of the whole `with` statement, its block included.
    pub lines: (usize, usize),
}

/// A function or method: `def name(...)`.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Function {
    pub name: String,
    /// The class whose body defines it (a method); `None` for a function.
    pub class: Option<String>,
    /// The decorators' dotted names (`property`, `lru_cache`, `functools.lru_cache`).
    pub decorators: Vec<String>,
    /// The values of its `return` statements (not those of functions nested in it).
    pub returns: Vec<Value>,
    /// The attributes its body reads from `self`: `origins` for `self.origins.split(",")`.
    pub self_reads: Vec<String>,
    /// The lines of the whole definition, its decorators left out.
    pub lines: (usize, usize),
}

/// A class: its bases, the fields its body annotates, and what configures it.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Class {
    pub name: String,
    /// Where the class is named, on its `class` line.
    pub place: Place,
    /// The bases' dotted names.
    pub bases: Vec<String>,
    /// The keywords of the class statement: `table=True` in `class User(SQLModel, table=True)`.
    pub keywords: Vec<(String, Value)>,
    pub fields: Vec<Field>,
    /// The plain assignments of its body (`__tablename__ = "users"`, `id = Column(…)`), and
    /// the `ClassVar` ones that assign a value.
    pub attributes: Vec<Attribute>,
    /// `model_config = SettingsConfigDict(k=v)` (or a dict), and the assignments of an inner
    /// `class Config:`.
    pub config: Vec<(String, Value)>,
}

/// An annotated field of a class body: `name: T = value`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Field {
    pub name: String,
    pub place: Place,
    /// The dotted name of the annotation, or of its head when it is subscripted: `Mapped` for
    /// `Mapped[int]`; `None` when it has no name (`int | None`).
    pub annotation: Option<String>,
    /// The value assigned, as written (`Field(…)` is a call of `Field`).
    pub value: Option<Value>,
    /// The names given with `Field(alias=…, validation_alias=…, env=…)`: literal strings,
    /// `AliasChoices(…)` and `AliasPath(…)`'s first argument. `None` when an alias is given but
    /// is not a literal.
    pub aliases: Option<Vec<String>>,
    /// The default: the value assigned, `Field(default=…)` or `Field(…)`'s first argument, or a
    /// call of `Field(default_factory=f)`'s `f` (as `Kind::Call`); `None` when there is none.
    pub default: Option<Value>,
}

/// A plain assignment of a class body: `name = value`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Attribute {
    pub name: String,
    pub value: Value,
    pub place: Place,
}

/// The HTTP methods a route decorator may name.
const ROUTE_METHODS: &[&str] = &["get", "post", "put", "patch", "delete", "head", "options"];

impl Module {
    /// The facts of `source`, or `None` when it is not valid Python.
    pub(crate) fn parse(source: &str) -> Option<Module> {
        let parsed = ruff_python_parser::parse_module(source).ok()?;
        let mut collector = Collector {
            source,
            index: LineIndex::from_source_text(source),
            module: Module::default(),
            depth: 0,
            decorating: false,
            paths: Paths::default(),
            class: None,
            function: None,
        };
        for stmt in &parsed.syntax().body {
            collector.visit_stmt(stmt);
        }
        for token in parsed.tokens().iter() {
            if token.kind() != ruff_python_ast::token::TokenKind::Comment {
                continue;
            }
            let Some(text) = source.get(token.range().start().into()..token.range().end().into())
            else {
                continue;
            };
            if let Some(what) = super::secret::credential(text) {
                let place = collector.place(token.range().start());
                collector.module.comment_secrets.push((place, what));
            }
        }
        Some(collector.module)
    }

    /// The routes this file declares.
    pub(crate) fn routes(&self) -> Vec<Route> {
        let mut routes = Vec::new();
        for call in &self.calls {
            let method = call.method();
            let path = || call.arg(0, "path").map(|v| v.as_str().map(str::to_owned));
            if call.decorator && ROUTE_METHODS.contains(&method) && call.receiver().is_some() {
                if let Some(path) = path() {
                    routes.push(Route {
                        methods: vec![method.to_ascii_uppercase()],
                        path,
                        place: call.place,
                    });
                }
            } else if (call.decorator && method == "api_route") || method == "add_api_route" {
                let methods = match call.keyword("methods").map(|v| &v.kind) {
                    Some(Kind::Seq(items)) => items
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_ascii_uppercase)
                        .collect(),
                    Some(_) => vec!["*".to_owned()],
                    None if method == "add_api_route" => vec!["GET".to_owned()],
                    None => vec!["*".to_owned()],
                };
                if let Some(path) = path() {
                    routes.push(Route {
                        methods,
                        path,
                        place: call.place,
                    });
                }
            }
        }
        routes
    }

    /// The calls whose callee's name is `name` or ends in `.name`.
    pub(crate) fn calls_to<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Call> + 'a {
        self.calls.iter().filter(move |c| c.method() == name)
    }

    /// What a value stands for: a name assigned exactly once in this module stands for what it
    /// was assigned; anything else for itself.
    pub(crate) fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        let Kind::Name(name) = &value.kind else {
            return value;
        };
        let mut found = self
            .assigns
            .iter()
            .filter(|a| a.module_level && &a.target == name);
        match (found.next(), found.next()) {
            // A name assigned twice could hold either value.
            (Some(only), None) => &only.value,
            _ => value,
        }
    }

    /// The string literal a value stands for: itself, or a name assigned one in this module.
    pub(crate) fn literal<'a>(&'a self, value: &'a Value) -> Option<&'a Value> {
        let value = self.resolve(value);
        value.as_text().map(|_| value)
    }

    /// The string literal a value falls back to when it reads an environment variable with a
    /// literal default (`os.getenv("NAME", "…")`, `os.environ.get("NAME", "…")`), directly or
    /// through a module-level name assigned once.
    pub(crate) fn env_default<'a>(&'a self, value: &'a Value) -> Option<&'a Value> {
        let value = self.resolve(value);
        let Kind::Call(name) = &value.kind else {
            return None;
        };
        if !matches!(
            name.as_str(),
            "os.getenv" | "getenv" | "os.environ.get" | "environ.get"
        ) {
            return None;
        }
        let call = self
            .calls
            .iter()
            .find(|c| c.name == *name && c.place == value.place)?;
        call.arg(1, "default").filter(|d| d.as_text().is_some())
    }
}

/// Every Python file of `project` that parses, with its facts.
pub(crate) fn modules(project: &super::Project) -> Vec<(&str, Module)> {
    project
        .python()
        .filter_map(|(path, text)| Module::parse(text).map(|m| (path, m)))
        .collect()
}

/// Walks the tree and records the facts.
struct Collector<'s> {
    source: &'s str,
    index: LineIndex,
    module: Module,
    /// How many function bodies (or `__main__` blocks) enclose the current node.
    depth: usize,
    /// The next call visited is a decorator.
    decorating: bool,
    /// The module-level names that hold paths.
    paths: Paths,
    /// The class whose body is being visited (not inside a method).
    class: Option<String>,
    /// The index in `module.functions` of the function whose body is being visited.
    function: Option<usize>,
}

impl Collector<'_> {
    fn place(&self, offset: TextSize) -> Place {
        if usize::from(offset) > self.source.len() {
            return Place::default();
        }
        let lc = self.index.line_column(offset, self.source);
        Place {
            line: lc.line.get(),
            column: lc.column.get(),
        }
    }

    fn value(&self, expr: &Expr) -> Value {
        let kind = match expr {
            Expr::StringLiteral(s) => Kind::Str(s.value.to_str().to_owned()),
            Expr::FString(f) => Kind::FStr(fstring_text(f)),
            Expr::BooleanLiteral(b) => Kind::Bool(b.value),
            Expr::NumberLiteral(n) => match &n.value {
                Number::Int(i) => i.as_i64().map_or(Kind::Other, Kind::Int),
                _ => Kind::Other,
            },
            Expr::List(l) => Kind::Seq(l.elts.iter().map(|e| self.value(e)).collect()),
            Expr::Tuple(t) => Kind::Seq(t.elts.iter().map(|e| self.value(e)).collect()),
            Expr::Set(s) => Kind::Seq(s.elts.iter().map(|e| self.value(e)).collect()),
            Expr::Dict(d) => Kind::Dict(
                d.items
                    .iter()
                    .filter_map(|item| match &item.key {
                        Some(Expr::StringLiteral(k)) => {
                            Some((k.value.to_str().to_owned(), self.value(&item.value)))
                        }
                        _ => None,
                    })
                    .collect(),
            ),
            Expr::Name(_) | Expr::Attribute(_) => dotted(expr).map_or(Kind::Other, Kind::Name),
            Expr::Call(c) => dotted(&c.func).map_or(Kind::Other, Kind::Call),
            Expr::ListComp(c) => comprehension(self, &c.generators),
            Expr::SetComp(c) => comprehension(self, &c.generators),
            Expr::Generator(c) => comprehension(self, &c.generators),
            _ => Kind::Other,
        };
        Value {
            kind,
            place: self.place(expr.start()),
        }
    }

    fn record_call(&mut self, call: &ruff_python_ast::ExprCall, decorator: bool) {
        let args = call.arguments.args.iter().map(|a| self.value(a)).collect();
        let keywords = call
            .arguments
            .keywords
            .iter()
            .map(|k| {
                (
                    k.arg.as_ref().map(|a| a.id.to_string()),
                    self.value(&k.value),
                )
            })
            .collect();
        if let Some((kind, target)) = self.paths.write_of(call) {
            let variable = (kind == WriteKind::CacheFolder)
                .then(|| call.arguments.args.first())
                .flatten()
                .and_then(|a| a.as_string_literal_expr())
                .map(|s| s.value.to_str().to_owned());
            self.module.writes.push(Write {
                kind,
                target,
                place: self.place(call.start()),
                variable,
            });
        }
        let attribute = match &*call.func {
            Expr::Attribute(a) => Some(a.attr.id.to_string()),
            _ => None,
        };
        self.module.calls.push(Call {
            name: dotted(&call.func).unwrap_or_default(),
            attribute,
            place: self.place(call.start()),
            args,
            keywords,
            decorator,
            import_time: self.depth == 0,
        });
    }

    fn record_assign(&mut self, target: &Expr, value: &Expr) {
        if let Some(variable) = fs_path::cache_variable(target) {
            let target = self.paths.eval(value);
            self.module.writes.push(Write {
                kind: WriteKind::CacheFolder,
                target,
                place: self.place(value.start()),
                variable: Some(variable.to_owned()),
            });
        }
        if self.depth == 0 {
            if let Expr::Name(n) = target {
                self.paths.assign(n.id.as_str(), value);
            }
        }
        let Some(name) = dotted(target) else { return };
        let value = self.value(value);
        self.module.assigns.push(Assign {
            target: name,
            value,
            module_level: self.depth == 0,
        });
    }

    fn class(&self, class: &ruff_python_ast::StmtClassDef) -> Class {
        let bases = class
            .arguments
            .iter()
            .flat_map(|a| a.args.iter())
            .filter_map(dotted)
            .collect();
        let keywords = class
            .arguments
            .iter()
            .flat_map(|a| a.keywords.iter())
            .filter_map(|k| Some((k.arg.as_ref()?.id.to_string(), self.value(&k.value))))
            .collect();
        let mut facts = Class {
            name: class.name.id.to_string(),
            place: self.place(class.name.start()),
            bases,
            keywords,
            ..Class::default()
        };
        for stmt in &class.body {
            match stmt {
                Stmt::AnnAssign(assign) => {
                    let Expr::Name(target) = &*assign.target else {
                        continue;
                    };
                    let name = target.id.to_string();
                    if is_class_var(&assign.annotation) {
                        if let Some(value) = &assign.value {
                            facts.attributes.push(Attribute {
                                name,
                                value: self.value(value),
                                place: self.place(assign.start()),
                            });
                        }
                        continue;
                    }
                    if name == "model_config" {
                        if let Some(value) = &assign.value {
                            facts.config.extend(self.config(value));
                        }
                        continue;
                    }
                    let head = match &*assign.annotation {
                        Expr::Subscript(sub) => &*sub.value,
                        other => other,
                    };
                    facts.fields.push(Field {
                        place: self.place(assign.start()),
                        annotation: dotted(head),
                        value: assign.value.as_deref().map(|v| self.value(v)),
                        aliases: assign.value.as_deref().map_or(Some(Vec::new()), aliases),
                        default: assign.value.as_deref().and_then(|v| self.default(v)),
                        name,
                    });
                }
                Stmt::Assign(assign) => {
                    if let [Expr::Name(target)] = &assign.targets[..] {
                        if target.id.as_str() == "model_config" {
                            facts.config.extend(self.config(&assign.value));
                        } else {
                            facts.attributes.push(Attribute {
                                name: target.id.to_string(),
                                value: self.value(&assign.value),
                                place: self.place(assign.start()),
                            });
                        }
                    }
                }
                Stmt::ClassDef(inner) if inner.name.id.as_str() == "Config" => {
                    for stmt in &inner.body {
                        if let Stmt::Assign(assign) = stmt {
                            if let [Expr::Name(target)] = &assign.targets[..] {
                                let value = self.value(&assign.value);
                                facts.config.push((target.id.to_string(), value));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        facts
    }

    /// A field's default, given its value: `Field(default=…)`, `Field(…)`'s first argument,
    /// `Field(default_factory=f)` as a call of `f`, or the value itself.
    fn default(&self, value: &Expr) -> Option<Value> {
        let Expr::Call(call) = value else {
            return Some(self.value(value));
        };
        if !dotted(&call.func).is_some_and(|n| n == "Field" || n.ends_with(".Field")) {
            return Some(self.value(value));
        }
        for keyword in &call.arguments.keywords {
            match keyword.arg.as_ref().map(|a| a.id.as_str()) {
                Some("default") => return Some(self.value(&keyword.value)),
                Some("default_factory") => {
                    let name = dotted(&keyword.value)?;
                    return Some(Value {
                        kind: Kind::Call(name),
                        place: self.place(keyword.value.start()),
                    });
                }
                _ => {}
            }
        }
        call.arguments.args.first().map(|a| self.value(a))
    }

    /// The settings of `SettingsConfigDict(k=v)`, `ConfigDict(k=v)` or `{"k": v}`.
    fn config(&self, value: &Expr) -> Vec<(String, Value)> {
        match value {
            Expr::Call(call) => call
                .arguments
                .keywords
                .iter()
                .filter_map(|k| Some((k.arg.as_ref()?.id.to_string(), self.value(&k.value))))
                .collect(),
            Expr::Dict(_) => match self.value(value).kind {
                Kind::Dict(items) => items,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    fn check_mask(&mut self, expr: &Expr) {
        let masked = match expr {
            Expr::BinOp(b) if b.op == Operator::Add => {
                let sides = [&*b.left, &*b.right];
                sides.iter().any(|e| is_at_split_head(e)) && sides.iter().any(|e| has_star(e))
            }
            Expr::FString(f) => {
                let mut split = false;
                let mut star = false;
                for element in f.value.elements() {
                    match element {
                        InterpolatedStringElement::Literal(l) => star |= l.value.contains('*'),
                        InterpolatedStringElement::Interpolation(i) => {
                            split |= is_at_split_head(&i.expression);
                        }
                    }
                }
                split && star
            }
            _ => false,
        };
        if masked {
            let place = self.place(expr.start());
            self.module.at_masks.push(place);
        }
    }
}

impl<'a> Visitor<'a> for Collector<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(StmtFunctionDef {
                name,
                decorator_list,
                parameters,
                returns,
                body,
                range,
                ..
            }) => {
                for decorator in decorator_list {
                    self.decorating = true;
                    self.visit_expr(&decorator.expression);
                    self.decorating = false;
                }
                self.visit_parameters(parameters);
                if let Some(returns) = returns {
                    self.visit_annotation(returns);
                }
                let decorators = decorator_list
                    .iter()
                    .filter_map(|d| match &d.expression {
                        Expr::Call(call) => dotted(&call.func),
                        other => dotted(other),
                    })
                    .collect();
                let lines = (self.place(name.start()).line, self.place(range.end()).line);
                self.module.functions.push(Function {
                    name: name.id.to_string(),
                    class: self.class.take(),
                    decorators,
                    lines,
                    ..Function::default()
                });
                let outer = self.function.replace(self.module.functions.len() - 1);
                let class = self.module.functions.last().and_then(|f| f.class.clone());
                self.depth += 1;
                self.visit_body(body);
                self.depth -= 1;
                self.function = outer;
                self.class = class;
            }
            Stmt::ClassDef(class) => {
                let class_facts = self.class(class);
                self.module.classes.push(class_facts);
                for decorator in &class.decorator_list {
                    self.decorating = true;
                    self.visit_expr(&decorator.expression);
                    self.decorating = false;
                }
                if let Some(arguments) = &class.arguments {
                    self.visit_arguments(arguments);
                }
                let outer = self.class.replace(class.name.id.to_string());
                self.visit_body(&class.body);
                self.class = outer;
            }
            Stmt::Return(ret) => {
                if let (Some(value), Some(index)) = (&ret.value, self.function) {
                    let value = self.value(value);
                    if let Some(function) = self.module.functions.get_mut(index) {
                        function.returns.push(value);
                    }
                }
                visitor::walk_stmt(self, stmt);
            }
            Stmt::If(branch) if is_main_guard(&branch.test) => {
                self.depth += 1;
                visitor::walk_stmt(self, stmt);
                self.depth -= 1;
            }
            Stmt::Expr(e) if matches!(&*e.value, Expr::StringLiteral(_)) => {}
            Stmt::With(with) => {
                let lines = (self.place(with.start()).line, self.place(with.end()).line);
                for item in &with.items {
                    if let Some(Expr::Name(target)) = item.optional_vars.as_deref() {
                        let value = self.value(&item.context_expr);
                        self.module.withs.push(With {
                            name: target.id.to_string(),
                            value,
                            lines,
                        });
                    }
                }
                visitor::walk_stmt(self, stmt);
            }
            Stmt::Import(import) => {
                for alias in &import.names {
                    let place = self.place(alias.start());
                    self.module.imports.push(Import {
                        module: alias.name.id.to_string(),
                        name: None,
                        level: 0,
                        alias: alias.asname.as_ref().map(|a| a.id.to_string()),
                        place,
                    });
                }
            }
            Stmt::ImportFrom(import) => {
                let module = import
                    .module
                    .as_ref()
                    .map(|m| m.id.to_string())
                    .unwrap_or_default();
                for alias in &import.names {
                    let place = self.place(alias.start());
                    self.module.imports.push(Import {
                        module: module.clone(),
                        name: Some(alias.name.id.to_string()),
                        level: import.level,
                        alias: alias.asname.as_ref().map(|a| a.id.to_string()),
                        place,
                    });
                }
            }
            Stmt::Assign(assign) => {
                for target in &assign.targets {
                    self.record_assign(target, &assign.value);
                }
                visitor::walk_stmt(self, stmt);
            }
            Stmt::AnnAssign(assign) => {
                if let Some(value) = &assign.value {
                    self.record_assign(&assign.target, value);
                }
                visitor::walk_stmt(self, stmt);
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        let decorator = std::mem::take(&mut self.decorating);
        match expr {
            Expr::Call(call) => self.record_call(call, decorator),
            Expr::StringLiteral(_) | Expr::FString(_) => {
                let value = self.value(expr);
                self.module.strings.push(value);
            }
            Expr::Subscript(sub) if sub.ctx == ExprContext::Load => {
                if let (Some(name), Expr::StringLiteral(key)) = (dotted(&sub.value), &*sub.slice) {
                    let place = self.place(expr.start());
                    let key = key.value.to_str().to_owned();
                    self.module.subscripts.push((name, key, place));
                }
            }
            Expr::Attribute(attr) => {
                let from_request = matches!(attr.attr.as_str(), "base_url" | "url")
                    && dotted(&attr.value).is_some_and(|r| {
                        let last = r.rsplit('.').next().unwrap_or(&r);
                        last == "request" || last == "req" || last == "websocket"
                    });
                if from_request {
                    let place = self.place(expr.start());
                    self.module.request_urls.push(place);
                }
                if let (Expr::Name(receiver), Some(index)) = (&*attr.value, self.function) {
                    if receiver.id.as_str() == "self" {
                        if let Some(function) = self.module.functions.get_mut(index) {
                            function.self_reads.push(attr.attr.id.to_string());
                        }
                    }
                }
            }
            Expr::Lambda(_) => {
                self.depth += 1;
                visitor::walk_expr(self, expr);
                self.depth -= 1;
                return;
            }
            _ => {}
        }
        self.check_mask(expr);
        visitor::walk_expr(self, expr);
    }
}

/// The names a field's value gives it with `Field(alias=…, validation_alias=…, env=…)`: empty
/// when it gives none, `None` when one is not a literal.
fn aliases(value: &Expr) -> Option<Vec<String>> {
    let Expr::Call(call) = value else {
        return Some(Vec::new());
    };
    if !dotted(&call.func).is_some_and(|n| n == "Field" || n.ends_with(".Field")) {
        return Some(Vec::new());
    }
    let mut names = Vec::new();
    for keyword in &call.arguments.keywords {
        let Some(arg) = &keyword.arg else {
            return None;
        };
        if !matches!(arg.id.as_str(), "alias" | "validation_alias" | "env") {
            continue;
        }
        names.extend(alias_names(&keyword.value)?);
    }
    Some(names)
}

/// The names an alias stands for: a string, a list of them, `AliasChoices(…)`, or the first
/// argument of `AliasPath(…)`.
fn alias_names(value: &Expr) -> Option<Vec<String>> {
    match value {
        Expr::StringLiteral(s) => Some(vec![s.value.to_str().to_owned()]),
        Expr::List(_) | Expr::Tuple(_) | Expr::Set(_) => {
            let items = match value {
                Expr::List(l) => &l.elts,
                Expr::Tuple(t) => &t.elts,
                Expr::Set(s) => &s.elts,
                _ => return None,
            };
            let mut names = Vec::new();
            for item in items {
                names.extend(alias_names(item)?);
            }
            Some(names)
        }
        Expr::Call(call) => {
            let name = dotted(&call.func)?;
            let args = &call.arguments.args;
            if name.ends_with("AliasChoices") {
                let mut names = Vec::new();
                for arg in args {
                    names.extend(alias_names(arg)?);
                }
                Some(names)
            } else if name.ends_with("AliasPath") {
                match args.first() {
                    Some(Expr::StringLiteral(s)) => Some(vec![s.value.to_str().to_owned()]),
                    _ => None,
                }
            } else {
                None
            }
        }
        _ => None,
    }
}

/// `ClassVar` or `ClassVar[T]`: an attribute of the class, not a field.
fn is_class_var(annotation: &Expr) -> bool {
    let head = match annotation {
        Expr::Subscript(sub) => &*sub.value,
        other => other,
    };
    dotted(head).is_some_and(|n| n == "ClassVar" || n.ends_with(".ClassVar"))
}

/// A comprehension's kind: what its first `for` iterates over.
fn comprehension(collector: &Collector<'_>, generators: &[ruff_python_ast::Comprehension]) -> Kind {
    generators.first().map_or(Kind::Other, |g| {
        Kind::Comp(Box::new(collector.value(&g.iter)))
    })
}

/// `a.b.c` for a name or attribute chain.
fn dotted(expr: &Expr) -> Option<String> {
    UnqualifiedName::from_expr(expr).map(|n| n.to_string())
}

/// The literal text of an f-string, each interpolation as `{}`.
fn fstring_text(f: &ruff_python_ast::ExprFString) -> String {
    let mut text = String::new();
    for part in f.value.iter() {
        match part {
            FStringPart::Literal(l) => text.push_str(l.as_str()),
            FStringPart::FString(f) => {
                for element in f.elements.iter() {
                    match element {
                        InterpolatedStringElement::Literal(l) => text.push_str(&l.value),
                        InterpolatedStringElement::Interpolation(_) => text.push_str("{}"),
                    }
                }
            }
        }
    }
    text
}

/// `if __name__ == "__main__":`
fn is_main_guard(test: &Expr) -> bool {
    let Expr::Compare(compare) = test else {
        return false;
    };
    let sides = std::iter::once(&*compare.left).chain(compare.comparators.iter());
    let mut name = false;
    let mut main = false;
    for side in sides {
        match side {
            Expr::Name(n) if n.id.as_str() == "__name__" => name = true,
            Expr::StringLiteral(s) if s.value.to_str() == "__main__" => main = true,
            _ => {}
        }
    }
    name && main
}

/// `something_url.split("@")[0]` (also `rsplit`, `partition`), where the receiver's name says
/// it holds a URL or DSN.
fn is_at_split_head(expr: &Expr) -> bool {
    let Expr::Subscript(sub) = expr else {
        return false;
    };
    let first = matches!(&*sub.slice, Expr::NumberLiteral(n)
        if matches!(&n.value, Number::Int(i) if i.as_i64() == Some(0)));
    let Expr::Call(call) = &*sub.value else {
        return false;
    };
    let Expr::Attribute(attr) = &*call.func else {
        return false;
    };
    let splits = matches!(attr.attr.id.as_str(), "split" | "rsplit" | "partition");
    let at = matches!(call.arguments.args.first(),
        Some(Expr::StringLiteral(s)) if s.value.to_str() == "@");
    let receiver = source_name(&attr.value).to_ascii_lowercase();
    let urlish = ["url", "dsn", "uri", "conn", "database"]
        .iter()
        .any(|w| receiver.contains(w));
    first && splits && at && urlish
}

/// A name for an expression, for guessing what it holds: the dotted name, or a called
/// function's name (`str(settings.database_url)` gives `settings.database_url`).
fn source_name(expr: &Expr) -> String {
    match expr {
        Expr::Call(c) => c
            .arguments
            .args
            .first()
            .map(source_name)
            .or_else(|| dotted(&c.func))
            .unwrap_or_default(),
        _ => dotted(expr).unwrap_or_default(),
    }
}

/// A string literal with a `*` in it.
fn has_star(expr: &Expr) -> bool {
    match expr {
        Expr::StringLiteral(s) => s.value.to_str().contains('*'),
        Expr::FString(f) => fstring_text(f).contains('*'),
        Expr::BinOp(b) => has_star(&b.left) || has_star(&b.right),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Module {
        Module::parse(src).expect("valid Python")
    }

    #[test]
    fn invalid_python_gives_nothing_and_does_not_panic() {
        assert!(Module::parse("def (:\n  x = ").is_none());
        assert!(Module::parse("\u{feff}x = 'é'\n").is_some());
    }

    #[test]
    fn calls_have_their_arguments_and_places() {
        let m = parse(
            "from starlette.middleware.cors import CORSMiddleware\n\
             app.add_middleware(\n    CORSMiddleware,\n    allow_origins=[\"a\", \"b\"],\n    allow_credentials=True,\n    **extra,\n)\n",
        );
        let call = m.calls_to("add_middleware").next().unwrap();
        assert_eq!(call.name, "app.add_middleware");
        assert_eq!(call.place, Place { line: 2, column: 1 });
        assert_eq!(call.args[0].kind, Kind::Name("CORSMiddleware".into()));
        let origins = call.keyword("allow_origins").unwrap();
        let Kind::Seq(items) = &origins.kind else {
            panic!("{origins:?}")
        };
        assert_eq!(items[1].as_str(), Some("b"));
        assert_eq!(
            items[1].place,
            Place {
                line: 4,
                column: 25
            }
        );
        assert_eq!(
            call.keyword("allow_credentials").unwrap().kind,
            Kind::Bool(true)
        );
        assert!(call.has_splat());
        assert_eq!(
            m.imports[0],
            Import {
                module: "starlette.middleware.cors".into(),
                name: Some("CORSMiddleware".into()),
                level: 0,
                alias: None,
                place: Place {
                    line: 1,
                    column: 39
                },
            }
        );
    }

    #[test]
    fn relative_imports_keep_their_level() {
        let m = parse("from ..api import routes as api_routes\nfrom . import deps\nimport os\n");
        let levels: Vec<(&str, u32, Option<&str>)> = m
            .imports
            .iter()
            .map(|i| (i.module.as_str(), i.level, i.alias.as_deref()))
            .collect();
        assert_eq!(
            levels,
            vec![
                ("api", 2, Some("api_routes")),
                ("", 1, None),
                ("os", 0, None)
            ]
        );
    }

    #[test]
    fn import_time_is_outside_functions_and_main_guards() {
        let m = parse(
            "a()\ndef f():\n    b()\nclass C:\n    c()\nif __name__ == '__main__':\n    d()\nx = lambda: e()\n",
        );
        let at_import: Vec<&str> = m
            .calls
            .iter()
            .filter(|c| c.import_time)
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(at_import, vec!["a", "c"]);
    }

    #[test]
    fn routes_come_from_decorators_and_add_api_route() {
        let m = parse(
            "@app.get('/')\nasync def root(): ...\n\n@router.post(path='/items')\ndef add(): ...\n\n\
             @app.api_route('/x', methods=['put', 'GET'])\ndef x(): ...\n\n\
             app.add_api_route('/health', health)\nos.environ.get('/nope')\n@app.get(PATH)\ndef y(): ...\n",
        );
        let routes = m.routes();
        let seen: Vec<(Vec<String>, Option<String>, usize)> = routes
            .into_iter()
            .map(|r| (r.methods, r.path, r.place.line))
            .collect();
        assert_eq!(
            seen,
            vec![
                (vec!["GET".into()], Some("/".into()), 1),
                (vec!["POST".into()], Some("/items".into()), 4),
                (vec!["PUT".into(), "GET".into()], Some("/x".into()), 7),
                (vec!["GET".into()], Some("/health".into()), 10),
                (vec!["GET".into()], None, 12),
            ]
        );
    }

    #[test]
    fn strings_skip_docstrings_and_fstrings_keep_their_literal_parts() {
        let m =
            parse("\"\"\"doc sk-abc\"\"\"\nx = f\"postgresql://{u}:{p}@h/db?sslmode=require\"\n");
        let texts: Vec<&str> = m.strings.iter().filter_map(Value::as_text).collect();
        assert_eq!(texts, vec!["postgresql://{}:{}@h/db?sslmode=require"]);
    }

    #[test]
    fn literal_follows_a_module_level_name_assigned_once() {
        let m = parse("URL = 'sqlite:///a.db'\nTWICE = 'a'\nTWICE = 'b'\nengine = create_engine(URL)\nother = create_engine(TWICE)\n");
        let calls: Vec<&Call> = m.calls_to("create_engine").collect();
        assert_eq!(
            m.literal(&calls[0].args[0]).and_then(Value::as_str),
            Some("sqlite:///a.db")
        );
        assert!(m.literal(&calls[1].args[0]).is_none());
    }

    #[test]
    fn functions_keep_their_class_decorators_returns_and_self_reads() {
        let m = parse(
            "class S(BaseSettings):\n    a: str = '*'\n    b: str = Field(default='x')\n    \
             c: list = Field(default_factory=list)\n    d: int = Field(3, alias='D')\n    e: str\n\
             \n    @property\n    def origins(self):\n        def inner():\n            return 1\n        \
             return self.a.split(',')\n\
             @lru_cache\ndef get_settings():\n    return S()\n",
        );
        let defaults: Vec<Option<Kind>> = m.classes[0]
            .fields
            .iter()
            .map(|f| f.default.as_ref().map(|d| d.kind.clone()))
            .collect();
        assert_eq!(
            defaults,
            vec![
                Some(Kind::Str("*".into())),
                Some(Kind::Str("x".into())),
                Some(Kind::Call("list".into())),
                Some(Kind::Int(3)),
                None
            ]
        );
        let seen: Vec<String> = m
            .functions
            .iter()
            .map(|f| {
                let returns: Vec<&Kind> = f.returns.iter().map(|r| &r.kind).collect();
                format!(
                    "{} {:?} {:?} {:?} {:?}",
                    f.name, f.class, f.decorators, returns, f.self_reads
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                r#"origins Some("S") ["property"] [Call("self.a.split")] ["a"]"#,
                "inner None [] [Int(1)] []",
                r#"get_settings None ["lru_cache"] [Call("S")] []"#,
            ]
        );
    }

    #[test]
    fn masking_with_split_at_is_found() {
        let m = parse(
            "safe = settings.database_url.split('@')[0] + '@***'\n\
             log(f\"db={str(DATABASE_URL).split('@')[0]}@***\")\n\
             user = url.split('@')[0].split('//')[1]\n\
             host = email.split('@')[0] + '***'\n",
        );
        let lines: Vec<usize> = m.at_masks.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![1, 2]);
    }

    fn writes(src: &str) -> Vec<(WriteKind, Location, usize)> {
        Module::parse(src)
            .expect("valid Python")
            .writes
            .into_iter()
            .map(|w| (w.kind, w.target, w.place.line))
            .collect()
    }

    #[test]
    fn paths_are_followed_through_names_joins_and_the_module_file() {
        let src = "import os\nBASE = os.path.dirname(os.path.abspath(__file__))\nDATA = os.path.join(BASE, 'data')\nos.makedirs(DATA, exist_ok=True)\n";
        assert_eq!(
            writes(src),
            [(
                WriteKind::CreateFolder,
                Location::ModuleDir("data".into()),
                4
            )]
        );
        let src = "from pathlib import Path\nROOT = Path(__file__).resolve().parent.parent\n(ROOT / 'logs').mkdir(exist_ok=True)\nopen(ROOT / 'out.txt', 'w')\nopen('in.txt')\nwith open(f'{x}.txt', mode='a') as f: ...\n";
        assert_eq!(
            writes(src),
            [
                (
                    WriteKind::CreateFolder,
                    Location::ModuleDir("../logs".into()),
                    3
                ),
                (
                    WriteKind::WriteFile,
                    Location::ModuleDir("../out.txt".into()),
                    4
                ),
                (WriteKind::WriteFile, Location::Unknown, 6),
            ]
        );
        let src = "import os, tempfile\nos.environ['HF_HOME'] = './cache'\nos.environ.setdefault('TORCH_HOME', '/app/torch')\nos.makedirs(tempfile.gettempdir() + '/x')\nos.makedirs(os.path.join(tempfile.gettempdir(), 'x'))\nos.environ['OTHER'] = 'y'\n";
        assert_eq!(
            writes(src),
            [
                (WriteKind::CacheFolder, Location::Cwd("cache".into()), 2),
                (
                    WriteKind::CacheFolder,
                    Location::Absolute("/app/torch".into()),
                    3
                ),
                (WriteKind::CreateFolder, Location::Unknown, 4),
                (WriteKind::CreateFolder, Location::Temp, 5),
            ]
        );
    }
}

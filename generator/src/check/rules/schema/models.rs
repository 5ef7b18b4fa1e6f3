//! The tables a project's models declare, with their columns: SQLModel classes with
//! `table=True`, and SQLAlchemy declarative classes with a literal `__tablename__`. Columns
//! are the plain fields of the class and of the project's classes it extends (mixins, SQLModel
//! base models), a subclass's field hiding its base's; relationships, `ClassVar`s, private
//! names and whatever is not a plain column are left out. A class whose table name cannot be
//! known (a `__tablename__` computed, inherited from a class of the project, or a base class
//! whose name two classes share) is left out whole, as is an abstract, reflected or
//! `__table__`-built one.

use std::collections::{BTreeMap, BTreeSet};

use crate::check::python::{Class, Kind, Module, Place, Value};

/// How many classes deep `class A(B)` chains are followed.
const MAX_DEPTH: usize = 16;

/// A table a model declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Table<'a> {
    pub name: String,
    pub class: &'a str,
    pub file: &'a str,
    pub place: Place,
    pub columns: Vec<Column<'a>>,
}

/// A column of a model's table, and the field that declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Column<'a> {
    pub name: String,
    pub field: String,
    pub file: &'a str,
    pub place: Place,
}

/// Which kind of model a class is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Orm {
    SqlModel,
    SqlAlchemy,
}

/// A class, where it is.
#[derive(Clone, Copy)]
struct Found<'a> {
    file: &'a str,
    module: &'a Module,
    class: &'a Class,
}

/// The tables `modules` declare.
pub(super) fn tables<'a>(modules: &[(&'a str, &'a Module)]) -> Vec<Table<'a>> {
    let mut index: BTreeMap<&str, Vec<Found<'a>>> = BTreeMap::new();
    for (file, module) in modules {
        for class in &module.classes {
            index.entry(class.name.as_str()).or_default().push(Found {
                file,
                module,
                class,
            });
        }
    }
    index
        .values()
        .flatten()
        .filter_map(|found| table(&index, *found))
        .collect()
}

/// The table a class declares, if it declares one that can be known.
fn table<'a>(index: &BTreeMap<&str, Vec<Found<'a>>>, found: Found<'a>) -> Option<Table<'a>> {
    let class = found.class;
    let orm = orm(class)?;
    let excluded = ["__table__", "__abstract__"]
        .iter()
        .any(|n| own(found, n).is_some_and(|v| !matches!(v.kind, Kind::Bool(false))));
    if excluded || reflected(found) {
        return None;
    }
    let ancestors = ancestors(index, found)?;
    let name = match own(found, "__tablename__") {
        Some(value) => value.as_str()?.to_owned(),
        None if orm == Orm::SqlModel && !declares_tablename(found) => {
            if ancestors.iter().any(|a| declares_tablename(*a)) {
                return None;
            }
            class.name.to_lowercase()
        }
        None => return None,
    };
    let mut columns: Vec<Column<'a>> = Vec::new();
    let mut seen = BTreeSet::new();
    for source in std::iter::once(found).chain(ancestors) {
        for (field, column) in declared(source, orm) {
            if seen.insert(field.clone()) {
                columns.extend(column.map(|(name, place)| Column {
                    name,
                    field,
                    file: source.file,
                    place,
                }));
            }
        }
    }
    Some(Table {
        name,
        class: &class.name,
        file: found.file,
        place: class.place,
        columns,
    })
}

/// Whether a class is a table model, and of which kind.
fn orm(class: &Class) -> Option<Orm> {
    let table = class
        .keywords
        .iter()
        .any(|(k, v)| k == "table" && v.kind == Kind::Bool(true));
    if table {
        Some(Orm::SqlModel)
    } else if own_value(class, "__tablename__").is_some() {
        Some(Orm::SqlAlchemy)
    } else {
        None
    }
}

/// The value a class's own body gives `name` (`name = …`, `name: T = …`).
fn own<'a>(found: Found<'a>, name: &str) -> Option<&'a Value> {
    own_value(found.class, name)
}

fn own_value<'a>(class: &'a Class, name: &str) -> Option<&'a Value> {
    class
        .attributes
        .iter()
        .find(|a| a.name == name)
        .map(|a| &a.value)
        .or_else(|| {
            class
                .fields
                .iter()
                .find(|f| f.name == name)
                .and_then(|f| f.value.as_ref())
        })
}

/// Whether a class's body names its table in any way (a value, or a `declared_attr` method).
fn declares_tablename(found: Found<'_>) -> bool {
    own(found, "__tablename__").is_some()
        || found
            .module
            .functions
            .iter()
            .any(|f| f.name == "__tablename__" && f.class.as_deref() == Some(&found.class.name))
}

/// A table read from the database: `__table_args__ = {"autoload_with": engine}`.
fn reflected(found: Found<'_>) -> bool {
    let autoload = |v: &Value| match &v.kind {
        Kind::Dict(items) => items.iter().any(|(k, _)| k.starts_with("autoload")),
        _ => false,
    };
    own(found, "__table_args__").is_some_and(|v| match &v.kind {
        Kind::Seq(items) => items.iter().any(autoload),
        _ => autoload(v),
    })
}

/// The project's classes a class extends, nearest first, up to a class that is a table itself
/// (whose columns are in its own table); `None` when a base's name is shared by several
/// classes of the project.
fn ancestors<'a>(
    index: &BTreeMap<&str, Vec<Found<'a>>>,
    found: Found<'a>,
) -> Option<Vec<Found<'a>>> {
    let mut out: Vec<Found<'a>> = Vec::new();
    let mut queue = vec![(found, 0)];
    let mut seen = BTreeSet::new();
    while let Some((current, depth)) = queue.pop() {
        if depth >= MAX_DEPTH {
            return None;
        }
        for base in current.class.bases.iter().rev() {
            let name = base.rsplit('.').next().unwrap_or(base);
            let Some(candidates) = index.get(name) else {
                continue;
            };
            let [base] = candidates.as_slice() else {
                return None;
            };
            if orm(base.class).is_some() || !seen.insert((base.file, name)) {
                continue;
            }
            out.push(*base);
            queue.push((*base, depth + 1));
        }
    }
    Some(out)
}

/// Every field a class's body declares, with the column it makes (its name and place), if it
/// makes a plain one.
fn declared(found: Found<'_>, orm: Orm) -> Vec<(String, Option<(String, Place)>)> {
    let class = found.class;
    let mut out = Vec::new();
    for field in &class.fields {
        if field.name.starts_with('_') {
            continue;
        }
        let column = match (orm, &field.value) {
            (Orm::SqlModel, value) => sqlmodel_column(found.module, &field.name, value.as_ref()),
            (Orm::SqlAlchemy, None) => field
                .annotation
                .as_deref()
                .is_some_and(|a| last(a) == "Mapped")
                .then(|| field.name.clone()),
            (Orm::SqlAlchemy, Some(value)) => column_call(found.module, &field.name, value),
        };
        out.push((field.name.clone(), column.map(|c| (c, field.place))));
    }
    if orm == Orm::SqlAlchemy {
        for attribute in &class.attributes {
            if attribute.name.starts_with('_') {
                continue;
            }
            let column = column_call(found.module, &attribute.name, &attribute.value);
            out.push((attribute.name.clone(), column.map(|c| (c, attribute.place))));
        }
    }
    out
}

/// The column a SQLModel field makes: its name, or the name its `sa_column` or
/// `sa_column_kwargs` gives; `None` for a relationship, a private attribute, or a column whose
/// name is not written.
fn sqlmodel_column(module: &Module, field: &str, value: Option<&Value>) -> Option<String> {
    let Some(Value {
        kind: Kind::Call(callee),
        ..
    }) = value
    else {
        return Some(field.to_owned());
    };
    match last(callee) {
        "Relationship" | "relationship" | "PrivateAttr" => None,
        "Field" => {
            let call = find_call(module, value?)?;
            if let Some(column) = call.keyword("sa_column") {
                return column_call(module, field, column);
            }
            match call.keyword("sa_column_kwargs").map(|v| &v.kind) {
                None => Some(field.to_owned()),
                Some(Kind::Dict(items)) => match items.iter().find(|(k, _)| k == "name") {
                    Some((_, name)) => name.as_str().map(str::to_owned),
                    None => Some(field.to_owned()),
                },
                Some(_) => None,
            }
        }
        _ => Some(field.to_owned()),
    }
}

/// The column `Column(…)` or `mapped_column(…)` makes for `field`: the name given first (or as
/// `name=`), else the field's; `None` for anything else, or a name that is not a literal.
fn column_call(module: &Module, field: &str, value: &Value) -> Option<String> {
    let Kind::Call(callee) = &value.kind else {
        return None;
    };
    if !matches!(last(callee), "Column" | "mapped_column") {
        return None;
    }
    let call = find_call(module, value)?;
    let given = call.arg(0, "name").map(|v| module.resolve(v));
    match given.map(|v| &v.kind) {
        Some(Kind::Str(name)) => Some(name.clone()),
        Some(Kind::FStr(_)) => None,
        _ => Some(field.to_owned()),
    }
}

fn find_call<'a>(module: &'a Module, value: &Value) -> Option<&'a crate::check::python::Call> {
    let Kind::Call(callee) = &value.kind else {
        return None;
    };
    module
        .calls
        .iter()
        .find(|c| c.name == *callee && c.place == value.place)
}

fn last(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(files: &[(&'static str, &str)]) -> Vec<(String, Vec<String>)> {
        let modules: Vec<(&str, Module)> = files
            .iter()
            .map(|(f, src)| (*f, Module::parse(src).expect("valid Python")))
            .collect();
        let refs: Vec<(&str, &Module)> = modules.iter().map(|(f, m)| (*f, m)).collect();
        tables(&refs)
            .into_iter()
            .map(|t| (t.name, t.columns.into_iter().map(|c| c.name).collect()))
            .collect()
    }

    fn table(name: &str, columns: &[&str]) -> (String, Vec<String>) {
        (
            name.to_owned(),
            columns.iter().map(|c| (*c).to_owned()).collect(),
        )
    }

    #[test]
    fn sqlmodel_tables_take_their_base_models_fields_and_leave_relationships_out() {
        let src = r#"
from typing import ClassVar
from sqlmodel import Field, Relationship, SQLModel, Column, JSON

class HeroBase(SQLModel):
    name: str = Field(index=True)
    age: int | None = None

class Hero(HeroBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    team: "Team" = Relationship(back_populates="heroes")
    tags: list = Field(default_factory=list, sa_column=Column("tag_list", JSON))
    extra: dict = Field(sa_column=Column(JSON))
    kind: ClassVar[str] = "hero"
    _cache: dict = {}

class HeroRead(HeroBase):
    id: int

class Team(SQLModel, table=True):
    __tablename__ = "teams"
    id: int | None = Field(default=None, primary_key=True)
"#;
        assert_eq!(
            read(&[("app/models.py", src)]),
            vec![
                table("hero", &["id", "tag_list", "extra", "name", "age"]),
                table("teams", &["id"]),
            ]
        );
    }

    #[test]
    fn sqlalchemy_classes_with_a_tablename_and_their_mixins() {
        let src = r#"
from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

class Base(DeclarativeBase):
    pass

class Stamped:
    created_at = Column(DateTime)

class User(Stamped, Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str]
    full_name = Column("name", String)
    posts: Mapped[list["Post"]] = relationship(back_populates="author")
    note: str

class Reflected(Base):
    __tablename__ = "legacy"
    __table_args__ = {"autoload_with": engine}

class Abstract(Base):
    __tablename__ = "nothing"
    __abstract__ = True

class Computed(Base):
    __tablename__ = PREFIX + "x"
"#;
        assert_eq!(
            read(&[("app/models.py", src)]),
            vec![table("users", &["id", "email", "name", "created_at"])]
        );
    }

    #[test]
    fn a_table_name_that_cannot_be_known_leaves_the_class_out() {
        let base = "class Base(SQLModel):\n    @declared_attr\n    def __tablename__(cls):\n        return cls.__name__ + 's'\n";
        let model = "class Item(Base, table=True):\n    id: int = Field(primary_key=True)\n";
        assert_eq!(read(&[("a.py", base), ("b.py", model)]), vec![]);
        let twice = "class Base(SQLModel):\n    name: str\n";
        assert_eq!(
            read(&[("a.py", twice), ("c.py", twice), ("b.py", model)]),
            vec![]
        );
    }
}

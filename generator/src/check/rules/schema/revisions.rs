//! What Alembic's revision files do to the schema, read from their parsed Python: the tables
//! `op.create_table` makes with their `sa.Column`s, `op.add_column`, `op.drop_column`,
//! `op.alter_column(…, new_column_name=…)`, `op.drop_table`, `op.rename_table`, and the same
//! through `with op.batch_alter_table("t") as batch_op:`. Every call counts, wherever it is
//! (inside an `if`, in a helper function of the file), except in `downgrade()`.
//!
//! A revision is followed only when everything it does to the schema is literal: a table or
//! column name computed (a loop, a parameter), raw DDL through `execute`, `create_all`, an
//! unknown `op.` operation make it [`Unfollowable`], and then nothing is concluded.

use std::collections::{BTreeMap, BTreeSet};

use crate::check::python::{Call, Kind, Module, Place, Value};

/// One change to the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Op {
    CreateTable {
        table: String,
        columns: Vec<String>,
    },
    AddColumn {
        table: String,
        column: String,
    },
    DropColumn {
        table: String,
        column: String,
    },
    RenameColumn {
        table: String,
        from: String,
        to: String,
    },
    DropTable {
        table: String,
    },
    RenameTable {
        from: String,
        to: String,
    },
    /// An index, a constraint, an `alter_column`: the table is there, made by someone.
    Touch {
        table: String,
    },
}

/// Why a file's changes cannot be known: where, and what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Unfollowable {
    pub place: Place,
    pub what: String,
}

/// A revision: its id, the revisions it comes after, and its changes in source order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Revision {
    /// `revision = "…"`; `None` when it is not a literal.
    pub id: Option<String>,
    /// `down_revision` and `depends_on`.
    pub after: Vec<String>,
    pub ops: Vec<Op>,
}

/// `op.` operations that change nothing this reading follows.
const HARMLESS: &[&str] = &[
    "get_bind",
    "get_context",
    "f",
    "inline_literal",
    "bulk_insert",
];

/// Operations whose table is their first argument (`table_name`), on `op`.
const TABLE_FIRST: &[&str] = &["create_table_comment", "drop_table_comment"];

/// Operations whose table is their second argument (`table_name` or `source_table`), on `op`.
const TABLE_SECOND: &[&str] = &[
    "create_index",
    "create_unique_constraint",
    "create_primary_key",
    "create_check_constraint",
    "create_exclude_constraint",
    "create_foreign_key",
    "drop_constraint",
];

/// SQL words that change a schema, in lower case.
const DDL: &[&str] = &["create", "alter", "drop", "rename", "truncate"];

/// What `module` does to the schema, or why that cannot be known.
pub(super) fn read(module: &Module) -> Result<Revision, Unfollowable> {
    let downgrades: Vec<(usize, usize)> = module
        .functions
        .iter()
        .filter(|f| f.class.is_none() && f.name.starts_with("downgrade"))
        .map(|f| f.lines)
        .collect();
    let mut ops = Vec::new();
    for call in &module.calls {
        let line = call.place.line;
        if downgrades.iter().any(|(a, b)| (*a..=*b).contains(&line)) {
            continue;
        }
        if let Some(op) = on_op(module, call)? {
            ops.push(op);
        }
    }
    Ok(Revision {
        id: module_str(module, "revision"),
        after: ["down_revision", "depends_on"]
            .iter()
            .flat_map(|n| module_strs(module, n))
            .collect(),
        ops,
    })
}

/// The change one call makes, if it makes one.
fn on_op(module: &Module, call: &Call) -> Result<Option<Op>, Unfollowable> {
    let stop = |what: String| Unfollowable {
        place: call.place,
        what,
    };
    let method = method(call);
    if matches!(method, "execute" | "exec_driver_sql") {
        return ddl_free(module, call).map(|()| None);
    }
    if method == "create_all" || call.args.iter().any(names_create_all) {
        return Err(stop(format!("{method}() creates tables from models")));
    }
    if let Some(table) = batch_table(module, call)? {
        return batch_op(module, call, table);
    }
    let on_op = call
        .receiver()
        .is_some_and(|r| r == "op" || r.ends_with(".op"));
    if !on_op {
        if matches!(method, "create" | "drop") && !call.args.is_empty() {
            return Err(stop(format!("{method}() may create or drop a table")));
        }
        return Ok(None);
    }
    let name = |index: usize, keyword: &str| literal(module, call, index, keyword);
    let op = match method {
        "create_table" => {
            let table = name(0, "table_name")?;
            let mut columns = Vec::new();
            for arg in call.args.iter().skip(1) {
                match &arg.kind {
                    Kind::Call(callee) if is_column(callee) => {
                        columns.push(column_name(module, arg)?);
                    }
                    Kind::Call(callee) if is_table_item(callee) => {}
                    _ => {
                        return Err(stop(format!(
                            "{}() is given a column it cannot name",
                            call.name
                        )))
                    }
                }
            }
            Op::CreateTable { table, columns }
        }
        "add_column" => Op::AddColumn {
            table: name(0, "table_name")?,
            column: column_name(
                module,
                call.arg(1, "column").ok_or_else(|| no_column(call))?,
            )?,
        },
        "drop_column" => Op::DropColumn {
            table: name(0, "table_name")?,
            column: name(1, "column_name")?,
        },
        "alter_column" => {
            let table = name(0, "table_name")?;
            match call.keyword("new_column_name") {
                Some(_) => Op::RenameColumn {
                    from: name(1, "column_name")?,
                    to: literal(module, call, usize::MAX, "new_column_name")?,
                    table,
                },
                None => Op::Touch { table },
            }
        }
        "drop_table" => Op::DropTable {
            table: name(0, "table_name")?,
        },
        "rename_table" => Op::RenameTable {
            from: name(0, "old_table_name")?,
            to: name(1, "new_table_name")?,
        },
        "batch_alter_table" => Op::Touch {
            table: name(0, "table_name")?,
        },
        "drop_index" => match call.keyword("table_name") {
            Some(_) => Op::Touch {
                table: literal(module, call, usize::MAX, "table_name")?,
            },
            None => return Ok(None),
        },
        m if TABLE_FIRST.contains(&m) => Op::Touch {
            table: name(0, "table_name")?,
        },
        m if TABLE_SECOND.contains(&m) => Op::Touch {
            table: name(
                1,
                if m == "create_foreign_key" {
                    "source_table"
                } else {
                    "table_name"
                },
            )?,
        },
        m if HARMLESS.contains(&m) => return Ok(None),
        other => {
            return Err(stop(format!(
                "op.{other}() is an operation this reading does not know"
            )))
        }
    };
    Ok(Some(op))
}

/// The change a call on a `batch_alter_table` block's name makes, on `table`.
fn batch_op(module: &Module, call: &Call, table: String) -> Result<Option<Op>, Unfollowable> {
    let name = |index: usize, keyword: &str| literal(module, call, index, keyword);
    let op = match call.method() {
        "add_column" => Op::AddColumn {
            column: column_name(
                module,
                call.arg(0, "column").ok_or_else(|| no_column(call))?,
            )?,
            table,
        },
        "drop_column" => Op::DropColumn {
            column: name(0, "column_name")?,
            table,
        },
        "alter_column" => match call.keyword("new_column_name") {
            Some(_) => Op::RenameColumn {
                from: name(0, "column_name")?,
                to: literal(module, call, usize::MAX, "new_column_name")?,
                table,
            },
            None => Op::Touch { table },
        },
        m if m.starts_with("create_") || m.starts_with("drop_") || HARMLESS.contains(&m) => {
            Op::Touch { table }
        }
        other => {
            return Err(Unfollowable {
                place: call.place,
                what: format!(
                    "{}() is a batch operation this reading does not know",
                    other
                ),
            })
        }
    };
    Ok(Some(op))
}

/// The table of the `with op.batch_alter_table("t") as name:` block a call on `name` is in
/// (the innermost one); `None` when the call is on no such name.
fn batch_table(module: &Module, call: &Call) -> Result<Option<String>, Unfollowable> {
    let Some(receiver) = call.receiver() else {
        return Ok(None);
    };
    let line = call.place.line;
    let block = module
        .withs
        .iter()
        .filter(|w| w.name == receiver && (w.lines.0..=w.lines.1).contains(&line))
        .max_by_key(|w| w.lines.0);
    let Some(block) = block else {
        return Ok(None);
    };
    let Kind::Call(callee) = &block.value.kind else {
        return Ok(None);
    };
    if !callee.ends_with("batch_alter_table") {
        return Ok(None);
    }
    let opener = find_call(module, &block.value).ok_or_else(|| Unfollowable {
        place: block.value.place,
        what: "a batch_alter_table() it cannot read".to_owned(),
    })?;
    literal(module, opener, 0, "table_name").map(Some)
}

/// Whether a callee makes a constraint or an index of a table, not a column.
fn is_table_item(callee: &str) -> bool {
    let last = callee.rsplit('.').next().unwrap_or(callee);
    last.ends_with("Constraint") || last == "Index"
}

/// The attribute a call calls (`execute` in `op.get_bind().execute(…)`), or its name's last
/// segment.
fn method(call: &Call) -> &str {
    call.attribute.as_deref().unwrap_or_else(|| call.method())
}

/// Whether a callee is `Column` (`sa.Column`, `sqlalchemy.Column`).
fn is_column(callee: &str) -> bool {
    callee.rsplit('.').next() == Some("Column")
}

/// The name of the column a `sa.Column("name", …)` value makes.
fn column_name(module: &Module, value: &Value) -> Result<String, Unfollowable> {
    let unnamed = || Unfollowable {
        place: value.place,
        what: "a column whose name is not written".to_owned(),
    };
    match &value.kind {
        Kind::Call(callee) if is_column(callee) => {
            let column = find_call(module, value).ok_or_else(unnamed)?;
            literal(module, column, 0, "name")
        }
        _ => Err(unnamed()),
    }
}

fn no_column(call: &Call) -> Unfollowable {
    Unfollowable {
        place: call.place,
        what: format!("{}() without a column", method(call)),
    }
}

/// The recorded call a call value stands for.
fn find_call<'a>(module: &'a Module, value: &Value) -> Option<&'a Call> {
    let Kind::Call(callee) = &value.kind else {
        return None;
    };
    module
        .calls
        .iter()
        .find(|c| c.name == *callee && c.place == value.place)
}

/// The string the `index`th argument (or keyword `keyword`) of `call` is, directly or through a
/// module-level name assigned once.
fn literal(
    module: &Module,
    call: &Call,
    index: usize,
    keyword: &str,
) -> Result<String, Unfollowable> {
    call.arg(index, keyword)
        .and_then(|v| module.literal(v))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Unfollowable {
            place: call.place,
            what: format!(
                "{}() is given a {keyword} that is not written",
                method(call)
            ),
        })
}

/// `metadata.create_all` passed as a value (`conn.run_sync(Base.metadata.create_all)`).
fn names_create_all(value: &Value) -> bool {
    matches!(&value.kind, Kind::Name(n) if n.rsplit('.').next() == Some("create_all"))
}

/// Whether an `execute` call runs SQL that changes no schema: a `select`/`insert`/`update`/
/// `delete` construct, or a literal (or `text(literal)`) without a DDL word.
fn ddl_free(module: &Module, call: &Call) -> Result<(), Unfollowable> {
    let Some(sql) = call.arg(0, "statement").or_else(|| call.arg(0, "sqltext")) else {
        return Ok(());
    };
    let sql = module.resolve(sql);
    // `sa.update(t)…`, `t.insert().values(…)`: the expression starts with a DML construct.
    let dml = module.calls.iter().any(|c| {
        c.place == sql.place && matches!(method(c), "select" | "insert" | "update" | "delete")
    });
    if dml {
        return Ok(());
    }
    let text = match &sql.kind {
        Kind::Str(s) | Kind::FStr(s) => Some(s.as_str()),
        Kind::Call(callee) if callee.rsplit('.').next() == Some("text") => find_call(module, sql)
            .and_then(|c| c.arg(0, "text"))
            .and_then(|v| module.literal(v))
            .and_then(Value::as_text),
        _ => None,
    };
    let changes = text.is_none_or(|t| {
        let lower = t.to_ascii_lowercase();
        lower
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .any(|w| DDL.contains(&w))
    });
    if changes {
        Err(Unfollowable {
            place: call.place,
            what: format!("{}() runs SQL that may change the schema", method(call)),
        })
    } else {
        Ok(())
    }
}

/// The string a module-level name is assigned.
fn module_str(module: &Module, name: &str) -> Option<String> {
    let assign = module
        .assigns
        .iter()
        .find(|a| a.module_level && a.target == name)?;
    assign.value.as_str().map(str::to_owned)
}

/// The strings a module-level name is assigned: one, or a tuple or list of them.
fn module_strs(module: &Module, name: &str) -> Vec<String> {
    let Some(assign) = module
        .assigns
        .iter()
        .find(|a| a.module_level && a.target == name)
    else {
        return Vec::new();
    };
    match &assign.value.kind {
        Kind::Str(s) => vec![s.clone()],
        Kind::Seq(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// The columns a table has after the revisions: all of them, or some (the table was made
/// elsewhere, or renamed from one made elsewhere, and the revisions changed it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Columns {
    Known(BTreeSet<String>),
    AtLeast(BTreeSet<String>),
}

impl Columns {
    fn names(&mut self) -> &mut BTreeSet<String> {
        let (Columns::Known(names) | Columns::AtLeast(names)) = self;
        names
    }

    /// Adds what `other` has; the columns are then all known only if both were.
    fn merge(&mut self, other: Columns) {
        let partial = matches!(other, Columns::AtLeast(_));
        let (Columns::Known(more) | Columns::AtLeast(more)) = other;
        let names = self.names();
        names.extend(more);
        if partial {
            let names = std::mem::take(names);
            *self = Columns::AtLeast(names);
        }
    }
}

/// The tables the revisions leave, with their columns.
pub(super) type Schema = BTreeMap<String, Columns>;

/// The schema `revisions` build, applied in the order their `down_revision`s and
/// `depends_on`s give, each file's changes in the order they are written. When that order
/// cannot be known (an id that is not a literal, a cycle), every creation is applied and no
/// drop: the schema is then at least what the revisions make.
pub(super) fn schema(revisions: &[Revision]) -> Schema {
    match order(revisions) {
        Some(order) => {
            let mut schema = Schema::new();
            for i in order {
                for op in &revisions[i].ops {
                    apply(&mut schema, op);
                }
            }
            schema
        }
        None => union(revisions),
    }
}

/// The revisions' indices, parents first (ties in the order given); `None` when unknown.
fn order(revisions: &[Revision]) -> Option<Vec<usize>> {
    let ids: Vec<&str> = revisions
        .iter()
        .map(|r| r.id.as_deref())
        .collect::<Option<_>>()?;
    let index: BTreeMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let parents: Vec<Vec<usize>> = revisions
        .iter()
        .map(|r| {
            r.after
                .iter()
                .filter_map(|p| index.get(p.as_str()).copied())
                .collect()
        })
        .collect();
    let mut done = vec![false; revisions.len()];
    let mut order = Vec::new();
    while order.len() < revisions.len() {
        let next =
            (0..revisions.len()).find(|&i| !done[i] && parents[i].iter().all(|&p| done[p]))?;
        done[next] = true;
        order.push(next);
    }
    Some(order)
}

/// One change, applied in order. `create_table` fails on a table that is there, so a table
/// already seen when it is created (changed by a helper written above, or made in another
/// branch of an `if`) keeps what was seen of it, with the created columns.
fn apply(schema: &mut Schema, op: &Op) {
    match op {
        Op::CreateTable { table, columns } => {
            let mut created = Columns::Known(columns.iter().cloned().collect());
            if let Some(mut seen) = schema.remove(table) {
                created.names().append(seen.names());
            }
            schema.insert(table.clone(), created);
        }
        Op::AddColumn { table, column } => {
            entry(schema, table).names().insert(column.clone());
        }
        Op::DropColumn { table, column } => {
            entry(schema, table).names().remove(column);
        }
        Op::RenameColumn { table, from, to } => {
            let names = entry(schema, table).names();
            names.remove(from);
            names.insert(to.clone());
        }
        Op::DropTable { table } => {
            schema.remove(table);
        }
        Op::RenameTable { from, to } => {
            let columns = schema
                .remove(from)
                .unwrap_or(Columns::AtLeast(BTreeSet::new()));
            schema.insert(to.clone(), columns);
        }
        Op::Touch { table } => {
            entry(schema, table);
        }
    }
}

/// A table's columns; a table no revision made so far is there, with only some columns known.
fn entry<'a>(schema: &'a mut Schema, table: &str) -> &'a mut Columns {
    schema
        .entry(table.to_owned())
        .or_insert_with(|| Columns::AtLeast(BTreeSet::new()))
}

/// Every creation of `revisions` without an order: tables and columns created, renamed copies
/// (kept under both names), and nothing dropped.
fn union(revisions: &[Revision]) -> Schema {
    let ops: Vec<&Op> = revisions.iter().flat_map(|r| &r.ops).collect();
    let mut schema = Schema::new();
    for op in &ops {
        if let Op::CreateTable { table, columns } = op {
            schema
                .entry(table.clone())
                .or_insert_with(|| Columns::Known(BTreeSet::new()))
                .names()
                .extend(columns.iter().cloned());
        }
    }
    // A rename copies what is known of the old table; copies of copies need more rounds.
    for _ in 0..=ops.len() {
        let before = schema.clone();
        for op in &ops {
            match op {
                Op::AddColumn { table, column }
                | Op::RenameColumn {
                    table, to: column, ..
                } => {
                    entry(&mut schema, table).names().insert(column.clone());
                }
                Op::RenameTable { from, to } => {
                    let old = schema
                        .get(from)
                        .cloned()
                        .unwrap_or(Columns::AtLeast(BTreeSet::new()));
                    match schema.get_mut(to) {
                        Some(new) => new.merge(old),
                        None => {
                            schema.insert(to.clone(), old);
                        }
                    }
                }
                Op::DropColumn { table, .. } | Op::Touch { table } => {
                    entry(&mut schema, table);
                }
                Op::CreateTable { .. } | Op::DropTable { .. } => {}
            }
        }
        if schema == before {
            break;
        }
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revision(src: &str) -> Result<Revision, Unfollowable> {
        read(&Module::parse(src).expect("valid Python"))
    }

    fn ops(src: &str) -> Vec<Op> {
        revision(src).expect("followable").ops
    }

    fn create(table: &str, columns: &[&str]) -> Op {
        Op::CreateTable {
            table: table.into(),
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        }
    }

    const GUARDED: &str = r#"from app.schema import adopt
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "base_0001"
down_revision = None
branch_labels = ("base",)
depends_on = "root_0001"


def upgrade() -> None:
    if adopt("sessions", {"id", "token_hash", "created_at"}):
        op.create_table(
            "sessions",
            sa.Column("id", sa.Uuid(), nullable=False),
            sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_sessions_token_hash", "sessions", ["token_hash"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_sessions_token_hash", table_name="sessions")
    op.drop_table("sessions")
"#;

    #[test]
    fn a_create_table_inside_an_if_makes_its_columns_and_downgrade_is_left_out() {
        let revision = revision(GUARDED).expect("followable");
        assert_eq!(revision.id.as_deref(), Some("base_0001"));
        assert_eq!(revision.after, vec!["root_0001".to_owned()]);
        assert_eq!(
            revision.ops,
            vec![
                create("sessions", &["id", "token_hash", "created_at"]),
                Op::Touch {
                    table: "sessions".into()
                },
            ]
        );
    }

    #[test]
    fn add_drop_rename_and_batch_blocks_are_read_in_order() {
        let src = r#"from alembic import op
import sqlalchemy as sa
TABLE = "items"
revision = "b"
down_revision = ("a", "c")
def upgrade():
    op.add_column(TABLE, sa.Column("price", sa.Integer()))
    op.drop_column("items", "legacy")
    op.alter_column("items", "name", new_column_name="title", existing_type=sa.String())
    op.alter_column("items", "title", nullable=False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(), nullable=True))
        batch_op.drop_column("nickname")
        batch_op.create_index("ix_users_email", ["email"])
    with op.batch_alter_table("orders") as batch_op:
        batch_op.alter_column("total", new_column_name="amount")
    op.rename_table("orders", "purchases")
    op.drop_table("old")
"#;
        let r = revision(src).expect("followable");
        assert_eq!(r.after, vec!["a".to_owned(), "c".to_owned()]);
        let s = |x: &str| x.to_owned();
        assert_eq!(
            r.ops,
            vec![
                Op::AddColumn {
                    table: s("items"),
                    column: s("price")
                },
                Op::DropColumn {
                    table: s("items"),
                    column: s("legacy")
                },
                Op::RenameColumn {
                    table: s("items"),
                    from: s("name"),
                    to: s("title")
                },
                Op::Touch { table: s("items") },
                Op::Touch { table: s("users") },
                Op::AddColumn {
                    table: s("users"),
                    column: s("email")
                },
                Op::DropColumn {
                    table: s("users"),
                    column: s("nickname")
                },
                Op::Touch { table: s("users") },
                Op::Touch { table: s("orders") },
                Op::RenameColumn {
                    table: s("orders"),
                    from: s("total"),
                    to: s("amount")
                },
                Op::RenameTable {
                    from: s("orders"),
                    to: s("purchases")
                },
                Op::DropTable { table: s("old") },
            ]
        );
    }

    #[test]
    fn what_cannot_be_followed_is_said_so() {
        let cases = [
            "from alembic import op\ndef upgrade():\n    op.execute('ALTER TABLE items ADD COLUMN x int')\n",
            "from alembic import op\nimport sqlalchemy as sa\ndef upgrade():\n    for name in ['a', 'b']:\n        op.add_column('items', sa.Column(name, sa.Integer()))\n",
            "from alembic import op\nimport sqlalchemy as sa\ndef upgrade():\n    for t in TABLES:\n        op.create_table(t, sa.Column('id', sa.Integer()))\n",
            "from alembic import op\nimport sqlalchemy as sa\ndef upgrade():\n    op.create_table('t', *columns())\n",
            "from alembic import op\ndef upgrade():\n    SQLModel.metadata.create_all(op.get_bind())\n",
            "from alembic import op\ndef upgrade():\n    op.invoke(something)\n",
            "from alembic import op\ndef upgrade():\n    op.get_bind().execute(sa.text(SQL))\n",
            "from alembic import op\ndef upgrade():\n    status.create(op.get_bind(), checkfirst=True)\n",
        ];
        for src in cases {
            assert!(revision(src).is_err(), "{src}");
        }
        let data = "from alembic import op\nimport sqlalchemy as sa\ndef upgrade():\n    op.execute(\"UPDATE items SET price = 0 WHERE price IS NULL\")\n    op.get_bind().execute(sa.text('select 1'))\ndef downgrade():\n    op.execute('DROP TABLE items')\n";
        assert_eq!(ops(data), vec![]);
        // Rows moved with SQLAlchemy's constructs change no schema.
        let moved = "from alembic import op\nimport sqlalchemy as sa\ndef _move(owner):\n    bind = op.get_bind()\n    tasks = sa.table('tasks', sa.column('session_id', sa.Uuid()))\n    moved = bind.execute(tasks.update().values(session_id=owner)).rowcount\n    bind.execute(sa.delete(tasks).where(tasks.c.session_id.is_(None)))\n";
        assert_eq!(ops(moved), vec![]);
    }

    #[test]
    fn a_column_added_in_the_source_before_its_table_is_created_is_kept() {
        // A helper written above `upgrade()` adds a column; whichever runs first, the table
        // has it, or the create_table (which fails on a table already there) did not run.
        let src = "from alembic import op\nimport sqlalchemy as sa\nrevision = '1'\ndef _backfill():\n    with op.batch_alter_table('tasks') as batch:\n        batch.add_column(sa.Column('session_id', sa.Uuid()))\ndef upgrade():\n    if legacy():\n        _backfill()\n    op.create_table('tasks', sa.Column('id', sa.Uuid()), sa.Column('title', sa.String()))\n";
        let schema = schema(&[revision(src).expect("followable")]);
        let columns = ["id", "session_id", "title"].map(str::to_owned);
        assert_eq!(
            schema.get("tasks"),
            Some(&Columns::Known(columns.into_iter().collect()))
        );
    }

    #[test]
    fn the_schema_follows_the_revision_order_not_the_file_order() {
        let s = |x: &str| x.to_owned();
        let second = Revision {
            id: Some(s("2")),
            after: vec![s("1")],
            ops: vec![
                Op::DropColumn {
                    table: s("items"),
                    column: s("legacy"),
                },
                Op::RenameTable {
                    from: s("items"),
                    to: s("products"),
                },
                Op::AddColumn {
                    table: s("made_elsewhere"),
                    column: s("x"),
                },
            ],
        };
        let first = Revision {
            id: Some(s("1")),
            after: vec![],
            ops: vec![create("items", &["id", "legacy"]), create("gone", &["id"])],
        };
        let third = Revision {
            id: Some(s("3")),
            after: vec![s("2")],
            ops: vec![Op::DropTable { table: s("gone") }],
        };
        let schema = schema(&[third.clone(), second.clone(), first.clone()]);
        let known = |cols: &[&str]| Columns::Known(cols.iter().map(|c| (*c).to_owned()).collect());
        let at_least =
            |cols: &[&str]| Columns::AtLeast(cols.iter().map(|c| (*c).to_owned()).collect());
        assert_eq!(
            schema,
            Schema::from([
                (s("made_elsewhere"), at_least(&["x"])),
                (s("products"), known(&["id"])),
            ])
        );
        // Without ids, the order is unknown: creations count, drops do not.
        let unordered: Vec<Revision> = [third, second, first]
            .into_iter()
            .map(|r| Revision { id: None, ..r })
            .collect();
        assert_eq!(
            super::schema(&unordered),
            Schema::from([
                (s("gone"), known(&["id"])),
                (s("items"), known(&["id", "legacy"])),
                (s("made_elsewhere"), at_least(&["x"])),
                (s("products"), known(&["id", "legacy"])),
            ])
        );
    }
}

use super::models::tables;
use super::revisions::{schema, Columns};
use super::{alembic, create_all_calls, inside_any};
use crate::check::finding::rule;
use crate::check::python::Module;
use crate::check::rules::{is_test, Facts};
use crate::check::Finding;

rule! {
    /// ## What it does
    /// In a project whose schema Alembic makes (revision files in the `versions` folder that
    /// `alembic.ini` names, or in `migrations/versions/` or `alembic/versions/`), reports a
    /// table model (a SQLModel class with `table=True`, a SQLAlchemy class with
    /// `__tablename__`) whose table no revision creates, and a column of one (a plain field,
    /// `Column`, `mapped_column`, `Field`; not a relationship) that no revision adds. The
    /// revisions are read in their `down_revision` order: `op.create_table`,
    /// `op.add_column`, `op.drop_column`, `op.alter_column(new_column_name=…)`,
    /// `op.drop_table`, `op.rename_table`, and the same in `op.batch_alter_table` blocks,
    /// wherever they are in the file (inside an `if` too), `downgrade()` aside. When a
    /// revision does what cannot be followed (a name computed in a loop, raw DDL in
    /// `op.execute`, `create_all`), nothing is reported. A missing table is not reported when
    /// the app also calls `create_all`, which makes it.
    ///
    /// ## Why it breaks a Space
    /// The database the Space starts with is what the revisions build, not what the models
    /// say. A model changed without a revision works on the developer's database (made by
    /// `create_all`, or changed by hand) and fails on every other: the first query that names
    /// the new column fails ("column … does not exist", "no such table"), on a fresh database
    /// and on the persistent one alike.
    ///
    /// ## Example
    /// ```python
    /// class Task(SQLModel, table=True):
    ///     __tablename__ = "tasks"
    ///     id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    ///     title: str
    ///     priority: int = 0  # no revision adds tasks.priority
    /// ```
    ///
    /// ## Fix
    /// Generate the missing revision from the models against a database at the newest
    /// revision, review it, and commit it with the model:
    /// ```sh
    /// alembic upgrade heads
    /// alembic revision --autogenerate -m "add tasks.priority"
    /// ```
    ///
    /// ## References
    /// - Alembic, auto generating migrations: <https://alembic.sqlalchemy.org/en/latest/autogenerate.html>
    /// - Alembic, operation reference: <https://alembic.sqlalchemy.org/en/latest/ops.html>
    pub(crate) static RULE = "SG225", "model-without-revision", Error;
    why: "the database is built by the Alembic revisions, and none of them makes this table or column: the first query that uses it fails";
    fix: "run `alembic revision --autogenerate -m \"…\"` against a database at the newest revision, review the revision and commit it";
}

pub(crate) fn check(facts: &Facts<'_>, findings: &mut Vec<Finding>) {
    let Some(alembic) = alembic(facts) else {
        return;
    };
    let built = schema(&alembic.revisions);
    let creates_all = !create_all_calls(facts).is_empty();
    let models: Vec<(&str, &Module)> = facts
        .python
        .iter()
        .filter(|(f, _)| !is_test(f) && !inside_any(f, &alembic.folders))
        .map(|(f, m)| (*f, m))
        .collect();
    for table in tables(&models) {
        match built.get(&table.name) {
            None if !creates_all => findings.push(
                Finding::new(
                    &RULE,
                    table.file,
                    table.place.line,
                    format!(
                        "the Alembic revisions build no table \"{}\" (model {}): `alembic revision --autogenerate -m \"add {}\"` makes the missing revision",
                        table.name, table.class, table.name
                    ),
                )
                .at_column(table.place.column),
            ),
            Some(Columns::Known(columns)) => {
                for column in table.columns.iter().filter(|c| !columns.contains(&c.name)) {
                    findings.push(
                        Finding::new(
                            &RULE,
                            column.file,
                            column.place.line,
                            format!(
                                "the Alembic revisions build table \"{}\" without column \"{}\" ({}.{}): `alembic revision --autogenerate -m \"add {}.{}\"` makes the missing revision",
                                table.name, column.name, table.class, column.field, table.name, column.name
                            ),
                        )
                        .at_column(column.place.column),
                    );
                }
            }
            None | Some(Columns::AtLeast(_)) => {}
        }
    }
}

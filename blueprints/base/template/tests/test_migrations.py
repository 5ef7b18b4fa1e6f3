"""The schema's revisions (``app.schema``, ``app/migrations``): they build exactly the tables the
models define, adopt a database made before them, apply once under concurrent starts, change
nothing when one fails, and are only checked with MIGRATE_ON_START off."""

from __future__ import annotations

import asyncio
import multiprocessing
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import app.main  # noqa: F401  (imports every table the app defines)
from app import schema
from app.db import Database
from tests.support import sqlite_url


@contextmanager
def _connected(path: Path) -> Iterator[Connection]:
    """A synchronous connection to the SQLite file, its engine disposed after (an engine left to
    the garbage collector leaves its connection open: a ResourceWarning on Python 3.13)."""
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def _version_rows(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as connection:
        return {row[0] for row in connection.execute("SELECT version_num FROM alembic_version")}


def _tables(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {row[0] for row in rows}


def _start(url: str, migrate: bool = True) -> Database:
    async def main() -> Database:
        database = Database(url, migrate=migrate)
        await database.start()
        await database.stop()
        return database

    return asyncio.run(main())


def test_the_models_match_the_newest_revisions(tmp_path: Path) -> None:
    """What ``alembic check`` asks: the revisions, applied, give the tables the models define;
    a model changed without a revision fails here."""
    path = tmp_path / "app.db"
    database = _start(sqlite_url(path))
    assert database.startup_error is None, database.startup_error
    with _connected(path) as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
        assert schema.pending(connection) == []
    assert differences == [], f"the models differ from the newest revisions: {differences}"


def test_a_database_made_before_revisions_is_adopted_with_its_data(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    engine = create_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)  # how the backend made its tables before revisions
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO sessions (id, token_hash, created_at) VALUES (?, ?, ?)",
            (uuid.uuid4().hex, "a" * 64, "2026-01-01 00:00:00.000000"),
        )
    engine.dispose()
    database = _start(sqlite_url(path))
    assert database.startup_error is None, database.startup_error
    with closing(sqlite3.connect(path)) as connection:
        assert connection.execute("SELECT token_hash FROM sessions").fetchall() == [("a" * 64,)]
    assert _version_rows(path)


def test_a_table_the_revisions_do_not_know_is_refused_naming_the_revision(tmp_path: Path) -> None:
    """A sessions table without a column the revisions know how to add (something else made
    it): the revision that would adopt it fails by name, and nothing of it is applied."""
    path = tmp_path / "app.db"
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE sessions (id CHAR(32) PRIMARY KEY, token_hash VARCHAR(64))")
        connection.commit()
    database = _start(sqlite_url(path))
    assert database.sessionmaker is None
    reason = database.startup_reason or ""
    assert "migration base_0001 failed" in reason, reason
    assert "alembic upgrade heads" in reason
    assert "created_at" in (database.startup_error or "")
    assert _tables(path) == {"sessions"}, "nothing of the failed revision stays"


def test_a_failing_revision_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Revisions apply in one transaction: one that fails after creating a table leaves neither
    that table nor the revisions before it (SQLite's DDL runs inside BEGIN IMMEDIATE)."""
    migrations = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS, migrations)
    heads = " ".join(f'"{h}",' for h in schema.heads())
    (migrations / "versions" / "zz_broken.py").write_text(
        '"""A revision that fails half-way."""\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        'revision = "zz_broken"\n'
        f"down_revision = ({heads})\n"
        "branch_labels = None\ndepends_on = None\n\n"
        "def upgrade():\n"
        '    op.create_table("half_way", sa.Column("id", sa.Integer, primary_key=True))\n'
        '    raise RuntimeError("broken on purpose")\n\n'
        "def downgrade():\n    pass\n"
    )
    monkeypatch.setattr(schema, "MIGRATIONS", migrations)
    path = tmp_path / "app.db"
    database = _start(sqlite_url(path))
    assert "migration zz_broken failed" in (database.startup_reason or ""), database.startup_reason
    assert "broken on purpose" in (database.startup_error or "")
    assert _tables(path) <= {"alembic_version"}, _tables(path)


def _upgrade_in_a_process(url: str, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    database = Database(url)

    async def main() -> list[str]:
        from app.db import create_engine as app_engine
        from app.db import normalize_database_url

        engine = app_engine(normalize_database_url(url), None)
        schema.lock_transactions(engine)
        try:
            return await schema.upgrade(engine)
        finally:
            await engine.dispose()

    try:
        results.put(("ok", asyncio.run(main())))
    except Exception as exc:  # reported to the test
        results.put(("error", repr(exc)))
    del database


def test_concurrent_starts_apply_each_revision_once(tmp_path: Path) -> None:
    """Four processes start on one new database at once (several workers, or the old and the
    new container of a rebuild): each revision is applied by exactly one of them."""
    url = sqlite_url(tmp_path / "app.db")
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [context.Process(target=_upgrade_in_a_process, args=(url, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    errors = [o for o in outcomes if o[0] != "ok"]
    assert not errors, errors
    applied = sorted(rev for _, revs in outcomes for rev in revs)
    with _connected(tmp_path / "app.db") as connection:
        assert schema.pending(connection) == []
    assert len(applied) == len(set(applied)), f"a revision applied twice: {applied}"
    assert applied, "no process applied anything"


def test_with_migrate_on_start_off_a_database_behind_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    database = _start(sqlite_url(path), migrate=False)
    assert database.sessionmaker is None
    reason = database.startup_reason or ""
    assert "MIGRATE_ON_START is off" in reason and "alembic upgrade heads" in reason, reason
    assert _tables(path) <= {"alembic_version"}
    # Brought up by hand (as `alembic upgrade heads` does), the app starts.
    assert _start(sqlite_url(path)).startup_error is None
    assert _start(sqlite_url(path), migrate=False).startup_error is None

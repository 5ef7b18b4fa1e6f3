"""The database schema: its revisions (Alembic, ``app/migrations/versions``), brought to the
newest ones when the app starts.

Each part of the backend keeps its revisions on a branch of its own (``base``, ``chat``, the
backend's), so every part adds revisions without touching another's; the newest of each are the
*heads*. A revision is applied once, by one process, whole or not at all:

- on PostgreSQL, every pending revision runs in one transaction (PostgreSQL's DDL is
  transactional) holding an advisory lock, so several workers, or the old and the new container
  of a Space being rebuilt, wait for each other; the one that comes second finds nothing to do;
- on SQLite, in one ``BEGIN IMMEDIATE`` transaction: the write lock other migrators (and
  writers) wait on, with SQLite's DDL inside it; tables are altered in Alembic's batch mode
  (copied, since SQLite's ALTER TABLE cannot do most changes).

A failed revision changes nothing: the app keeps running, /health answers 503 naming the
revision and what to do, the database routes answer 503. With MIGRATE_ON_START off, nothing is
applied: a database behind the code is reported the same way, to be brought up by hand
(``alembic upgrade heads``).

A database made before the revisions (by ``create_all``) needs nothing: each part's first
revision creates only the tables that are not there yet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger(__name__)

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "app" / "migrations"
# The key of the PostgreSQL advisory lock migrations hold ("spacegen" in ASCII).
LOCK_KEY = 0x7370_6163_6567_656E
# How long a migration waits for another one (or a long write) on SQLite.
SQLITE_LOCK_TIMEOUT_MS = 120_000


class SchemaError(Exception):
    """The schema is not what the code needs: ``reason`` says why, in words safe to show
    anyone, with what to do."""

    def __init__(self, reason: str, cause: BaseException | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.cause = cause


def config(connection: Connection | None = None, metadata: MetaData | None = None) -> Config:
    """Alembic's configuration, with the connection to migrate on (the app's) and the tables
    the code defines (for ``check``)."""
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    cfg.attributes["target_metadata"] = metadata
    return cfg


def heads() -> tuple[str, ...]:
    """The newest revisions, one per branch."""
    return tuple(sorted(ScriptDirectory.from_config(config()).get_heads()))


def pending(connection: Connection) -> list[str]:
    """The revisions the database lacks, in the order they apply."""
    script = ScriptDirectory.from_config(config())
    current = MigrationContext.configure(connection).get_current_heads()
    # What `alembic upgrade heads` would apply, computed as it computes it.
    steps = script._upgrade_revs("heads", current)
    return [step.revision.revision for step in steps]


def lock_transactions(engine: AsyncEngine) -> None:
    """Makes ``engine``'s transactions take the write lock on SQLite: ``BEGIN IMMEDIATE`` (the
    driver would otherwise begin only before a write, leaving DDL outside the transaction),
    waiting up to :data:`SQLITE_LOCK_TIMEOUT_MS` for it, with foreign keys off (batch mode
    copies tables; the keys are checked before the commit instead). PostgreSQL needs nothing:
    :func:`in_lock` takes an advisory lock."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine.sync_engine, "connect")
    def _no_implicit_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_LOCK_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=OFF")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin_immediate(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


async def in_lock(engine: AsyncEngine, work: Callable[[Connection], T]) -> T:
    """Runs ``work`` in one transaction holding the migration lock."""
    async with engine.connect() as connection:
        async with connection.begin():
            if connection.dialect.name == "postgresql":
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _signed(LOCK_KEY)}
                )
            return await connection.run_sync(work)


async def upgrade(engine: AsyncEngine, apply: bool = True) -> list[str]:
    """Brings the database to the heads under the lock, in one transaction; returns the
    revisions applied. With ``apply`` off, applies nothing and raises :class:`SchemaError` when
    the database is behind. A failed revision raises :class:`SchemaError` naming it (the
    transaction, rolled back, leaves the database as it was); a server that cannot be reached
    raises the driver's error, so the caller tries again."""
    return await in_lock(engine, _upgrade if apply else _require_current)


def _signed(key: int) -> int:
    """``key`` as PostgreSQL's signed bigint."""
    return key - (1 << 64) if key >= 1 << 63 else key


def _require_current(connection: Connection) -> list[str]:
    todo = pending(connection)
    if todo:
        raise SchemaError(
            f"the database lacks revision {todo[0]} (and {len(todo) - 1} more) and "
            "MIGRATE_ON_START is off: run `alembic upgrade heads`, or turn MIGRATE_ON_START on"
            if len(todo) > 1
            else f"the database lacks revision {todo[0]} and MIGRATE_ON_START is off: run "
            "`alembic upgrade heads`, or turn MIGRATE_ON_START on"
        )
    return []


def _upgrade(connection: Connection) -> list[str]:
    todo = pending(connection)
    if not todo:
        return []
    cfg = config(connection)
    applied: list[str] = []
    cfg.attributes["on_version_apply"] = lambda **kw: applied.extend(
        r.revision for r in kw["step"].up_revisions
    ) if kw["step"].is_upgrade else None
    try:
        command.upgrade(cfg, "heads")
        if connection.dialect.name == "sqlite":
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"{len(broken)} rows break a foreign key: {broken[:3]}")
    except Exception as exc:
        failed = next((r for r in todo if r not in applied), todo[-1])
        raise SchemaError(
            f"migration {failed} failed, and nothing of it was applied: fix the revision (or "
            "the data it trips on), then restart or run `alembic upgrade heads`",
            exc,
        ) from exc
    return applied


def adopt(table: str, columns: set[str]) -> bool:
    """For a part's first revision: whether ``table`` must be created. A database made before
    the revisions (``create_all``) already has it; it is adopted as it is when it has
    ``columns``, and refused otherwise (an older backend's table: a revision must move it, which
    this one cannot do), so nothing runs against a table it does not know."""
    from alembic import op
    from sqlalchemy import inspect

    inspector = inspect(op.get_bind())
    if not inspector.has_table(table):
        return True
    present = {c["name"] for c in inspector.get_columns(table)}
    missing = sorted(columns - present)
    if missing:
        raise RuntimeError(
            f"table {table} exists without {', '.join(missing)}: it was made by an older "
            "version of this backend, which a later revision must bring up to date"
        )
    return False

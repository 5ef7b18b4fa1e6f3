"""The database layer: WAL mode, concurrent writers, the data directory, URL handling."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import socket
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from contextlib import closing
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from sqlmodel import col, func, select

from app import db as db_module
from app.db import (
    SQLITE_BUSY_TIMEOUT_MS,
    Database,
    PoolLimits,
    engine_options,
    explain_rewrites,
    is_pooled,
    mask_url,
    normalize_database_url,
    scrub,
)
from app.dependencies import CurrentSessionDep, DbDep
from app.edge import wrap
from app.main import create_api
from app.sessions import SessionRecord, hash_token
from tests.support import MakeSettings, new_session, sqlite_url

T = TypeVar("T")


def run_with_database(url: str, scenario: Callable[[Database], Awaitable[T]]) -> T:
    """Start a Database on ``url``, run ``scenario(database)``, stop it; return the result."""

    async def main() -> T:
        database = Database(url)
        await database.start()
        assert database.startup_error is None, database.startup_error
        try:
            return await scenario(database)
        finally:
            await database.stop()

    return asyncio.run(main())


def test_start_creates_the_data_directory_and_the_tables(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "data" / "app.db"
    assert not path.parent.exists()

    async def tables(database: Database) -> set[str]:
        assert database.engine is not None
        async with database.engine.connect() as conn:
            rows = await conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))
            return {row[0] for row in rows}

    assert "sessions" in run_with_database(sqlite_url(path), tables)
    assert path.is_file()


def test_wal_mode_and_busy_timeout_are_on(tmp_path: Path) -> None:
    path = tmp_path / "app.db"

    async def pragmas(database: Database) -> tuple[str, int]:
        assert database.engine is not None
        async with database.engine.connect() as conn:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
            timeout = (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one()
            return mode, timeout

    assert run_with_database(sqlite_url(path), pragmas) == ("wal", SQLITE_BUSY_TIMEOUT_MS)
    # WAL is recorded in the file itself: any other client sees it too.
    with closing(sqlite3.connect(path)) as conn:  # `with` alone does not close it
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def _count_updated(database: Database) -> int:
    assert database.sessionmaker is not None
    async with database.sessionmaker() as session:
        statement = (
            select(func.count())
            .select_from(SessionRecord)
            .where(col(SessionRecord.token_hash).startswith("updated-"))
        )
        return (await session.exec(statement)).one()


async def _write_concurrently(database: Database, writers: int) -> None:
    """``writers`` concurrent requests' worth of work, each on its own connection: insert a row,
    then read it back and update it."""
    assert database.sessionmaker is not None
    sessionmaker = database.sessionmaker

    async def write(n: int) -> None:
        async with sessionmaker() as session:
            record = SessionRecord(token_hash=hash_token(f"{id(database)}-{n}"))
            session.add(record)
            await session.commit()
        async with sessionmaker() as session:
            stored = await session.get(SessionRecord, record.id)
            assert stored is not None
            stored.token_hash = f"updated-{id(database)}-{n}"
            session.add(stored)
            await session.commit()

    await asyncio.gather(*(write(n) for n in range(writers)))


def test_concurrent_writes_succeed(tmp_path: Path) -> None:
    async def scenario(database: Database) -> int:
        await _write_concurrently(database, 40)
        return await _count_updated(database)

    assert run_with_database(sqlite_url(tmp_path / "app.db"), scenario) == 40


def test_two_processes_worth_of_engines_can_write_at_once(tmp_path: Path) -> None:
    """Like two uvicorn workers on one file: separate engines, separate connection pools."""
    url = sqlite_url(tmp_path / "app.db")

    async def main() -> int:
        first, second = Database(url), Database(url)
        await first.start()
        await second.start()
        try:
            await asyncio.gather(_write_concurrently(first, 25), _write_concurrently(second, 25))
            return await _count_updated(first)
        finally:
            await first.stop()
            await second.stop()

    assert asyncio.run(main()) == 50


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "postgres://u:p@ep-x.neon.tech/db?sslmode=require&channel_binding=require",
            "postgresql+asyncpg://u:p@ep-x.neon.tech/db?ssl=require",
        ),
        ("postgresql://u:p@host/db", "postgresql+asyncpg://u:p@host/db"),
        (
            "postgresql+asyncpg://u:p@host/db?ssl=require",
            "postgresql+asyncpg://u:p@host/db?ssl=require",
        ),
        (
            "postgresql+psycopg://u:p@host/db?sslmode=require",
            "postgresql+psycopg://u:p@host/db?sslmode=require",
        ),
        ("sqlite+aiosqlite:///./data/app.db", "sqlite+aiosqlite:///./data/app.db"),
    ],
)
def test_normalize_database_url(raw: str, expected: str) -> None:
    assert normalize_database_url(raw).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("postgresql://user:password@host/db", "postgresql://user:***@host/db"),
        ("postgresql://user@host/db", "postgresql://user@host/db"),
        ("sqlite+aiosqlite:///./data/app.db", "sqlite+aiosqlite:///./data/app.db"),
        ("postgresql://user:p@ss@host/db", "postgresql://user:***@host/db"),
        ("postgresql://user:pa/ss@host/db", "postgresql://user:***@host/db"),
        ("postgresql://user:pa:ss@host:notaport/db", "postgresql://user:***@host:notaport/db"),
        ("postgresql://user:p@ss@host/db?x=@", "postgresql://user:***@"),
        ("user:secret@host/db", "<not a valid database URL>"),
        ("not a url", "not a url"),
        ("", ""),
    ],
)
def test_mask_url_never_shows_any_part_of_a_password(raw: str, expected: str) -> None:
    assert mask_url(raw) == expected


@pytest.mark.parametrize("raw", ["\udc80://x:y@z", "a" * 100_000 + "@", "://@@@", "x://:@"])
def test_mask_url_never_raises(raw: str) -> None:
    assert isinstance(mask_url(raw), str)


def test_scrub_removes_password_pieces_from_driver_messages() -> None:
    url = "postgresql://user:p@ssw/ord1@db.example/app"
    message = "gaierror: could not resolve host 'ssw/ord1@db.example'"
    assert "ssw" not in scrub(message, url) and "ord1" not in scrub(message, url)


@pytest.mark.parametrize(
    ("host", "pooled"),
    [
        ("ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech", True),
        ("EP-X-POOLER.c-2.us-east-1.aws.neon.tech", True),
        ("ep-cool-darkness-123456.us-east-2.aws.neon.tech", False),
        ("pooler.example.com", False),
        ("db.example.com-pooler", False),
    ],
)
def test_a_pooled_neon_endpoint_is_recognised(host: str, pooled: bool) -> None:
    assert is_pooled(normalize_database_url(f"postgres://u:p@{host}/db")) is pooled


def test_a_pooled_endpoint_gets_no_statement_cache_and_no_pool_of_its_own() -> None:
    url = normalize_database_url(
        "postgresql://u:p@ep-x-pooler.eu-central-1.aws.neon.tech/neondb?sslmode=require"
    )
    options = engine_options(url)
    assert options["poolclass"] is NullPool
    args = options["connect_args"]
    assert args["statement_cache_size"] == 0
    assert args["prepared_statement_cache_size"] == 0
    names = {args["prepared_statement_name_func"]() for _ in range(3)}
    assert len(names) == 3, "every prepared statement needs a name of its own"


def test_a_direct_endpoint_is_pinged_before_use_and_a_pool_is_bounded() -> None:
    limits = PoolLimits(size=3, max_overflow=1, timeout_s=0.5)
    direct = engine_options(normalize_database_url("postgres://u:p@ep-x.aws.neon.tech/db"), limits)
    assert direct["pool_pre_ping"] is True
    assert "poolclass" not in direct
    assert (direct["pool_size"], direct["max_overflow"], direct["pool_timeout"]) == (3, 1, 0.5)
    assert 0 < direct["connect_args"]["timeout"] <= 30
    sqlite = engine_options(make_url("sqlite+aiosqlite:///./data/app.db"), limits)
    assert (sqlite["pool_size"], sqlite["max_overflow"], sqlite["pool_timeout"]) == (3, 1, 0.5)
    # No pool at all: the health check's engine.
    assert engine_options(make_url("sqlite+aiosqlite:///./data/app.db"), None) == {
        "poolclass": NullPool
    }
    assert engine_options(make_url("sqlite+aiosqlite:///:memory:"), limits) == {}
    assert engine_options(make_url("postgresql+psycopg://u:p@host/db"), limits) == {}


def test_the_log_says_what_was_rewritten_in_a_console_url(
    caplog: pytest.LogCaptureFixture,
) -> None:
    raw = "postgresql://u:secret@ep-x-pooler.neon.tech/db?sslmode=require&channel_binding=require"
    caplog.set_level(logging.INFO, logger="app.db")
    explain_rewrites(raw, normalize_database_url(raw))
    log = caplog.text
    assert "channel_binding=require dropped" in log
    assert "sslmode=require passed to asyncpg as ssl" in log
    assert "pooled (-pooler) endpoint" in log
    assert "secret" not in log


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.skipif(
    importlib.util.find_spec("asyncpg") is None,
    reason="needs the asyncpg driver (generate with postgres = true)",
)
def test_an_unreachable_server_is_explained_and_tried_again(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, logger="app.db")
    monkeypatch.setattr(db_module, "RETRY_AFTER_S", 0.0)
    database = Database(f"postgresql://u:p@127.0.0.1:{_closed_port()}/db")

    async def scenario() -> tuple[bool, str]:
        await database.start()
        assert database.sessionmaker is None
        ready = await database.ready()  # tries again at once (RETRY_AFTER_S = 0), fails again
        health = await database.check()
        return ready, health.message or ""

    ready, message = asyncio.run(scenario())
    assert not ready
    assert "connection refused" in message
    assert "ports 80, 443 and 8080" in caplog.text
    assert caplog.text.count("Trying the database again") >= 1


def test_a_bad_url_is_not_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db_module, "RETRY_AFTER_S", 0.0)
    database = Database("not a url://")

    async def scenario() -> bool:
        await database.start()
        return await database.ready()

    assert asyncio.run(scenario()) is False
    assert database.startup_reason == "the database URL is not valid"


def test_a_start_that_failed_for_a_moment_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server error that may pass (here PostgreSQL's "tuple concurrently updated", an
    internal error) is tried again, like a server that cannot be reached."""
    monkeypatch.setattr(db_module, "RETRY_AFTER_S", 0.0)
    real = db_module.create_engine
    failures = [sa_exc.InternalError("CREATE TABLE", {}, Exception("tuple concurrently updated"))]

    def flaky(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return real(*args, **kwargs)

    monkeypatch.setattr(db_module, "create_engine", flaky)
    database = Database(sqlite_url(tmp_path / "app.db"))

    async def scenario() -> bool:
        await database.start()
        assert database.sessionmaker is None
        ready = await database.ready()
        await database.stop()
        return ready

    assert asyncio.run(scenario()) is True


def test_a_connection_opened_during_a_write_waits_for_it_instead_of_failing(
    tmp_path: Path,
) -> None:
    """The busy timeout is set before WAL mode: switching to WAL takes a lock, and without the
    timeout a connection opened while another writes failed at once with "database is locked"."""
    path = tmp_path / "app.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(0.3, holder.execute, ["COMMIT"])
    release.start()
    try:
        with closing(sqlite3.connect(path, timeout=0, isolation_level=None)) as conn:
            db_module._configure_sqlite(conn, None)
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        release.join()
        holder.close()


def test_a_locked_database_answers_503_with_retry_after(
    make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "SQLITE_BUSY_TIMEOUT_MS", 100)
    settings = make_settings()
    with TestClient(wrap(create_api(settings), settings)) as client:
        path = settings.database_url.split("///", 1)[1]
        with closing(sqlite3.connect(path, isolation_level=None)) as writer:
            writer.execute("BEGIN IMMEDIATE")
            response = client.post("/api/v1/sessions", json={})
            writer.execute("ROLLBACK")
        assert response.status_code == 503, response.text
        assert response.json()["code"] == "unavailable"
        assert int(response.headers["retry-after"]) >= 1
        assert "locked" not in response.text, "no driver message in the answer"
        assert client.post("/api/v1/sessions", json={}).status_code == 201


def test_a_request_holds_one_connection_at_a_time(make_settings: MakeSettings) -> None:
    """The caller's session is looked up with a connection of its own, returned before the route
    runs: a route that needs the session and the database works on a pool of one."""
    settings = make_settings(db_pool_size=1, db_max_overflow=0, db_pool_timeout_s=1.0)
    api = create_api(settings)

    async def both(session: CurrentSessionDep, db: DbDep) -> dict[str, int]:
        count = (await db.exec(select(func.count()).select_from(SessionRecord))).one()
        return {"sessions": count}

    api.add_api_route("/api/test/both", both, methods=["GET"])
    with TestClient(wrap(api, settings)) as client:
        auth = new_session(client)
        for _ in range(3):
            response = client.get("/api/test/both", headers=auth)
            assert response.status_code == 200, response.text
            assert response.json() == {"sessions": 1}

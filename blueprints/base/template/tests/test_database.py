"""The database layer: WAL mode, concurrent writers, the data directory, URL handling."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import text
from sqlmodel import col, func, select

from app.db import SQLITE_BUSY_TIMEOUT_MS, Database, mask_url, normalize_database_url, scrub
from app.sessions import SessionRecord, hash_token
from tests.support import sqlite_url

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
    with sqlite3.connect(path) as conn:
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

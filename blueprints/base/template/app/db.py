"""The database: URL handling, engine, startup, health check.

SQLite (the default) runs in WAL mode with a busy timeout, so readers do not block the writer
and concurrent writers wait for each other instead of failing with "database is locked".

Connections come from a bounded pool (:class:`PoolLimits`, DB_POOL_SIZE and friends): a request
that finds none free within DB_POOL_TIMEOUT_S fails fast (``app.errors`` answers 503 with
Retry-After) instead of queueing for half a minute. /health uses a connection of its own, outside
the pool, so a saturated pool never makes the app look dead.

At startup the schema is brought to the newest revisions (``app.schema``: Alembic, under a lock,
in one transaction), unless MIGRATE_ON_START is off; a database behind the code, or a revision
that fails, keeps the routes that need the database at 503 and /health saying which revision
and what to do.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel.ext.asyncio.session import AsyncSession

from app import schema
from app import sessions  # noqa: F401  (registers the sessions table on SQLModel.metadata)
from app.health import (
    DependencyHealth,
    describe_error,
    is_lasting,
    is_unreachable,
    public_reason,
)
from app.retry import Retry

logger = logging.getLogger(__name__)

# How long a SQLite writer waits for another one to finish before giving up.
SQLITE_BUSY_TIMEOUT_MS = 5_000
# How long /health waits for the database before reporting it as failing.
HEALTH_CHECK_TIMEOUT_S = 5.0
# After a failed start (the server down or unreachable), how long to wait before the next
# request that needs the database tries again.
RETRY_AFTER_S = 10.0
# How long to wait for a Postgres server to accept a connection (asyncpg's own default is 60 s;
# a firewall that drops packets would hold the app's startup that long).
CONNECT_TIMEOUT_S = 10.0

_POSTGRES_DRIVERS = {"postgres", "postgresql", "postgresql+asyncpg"}


def normalize_database_url(raw: str) -> URL:
    """Parse ``raw``; rewrite a Postgres URL (e.g. Neon's) for the asyncpg driver.

    ``postgres://`` is not a SQLAlchemy dialect name, and asyncpg rejects libpq's ``sslmode`` and
    ``channel_binding`` query parameters (``TypeError: connect() got an unexpected keyword
    argument``): ``sslmode=X`` becomes ``ssl=X`` and ``channel_binding`` is dropped (asyncpg
    does not implement channel binding). A URL naming another driver is left alone.
    """
    url = make_url(raw.strip())
    if url.drivername not in _POSTGRES_DRIVERS:
        return url
    query: dict[str, str | tuple[str, ...]] = dict(url.query)
    sslmode = query.pop("sslmode", None)
    query.pop("channel_binding", None)
    if sslmode is not None and "ssl" not in query:
        query["ssl"] = sslmode
    return url.set(drivername="postgresql+asyncpg", query=query)


def mask_url(raw: str) -> str:
    """``raw`` with everything between ``://`` and the last ``@`` but the user name replaced by
    ``***``. Never raises and never shows any part of a password, however malformed the URL (an
    unencoded ``@``, ``/`` or ``:`` in the password included). Query parameters are shown as they
    are: never put a token in one."""
    try:
        text = str(raw).strip()
        match = re.match(r"(?s)([A-Za-z][A-Za-z0-9+.-]*://)(.*)", text)
        if match is None:
            return "<not a valid database URL>" if "@" in text or ":" in text else text
        scheme, rest = match.groups()
        if "@" not in rest:
            return scheme + rest
        credentials, _, host = rest.rpartition("@")
        if ":" not in credentials:  # a user name alone
            return f"{scheme}{credentials}@{host}"
        user = credentials.split(":", 1)[0].split("/", 1)[0]
        return f"{scheme}{user}:***@{host}"
    except Exception:
        return "<not a valid database URL>"


def scrub(text: str, raw_url: str) -> str:
    """``text`` (e.g. a driver's error message) with every part of ``raw_url``'s password
    replaced by ``***``: with an unencoded ``@`` or ``/`` in the password, drivers report part of
    it as the host name."""
    match = re.match(r"(?s)[A-Za-z][A-Za-z0-9+.-]*://(.*)@", raw_url.strip())
    if match is None or ":" not in match.group(1):
        return text
    password = match.group(1).split(":", 1)[1]
    pieces = {password, *re.split(r"[@/:?#]", password)}
    for piece in sorted(pieces, key=len, reverse=True):
        if len(piece) >= 3:
            text = text.replace(piece, "***")
    return text


def sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL; ``None`` for in-memory databases and other backends."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


@dataclass(frozen=True)
class PoolLimits:
    """The connection pool: ``size`` connections kept, ``max_overflow`` more at peaks, and how
    long a request waits for one (seconds)."""

    size: int = 5
    max_overflow: int = 10
    timeout_s: float = 10.0

    def options(self) -> dict[str, Any]:
        return {
            "pool_size": self.size,
            "max_overflow": self.max_overflow,
            "pool_timeout": self.timeout_s,
        }


def _configure_sqlite(dbapi_connection: Any, _connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # The busy timeout first: switching to WAL takes a lock, and without the timeout a
        # connection opened while another writes fails at once with "database is locked".
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, far fewer fsyncs
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def is_pooled(url: URL) -> bool:
    """Whether ``url`` is a Neon pooled endpoint (PgBouncer in transaction mode): its host's
    first label ends in ``-pooler`` (``ep-name-123-pooler.region.aws.neon.tech``)."""
    host = (url.host or "").lower()
    return url.get_backend_name() == "postgresql" and host.split(".", 1)[0].endswith("-pooler")


def _statement_name() -> str:
    return f"__asyncpg_{uuid.uuid4()}__"


def engine_options(url: URL, limits: PoolLimits | None = PoolLimits()) -> dict[str, Any]:
    """Keyword arguments of ``create_async_engine`` for ``url``; ``limits=None`` for an engine
    without a pool (each connection opened and closed on use).

    A SQLite file and a direct Postgres endpoint get a pool bounded by ``limits``. Postgres
    through asyncpg: a connect timeout and ``pool_pre_ping`` (Neon closes connections when its
    compute suspends). Behind a pooler, asyncpg's named prepared statements may land on another
    server connection ("prepared statement … already exists / does not exist"), so both
    statement caches are off, every statement gets a unique name, and the app keeps no pool of
    its own (the pooler is one). An in-memory SQLite database keeps its driver's default.
    """
    unpooled: dict[str, Any] = {"poolclass": NullPool}
    if url.drivername != "postgresql+asyncpg":
        if sqlite_file(url) is None:
            return {}
        return limits.options() if limits is not None else unpooled
    if not is_pooled(url):
        pool = limits.options() if limits is not None else unpooled
        return {"pool_pre_ping": True, "connect_args": {"timeout": CONNECT_TIMEOUT_S}, **pool}
    return {
        "poolclass": NullPool,
        "connect_args": {
            "timeout": CONNECT_TIMEOUT_S,
            "statement_cache_size": 0,
            "prepared_statement_cache_size": 0,
            "prepared_statement_name_func": _statement_name,
        },
    }


def create_engine(url: URL, limits: PoolLimits | None = PoolLimits()) -> AsyncEngine:
    engine = create_async_engine(url, **engine_options(url, limits))
    if url.get_backend_name() == "sqlite":
        # Runs on every new DBAPI connection, before the pool hands it out.
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
    return engine


def _hint(exc: Exception) -> str:
    if isinstance(exc, PermissionError):
        return " The data directory must be writable by the app's user (uid 1000 on a Space)."
    if isinstance(exc, ModuleNotFoundError):
        return (
            f" The driver ({exc.name}) is not installed: generate the project with its database"
            " switch on (e.g. postgres = true) so requirements.txt pins it."
        )
    if is_unreachable(exc):
        return (
            " Hugging Face documents outbound traffic from a Space on ports 80, 443 and 8080"
            " only: a database on another port (Postgres: 5432) may be unreachable from there."
        )
    return ""


def explain_rewrites(raw: str, url: URL) -> None:
    """Logs what :func:`normalize_database_url` changed, so a console string that works with
    psql but not here is not a mystery."""
    try:
        given = make_url(raw.strip())
    except Exception:
        return
    if "channel_binding" in given.query:
        logger.info(
            "DATABASE_URL: channel_binding=%s dropped (asyncpg does not implement channel "
            "binding); the connection is still encrypted when ssl is on.",
            given.query["channel_binding"],
        )
    if "sslmode" in given.query and url.query.get("ssl") == given.query["sslmode"]:
        logger.info("DATABASE_URL: sslmode=%s passed to asyncpg as ssl.", given.query["sslmode"])
    if is_pooled(url):
        logger.info(
            "DATABASE_URL is a pooled (-pooler) endpoint: prepared-statement caching is off "
            "and the app keeps no pool of its own. The direct endpoint (without -pooler) suits "
            "a single long-running app better."
        )


class Database:
    """Owns the engine. ``start`` never raises: a failure is logged, kept in ``startup_error``
    (the details, for the log and the debug endpoint) and ``startup_reason`` (safe words, for
    /health and the 503 of the database routes). Unless the failure is one only a change of
    configuration fixes (``app.health.is_lasting``: a wrong URL or password, …), :meth:`ready`
    tries again, at most every :data:`RETRY_AFTER_S` seconds, so the app recovers without a
    restart from a server that was down, waking up, behind a blocked port or failing for a
    moment."""

    name = "database"

    def __init__(
        self, url: str, limits: PoolLimits | None = None, migrate: bool = True
    ) -> None:
        self.url = url
        self.limits = limits or PoolLimits()
        # Whether start-up applies the revisions the database lacks (MIGRATE_ON_START).
        self.migrate = migrate
        self.engine: AsyncEngine | None = None
        # The health check's own engine, without a pool: /health never waits for a connection.
        self.probe: AsyncEngine | None = None
        self.sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self.startup_error: str | None = None
        self.startup_reason: str | None = None
        self._retry = Retry()

    @property
    def masked_url(self) -> str:
        return mask_url(self.url)

    async def start(self) -> None:
        """Create the SQLite directory and the engine; bring the schema to the newest
        revisions."""
        self.startup_error = self.startup_reason = None
        try:
            url = normalize_database_url(self.url)
        except Exception as exc:
            self._failed(exc, "the database URL is not valid")
            return
        explain_rewrites(self.url, url)
        try:
            path = sqlite_file(url)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(url, self.limits)
            self.probe = create_engine(url, None)
            applied = await self._migrate(url)
        except schema.SchemaError as exc:
            # Trying again cannot help: the revision, the data or the setting must change.
            self._failed(exc.cause or exc, exc.reason)
            await self.stop()
            return
        except Exception as exc:
            self._failed(exc, public_reason(exc))
            await self.stop()
            if not is_lasting(exc):
                self._retry.schedule(RETRY_AFTER_S)
            return
        self.sessionmaker = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        if applied:
            logger.info("Database schema: applied %s", ", ".join(applied))
        logger.info("Database ready: %s", self.masked_url)

    async def _migrate(self, url: URL) -> list[str]:
        """The revisions the database lacks, applied (or, with ``migrate`` off, required to be
        none) on an engine of its own whose transactions take the migration lock. An
        in-memory SQLite database lives in the app's one connection: migrated there."""
        if url.get_backend_name() == "sqlite" and sqlite_file(url) is None:
            assert self.engine is not None
            return await schema.upgrade(self.engine, apply=self.migrate)
        engine = create_engine(url, None)
        schema.lock_transactions(engine)
        try:
            return await schema.upgrade(engine, apply=self.migrate)
        finally:
            await engine.dispose()

    def _failed(self, exc: Exception, reason: str) -> None:
        # No traceback in the log: the driver's message may hold part of a malformed URL.
        self.startup_error = scrub(describe_error(exc), self.url)
        self.startup_reason = reason
        logger.error(
            "Database startup failed for %s: %s.%s The API keeps running: /health reports "
            "the error and database routes answer 503.",
            self.masked_url,
            self.startup_error,
            _hint(exc),
        )

    async def ready(self) -> bool:
        """Whether the database can be used; after a failed start, tries again once the retry
        time has come."""
        if self.sessionmaker is None:
            await self._retry.attempt(self._start_again)
        return self.sessionmaker is not None

    async def _start_again(self) -> None:
        logger.info("Trying the database again: %s", self.masked_url)
        await self.start()

    async def stop(self) -> None:
        for engine in (self.engine, self.probe):
            if engine is not None:
                await engine.dispose()
        self.engine = self.probe = None
        self.sessionmaker = None

    async def check(self) -> DependencyHealth:
        """Health check: ``SELECT 1`` within :data:`HEALTH_CHECK_TIMEOUT_S`."""
        await self.ready()
        if self.startup_reason is not None:
            return DependencyHealth.error(f"startup failed: {self.startup_reason}")
        if self.probe is None:
            return DependencyHealth.error("not started")
        try:
            async with asyncio.timeout(HEALTH_CHECK_TIMEOUT_S):
                async with self.probe.connect() as connection:
                    await connection.execute(text("SELECT 1"))
        except TimeoutError:
            return DependencyHealth.error(f"no answer within {HEALTH_CHECK_TIMEOUT_S:g} s")
        except Exception as exc:
            logger.warning("Database health check failed: %s", scrub(describe_error(exc), self.url))
            return DependencyHealth.error(public_reason(exc))
        return DependencyHealth.ok()

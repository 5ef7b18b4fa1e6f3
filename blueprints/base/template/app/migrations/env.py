"""Alembic's environment. The app runs the migrations at start-up on a connection it passes in,
holding the lock (``app.schema``); ``alembic`` by hand reads DATABASE_URL as the app does
(``app.config.Settings``: Neon URLs, ``sslmode``, ``-pooler`` hosts, ``app.db``) and takes the
same lock. Revisions compare against every table the app defines (``alembic check``,
``alembic revision --autogenerate``)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

cfg = context.config


def target_metadata() -> MetaData:
    metadata = cfg.attributes.get("target_metadata")
    if metadata is None:
        import app.main  # noqa: F401  (imports every table the app uses)

        metadata = SQLModel.metadata
    return metadata


def run(connection: Connection) -> list[str]:
    context.configure(
        connection=connection,
        target_metadata=target_metadata(),
        # SQLite's ALTER TABLE cannot change a column: tables are copied instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        on_version_apply=cfg.attributes.get("on_version_apply"),
    )
    with context.begin_transaction():
        context.run_migrations()
    return []


def by_hand() -> None:
    """``alembic`` on the command line: the app's database, under the app's lock."""
    from app import schema
    from app.config import Settings
    from app.db import create_engine, normalize_database_url, sqlite_file

    async def main() -> None:
        url = normalize_database_url(Settings().database_url)
        path = sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, None)
        schema.lock_transactions(engine)
        try:
            await schema.in_lock(engine, run)
        finally:
            await engine.dispose()

    asyncio.run(main())


def offline() -> None:
    """``alembic upgrade heads --sql``: the SQL, printed."""
    from app.config import Settings
    from app.db import normalize_database_url

    url = normalize_database_url(Settings().database_url)
    context.configure(
        url=url,
        target_metadata=target_metadata(),
        literal_binds=True,
        render_as_batch=url.get_backend_name() == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = cfg.attributes.get("connection")
if connection is not None:
    run(connection)
elif context.is_offline_mode():
    offline()
else:
    by_hand()

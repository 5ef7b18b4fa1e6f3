"""``/api/debug/db``: database diagnostics.

Mounted only when ENABLE_DEBUG_ENDPOINTS=true (otherwise the path answers 404). Unlike /health it
shows the details: the startup error as the driver reported it, the working directory and the
SQLite file. The URL is shown with its password masked; still, turn this off again once the
problem is found.
"""

from __future__ import annotations

import os

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from app.db import normalize_database_url, sqlite_file
from app.dependencies import DatabaseDep
from app.health import DependencyHealth

router = APIRouter(prefix="/api/debug", tags=["debug"])


class SqliteInfo(BaseModel):
    file: str
    directory_exists: bool
    directory_writable: bool
    file_exists: bool
    journal_mode: str | None


class DatabaseDebugInfo(BaseModel):
    database_url: str
    driver: str | None
    cwd: str
    startup_error: str | None
    connection: DependencyHealth
    sqlite: SqliteInfo | None


@router.get("/db", summary="Database diagnostics")
async def debug_db(database: DatabaseDep) -> DatabaseDebugInfo:
    try:
        url = normalize_database_url(database.url)
    except Exception:  # a malformed URL is what this endpoint helps to find
        url = None
    connection = await database.check()

    sqlite: SqliteInfo | None = None
    path = sqlite_file(url) if url is not None else None
    if path is not None:
        journal_mode: str | None = None
        if database.engine is not None and connection.status == "ok":
            async with database.engine.connect() as conn:
                journal_mode = str((await conn.execute(text("PRAGMA journal_mode"))).scalar())
        directory = path.parent
        sqlite = SqliteInfo(
            file=str(path.resolve()),
            directory_exists=directory.is_dir(),
            directory_writable=os.access(directory, os.W_OK),
            file_exists=path.is_file(),
            journal_mode=journal_mode,
        )

    return DatabaseDebugInfo(
        database_url=database.masked_url,
        driver=url.drivername if url is not None else None,
        cwd=os.getcwd(),
        startup_error=database.startup_error,
        connection=connection,
        sqlite=sqlite,
    )

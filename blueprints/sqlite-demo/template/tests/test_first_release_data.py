"""A database of this backend's first release (sessions without tokens, tasks without a
session) upgrades to today's schema with its data: the tasks belong to one new session whose
token the log shows once, and every old session is retired."""

from __future__ import annotations

import logging
import re
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlmodel import SQLModel

from app.edge import wrap
from app.main import create_api
from tests.support import MakeSettings, sqlite_url

# The tables the first release made (its create_all on SQLite), with a session and two tasks.
FIRST_RELEASE = """
CREATE TABLE sessions (
    id CHAR(32) NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (id)
);
CREATE TABLE tasks (
    title VARCHAR(200) NOT NULL,
    description VARCHAR(2000),
    done BOOLEAN NOT NULL,
    id CHAR(32) NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX ix_tasks_created_at ON tasks (created_at);
INSERT INTO sessions VALUES ('0b7e1c2d3e4f40a1b2c3d4e5f6a7b8c9', '2026-11-25 10:00:00.000000');
INSERT INTO tasks VALUES ('Water the plants', NULL, 0, '1b7e1c2d3e4f40a1b2c3d4e5f6a7b8c9',
    '2026-11-25 10:01:00.000000', '2026-11-25 10:01:00.000000');
INSERT INTO tasks VALUES ('Call the bank', 'before noon', 1, '2b7e1c2d3e4f40a1b2c3d4e5f6a7b8c9',
    '2026-11-25 10:02:00.000000', '2026-11-25 10:02:00.000000');
"""


def test_a_first_release_database_keeps_its_tasks_under_a_new_session(
    tmp_path: Path, make_settings: MakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "app.db"
    with closing(sqlite3.connect(path)) as connection:
        connection.executescript(FIRST_RELEASE)
    caplog.set_level(logging.WARNING, logger="app.schema")
    api = create_api(make_settings(database_url=sqlite_url(path)))
    with TestClient(wrap(api, api.state.settings)) as client:
        found = re.search(r"shown this once \(the server keeps only its hash\): (\S+)", caplog.text)
        assert found, caplog.text
        assert "2 tasks made before sessions" in caplog.text
        headers = {"Authorization": f"Bearer {found.group(1)}"}
        response = client.get("/api/v1/tasks", headers=headers)
        assert response.status_code == 200, response.text
        tasks = response.json()
        assert [t["title"] for t in tasks] == ["Water the plants", "Call the bank"]
        assert tasks[1]["description"] == "before noon" and tasks[1]["done"] is True
        # A new task lands beside them.
        created = client.post("/api/v1/tasks", headers=headers, json={"title": "Buy stamps"})
        assert created.status_code == 201, created.text
    with closing(sqlite3.connect(path)) as connection:
        hashes = [row[0] for row in connection.execute("SELECT token_hash FROM sessions")]
    assert "retired-0b7e1c2d3e4f40a1b2c3d4e5f6a7b8c9" in hashes
    # The upgraded database is exactly what the revisions make of an empty one.
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
    engine.dispose()

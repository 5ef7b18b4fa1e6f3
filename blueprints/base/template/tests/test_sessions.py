"""Anonymous sessions: a token returned once and stored only as a hash, read back with it."""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from contextlib import closing
from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from app.config import Settings
from app.edge import wrap
from app.main import create_api
from tests.support import MakeSettings

SESSIONS = "/api/v1/sessions"


def test_a_session_comes_with_an_unguessable_token_shown_once(client: TestClient) -> None:
    first = client.post(SESSIONS, json={})
    second = client.post(SESSIONS, json={})
    assert first.status_code == second.status_code == 201
    body = first.json()
    assert set(body) == {"session_id", "created_at", "token"}
    assert uuid.UUID(body["session_id"]) != uuid.UUID(second.json()["session_id"])
    assert body["token"] != second.json()["token"]
    assert len(body["token"]) >= 43  # 32 random bytes
    assert datetime.fromisoformat(body["created_at"]).utcoffset() == timedelta(0)

    me = client.get(f"{SESSIONS}/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.json() == {"session_id": body["session_id"], "created_at": body["created_at"]}


def test_the_database_keeps_only_a_hash_of_the_token(
    client: TestClient, settings: Settings
) -> None:
    token = client.post(SESSIONS, json={}).json()["token"]
    path = settings.database_url.split("///", 1)[1]
    with closing(sqlite3.connect(path)) as conn:  # `with` alone does not close it
        rows = conn.execute("SELECT * FROM sessions").fetchall()
    dump = repr(rows)
    assert token not in dump
    assert hashlib.sha256(token.encode()).hexdigest() in dump


def test_without_a_token_or_with_an_unknown_one_the_answer_is_401(client: TestClient) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Basic dXNlcjpwdw=="},
    ):
        response = client.get(f"{SESSIONS}/me", headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"


def test_creating_sessions_is_limited_per_client_address(make_settings: MakeSettings) -> None:
    settings = make_settings(session_rate_limit=3)
    with TestClient(wrap(create_api(settings), settings)) as client:
        # Behind the Space's proxy the client is the last X-Forwarded-For address: what comes
        # before it is whatever the client sent, and changing it does not help.
        forged = [{"X-Forwarded-For": f"10.0.0.{i}, 203.0.113.7"} for i in range(5)]
        statuses = [client.post(SESSIONS, json={}, headers=h).status_code for h in forged]
        assert statuses == [201, 201, 201, 429, 429]
        refused = client.post(SESSIONS, json={}, headers=forged[0])
        assert refused.json()["code"] == "rate_limited" and "retry-after" in refused.headers
        other = client.post(SESSIONS, json={}, headers={"X-Forwarded-For": "198.51.100.1"})
        assert other.status_code == 201, "another address has its own limit"

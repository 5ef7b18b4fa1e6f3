"""Anonymous sessions: a token returned once and stored only as a hash, read back with it."""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from contextlib import closing
from datetime import UTC, datetime, timedelta

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


def _age(settings: Settings, token: str, hours: float) -> None:
    """Moves the session of ``token`` ``hours`` into the past: created and last seen then."""
    path = settings.database_url.split("///", 1)[1]
    then = (datetime.now(UTC) - timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M:%S.%f")
    digest = hashlib.sha256(token.encode()).hexdigest()
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE sessions SET created_at = ? WHERE token_hash = ?", (then, digest))
        conn.execute(
            "UPDATE session_activity SET last_seen_at = ? WHERE session_id ="
            " (SELECT id FROM sessions WHERE token_hash = ?)",
            (then, digest),
        )


def test_a_session_unused_for_its_ttl_expires(make_settings: MakeSettings) -> None:
    settings = make_settings(session_ttl_hours=24)
    with TestClient(wrap(create_api(settings), settings)) as client:
        token = client.post(SESSIONS, json={}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        _age(settings, token, 23)
        assert client.get(f"{SESSIONS}/me", headers=auth).status_code == 200
        _age(settings, token, 25)
        expired = client.get(f"{SESSIONS}/me", headers=auth)
        assert expired.status_code == 401
        assert expired.json()["code"] == "session_expired"
        assert "new session" in expired.json()["detail"]


def test_using_a_session_keeps_it_alive(make_settings: MakeSettings) -> None:
    """The TTL slides: a session used within it lives on, however old it is."""
    settings = make_settings(session_ttl_hours=24)
    with TestClient(wrap(create_api(settings), settings)) as client:
        token = client.post(SESSIONS, json={}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        _age(settings, token, 23)
        assert client.get(f"{SESSIONS}/me", headers=auth).status_code == 200  # seen now
        path = settings.database_url.split("///", 1)[1]
        with closing(sqlite3.connect(path)) as conn, conn:
            conn.execute("UPDATE sessions SET created_at = '2000-01-01 00:00:00.000000'")
        assert client.get(f"{SESSIONS}/me", headers=auth).status_code == 200


def test_a_ttl_of_zero_keeps_sessions_forever(make_settings: MakeSettings) -> None:
    settings = make_settings(session_ttl_hours=0)
    with TestClient(wrap(create_api(settings), settings)) as client:
        token = client.post(SESSIONS, json={}).json()["token"]
        _age(settings, token, 24 * 3650)
        me = client.get(f"{SESSIONS}/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200


def test_a_session_from_before_expiry_existed_starts_its_ttl_now(
    make_settings: MakeSettings,
) -> None:
    """A database from an earlier version has sessions without activity: they are not expired
    by the upgrade, their TTL starts at their next use."""
    settings = make_settings(session_ttl_hours=24)
    with TestClient(wrap(create_api(settings), settings)) as client:
        token = client.post(SESSIONS, json={}).json()["token"]
        _age(settings, token, 24 * 365)
        path = settings.database_url.split("///", 1)[1]
        with closing(sqlite3.connect(path)) as conn, conn:
            conn.execute("DELETE FROM session_activity")
        me = client.get(f"{SESSIONS}/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200

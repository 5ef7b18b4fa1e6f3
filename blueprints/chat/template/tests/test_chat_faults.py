"""Chat when the world misbehaves: an upstream that sends garbage, HTML, half a chunk, no
``choices``, or stalls; many streams at once on a small connection pool; and the limits that
bound what a public Space spends (per session, across all sessions, in tokens)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.edge import wrap
from app.main import create_api
from tests.chat_support import events
from tests.fake_upstream import FakeUpstream
from tests.support import MakeSettings, new_session

CHAT = "/api/v1/chat"

# Every way an upstream answer breaks, and the stable code the client gets for it.
FAULTS = [
    ("[garbage]", "upstream_malformed"),
    ("[binary]", "upstream_malformed"),
    ("[truncated]", "upstream_malformed"),
    ("[drop]", "upstream_malformed"),
    ("[html]", "upstream_malformed"),
    ("[nochoices]", "upstream_empty"),
    ("[stall]", "upstream_timeout"),
]


def ask(client: TestClient, auth: dict[str, str], message: str, stream: bool = False) -> Any:
    path = f"{CHAT}/stream" if stream else CHAT
    return client.post(path, json={"message": message}, headers=auth)


@pytest.mark.parametrize(("marker", "code"), FAULTS)
def test_a_broken_upstream_ends_the_stream_with_an_error_event(
    chat_client: TestClient, chat_auth: dict[str, str], marker: str, code: str
) -> None:
    started = time.monotonic()
    response = ask(chat_client, chat_auth, f"break {marker} now", stream=True)
    took = time.monotonic() - started
    assert response.status_code == 200
    got = events(response.text)
    assert got, response.text
    assert got[-1]["type"] == "error", got
    assert got[-1]["code"] == code, got
    assert "html" not in got[-1]["message"].lower()
    assert took < 5, f"the stream ended only after {took:.1f} s"
    history = chat_client.get(f"{CHAT}/messages", headers=chat_auth).json()
    assert history[-1]["role"] == "assistant" and history[-1]["complete"] is False
    tokens = "".join(e["content"] for e in got if e["type"] == "token")
    assert history[-1]["content"] == tokens, "the partial answer is kept as it was sent"


# A connection cut halfway through a whole answer is reported as the SDK sees it.
WHOLE_FAULTS = [
    (marker, "upstream_unreachable" if marker == "[drop]" else code) for marker, code in FAULTS
]


@pytest.mark.parametrize(("marker", "code"), WHOLE_FAULTS)
def test_a_broken_upstream_is_a_json_error_for_a_whole_answer(
    chat_client: TestClient, chat_auth: dict[str, str], marker: str, code: str
) -> None:
    response = ask(chat_client, chat_auth, f"break {marker} now")
    assert response.status_code in (502, 504), response.text
    assert response.json()["code"] == code
    history = chat_client.get(f"{CHAT}/messages", headers=chat_auth).json()
    assert [m["role"] for m in history] == ["user"], "no empty answer is stored as a success"


def test_a_stalled_upstream_fails_after_the_timeout_whatever_the_retries(
    make_settings: MakeSettings, upstream: FakeUpstream
) -> None:
    settings = make_settings(model_base_url=upstream.url, model_max_retries=3, model_timeout_s=1.0)
    with TestClient(wrap(create_api(settings), settings)) as client:
        auth = new_session(client)
        for stream in (True, False):
            started = time.monotonic()
            response = ask(client, auth, "wait [slow] for it", stream=stream)
            took = time.monotonic() - started
            body = events(response.text)[-1] if stream else response.json()
            assert body["code"] == "upstream_timeout"
            assert took < 1.9, f"MODEL_TIMEOUT_S is 1 s but the answer failed after {took:.1f} s"


def test_an_answer_has_one_deadline(make_settings: MakeSettings, upstream: FakeUpstream) -> None:
    settings = make_settings(model_base_url=upstream.url, model_timeout_s=5.0, model_deadline_s=1.0)
    with TestClient(wrap(create_api(settings), settings)) as client:
        auth = new_session(client)
        started = time.monotonic()
        response = ask(client, auth, "go on [long]", stream=True)
        assert time.monotonic() - started < 3
        assert events(response.text)[-1]["code"] == "answer_deadline"


def test_the_answer_length_is_capped(make_settings: MakeSettings, upstream: FakeUpstream) -> None:
    settings = make_settings(model_base_url=upstream.url, model_max_tokens=321)
    with TestClient(wrap(create_api(settings), settings)) as client:
        ask(client, new_session(client), "hello")
    body = upstream.log[-1]["body"]
    assert 321 in (body.get("max_tokens"), body.get("max_completion_tokens")), body


def test_many_streams_at_once_share_a_small_pool(
    make_settings: MakeSettings, upstream: FakeUpstream
) -> None:
    """Each request holds at most one pooled connection, never while the model answers: 24
    streams pausing mid-answer all finish on a pool of 2."""
    settings = make_settings(
        model_base_url=upstream.url,
        model_timeout_s=5.0,
        db_pool_size=2,
        db_max_overflow=0,
        db_pool_timeout_s=5.0,
        chat_rate_limit=0,
    )
    with TestClient(wrap(create_api(settings), settings)) as client:
        auths = [new_session(client) for _ in range(24)]

        def one(auth: dict[str, str]) -> str:
            response = ask(client, auth, "wait [pause] for it", stream=True)
            return events(response.text)[-1]["type"] if response.status_code == 200 else "http"

        with ThreadPoolExecutor(24) as pool:
            health = pool.submit(lambda: [client.get("/health").status_code for _ in range(5)])
            ends = list(pool.map(one, auths))
        assert ends == ["done"] * 24
        assert health.result() == [200] * 5


def test_a_saturated_pool_answers_503_with_retry_after_quickly(
    make_settings: MakeSettings,
) -> None:
    settings = make_settings(db_pool_size=1, db_max_overflow=0, db_pool_timeout_s=0.5)
    api = create_api(settings)
    with TestClient(wrap(api, settings)) as client:
        auth = new_session(client)
        held = api.state.database.engine.connect()
        client.portal.call(held.start)
        try:
            started = time.monotonic()
            response = client.get(f"{CHAT}/messages", headers=auth)
            assert time.monotonic() - started < 3
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "database_busy"
            assert int(response.headers["retry-after"]) >= 1
            assert client.get("/health").status_code == 200, "/health never waits on the pool"
        finally:
            client.portal.call(held.close)
        assert client.get(f"{CHAT}/messages", headers=auth).status_code == 200


def test_a_global_limit_bounds_the_requests_of_all_sessions(
    make_settings: MakeSettings, upstream: FakeUpstream
) -> None:
    settings = make_settings(
        model_base_url=upstream.url, chat_rate_limit=5, chat_global_rate_limit=3
    )
    with TestClient(wrap(create_api(settings), settings)) as client:
        statuses = [ask(client, new_session(client), "hi").status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 429, 429]
        refused = ask(client, new_session(client), "hi")
        assert refused.json()["code"] == "rate_limited"
        assert int(refused.headers["retry-after"]) >= 1
    assert sum(1 for e in upstream.log if e["path"].endswith("/chat/completions")) == 3


def test_a_token_budget_bounds_what_all_sessions_spend(
    make_settings: MakeSettings, upstream: FakeUpstream
) -> None:
    """Each request counts its prompt and the longest answer allowed: with 100 tokens per answer
    and 250 per minute, at most two fit (fewer when the backend adds instructions)."""
    settings = make_settings(
        model_base_url=upstream.url, model_max_tokens=100, chat_tokens_per_minute=250
    )
    with TestClient(wrap(create_api(settings), settings)) as client:
        responses = [ask(client, new_session(client), "hi") for _ in range(4)]
    statuses = [r.status_code for r in responses]
    served = statuses.count(200)
    assert 1 <= served <= 2 and statuses == [200] * served + [429] * (4 - served), statuses
    assert responses[-1].json()["code"] == "rate_limited"
    assert int(responses[-1].headers["retry-after"]) >= 1
    assert sum(1 for e in upstream.log if e["path"].endswith("/chat/completions")) == served

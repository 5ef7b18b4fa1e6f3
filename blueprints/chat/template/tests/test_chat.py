"""Chat against a real (fake) OpenAI-compatible upstream over HTTP: whole and streamed answers,
persistence, history limits, upstream failures as JSON errors and `error` events, keep-alive
comments, the per-session rate limit, and the app without a key."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import main
from app.chat_models import ChatMessage
from app.history import bounded
from tests.chat_support import events
from tests.fake_upstream import FakeUpstream
from tests.support import MakeSettings, new_session

CHAT = "/api/v1/chat"


def conversation(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages of the conversation, without the system message a grounded backend adds."""
    return [m for m in messages if m["role"] != "system"]


def ask(client: TestClient, auth: dict[str, str], message: str, stream: bool = False) -> Any:
    path = f"{CHAT}/stream" if stream else CHAT
    return client.post(path, json={"message": message}, headers=auth)


def test_a_whole_answer_is_returned_and_both_messages_are_stored(
    chat_client: TestClient, chat_auth: dict[str, str], upstream: FakeUpstream
) -> None:
    response = ask(chat_client, chat_auth, "hello there")
    assert response.status_code == 200, response.text
    assert response.json()["content"] == "Echo: hello there"
    history = chat_client.get(f"{CHAT}/messages", headers=chat_auth).json()
    assert [(m["role"], m["content"], m["complete"]) for m in history] == [
        ("user", "hello there", True),
        ("assistant", "Echo: hello there", True),
    ]
    sent = upstream.log[-1]
    assert sent["body"]["model"] == "fake/model"
    assert sent["headers"]["authorization"] == "Bearer test-key"


def test_a_streamed_answer_comes_token_by_token_then_done(
    chat_client: TestClient, chat_auth: dict[str, str]
) -> None:
    response = ask(chat_client, chat_auth, "stream me please", stream=True)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    got = events(response.text)
    tokens = [e["content"] for e in got if e["type"] == "token"]
    assert "".join(tokens) == "Echo: stream me please"
    assert len(tokens) > 1
    done = got[-1]
    assert done["type"] == "done" and done["content"] == "Echo: stream me please"
    history = chat_client.get(f"{CHAT}/messages", headers=chat_auth).json()
    assert history[-1]["id"] == done["message_id"]
    assert history[-1]["complete"] is True


def test_the_conversation_is_sent_as_history(
    chat_client: TestClient, chat_auth: dict[str, str], upstream: FakeUpstream
) -> None:
    ask(chat_client, chat_auth, "first")
    ask(chat_client, chat_auth, "second")
    sent = conversation(upstream.log[-1]["body"]["messages"])
    assert [m["content"] for m in sent] == ["first", "Echo: first", "second"]


def test_sessions_do_not_see_each_others_conversations(
    chat_client: TestClient, chat_auth: dict[str, str], upstream: FakeUpstream
) -> None:
    ask(chat_client, chat_auth, "mine")
    other = new_session(chat_client)
    ask(chat_client, other, "theirs")
    assert [m["content"] for m in conversation(upstream.log[-1]["body"]["messages"])] == ["theirs"]
    assert len(chat_client.get(f"{CHAT}/messages", headers=other).json()) == 2


@pytest.mark.parametrize(
    ("marker", "status", "code"),
    [
        ("[error]", 502, "upstream_error"),
        ("[429]", 503, "upstream_rate_limited"),
        ("[slow]", 504, "upstream_timeout"),
    ],
)
def test_upstream_failures_are_json_errors_that_say_nothing_raw(
    chat_client: TestClient, chat_auth: dict[str, str], marker: str, status: int, code: str
) -> None:
    response = ask(chat_client, chat_auth, f"please {marker}")
    assert response.status_code == status
    assert response.json()["code"] == code
    assert "exploded" not in response.text and "test-key" not in response.text


@pytest.mark.parametrize(
    ("marker", "code"),
    [
        ("[error]", "upstream_error"),
        ("[429]", "upstream_rate_limited"),
        ("[slow]", "upstream_timeout"),
    ],
)
def test_upstream_failures_end_the_stream_with_an_error_event(
    chat_client: TestClient, chat_auth: dict[str, str], marker: str, code: str
) -> None:
    response = ask(chat_client, chat_auth, f"please {marker}", stream=True)
    assert response.status_code == 200
    got = events(response.text)
    assert got[-1]["type"] == "error" and got[-1]["code"] == code
    assert "exploded" not in response.text
    history = chat_client.get(f"{CHAT}/messages", headers=chat_auth).json()
    assert history[-1]["role"] == "assistant" and history[-1]["complete"] is False


def test_a_quiet_stream_sends_keep_alive_comments(
    chat_client: TestClient, chat_auth: dict[str, str]
) -> None:
    response = ask(chat_client, chat_auth, "wait [pause] for it", stream=True)
    assert ": keep-alive" in response.text
    assert events(response.text)[-1]["type"] == "done"


def test_the_rate_limit_answers_429_with_retry_after(
    make_settings: MakeSettings, upstream: FakeUpstream
) -> None:
    from app.edge import wrap
    from app.main import create_api

    settings = make_settings(
        model_base_url=upstream.url, model_api_key="k", model_max_retries=0, chat_rate_limit=2
    )
    with TestClient(wrap(create_api(settings), settings)) as client:
        auth = new_session(client)
        assert ask(client, auth, "one").status_code == 200
        assert ask(client, auth, "two", stream=True).status_code == 200
        refused = ask(client, auth, "three")
        assert refused.status_code == 429
        assert refused.json()["code"] == "rate_limited"
        assert int(refused.headers["retry-after"]) >= 1
        # Another session has its own allowance.
        assert ask(client, new_session(client), "four").status_code == 200


def test_without_a_key_the_app_runs_and_chat_answers_503(make_settings: MakeSettings) -> None:
    from app.edge import wrap
    from app.main import create_api

    settings = make_settings(model_api_key=None)
    with TestClient(wrap(create_api(settings), settings)) as client:
        check_without_a_key(client)


def check_without_a_key(client: TestClient) -> None:
    health = client.get("/health")
    assert health.status_code == 503
    assert health.json()["dependencies"]["model"]["message"].startswith("not configured")
    auth = new_session(client)
    for stream in (False, True):
        response = ask(client, auth, "hello", stream=stream)
        assert response.status_code == 503
        assert response.json()["code"] == "model_not_configured"


@pytest.mark.parametrize("message", ["", "   ", "x" * 5000, "\ud800"])
def test_a_message_out_of_bounds_is_422(
    chat_client: TestClient, chat_auth: dict[str, str], message: str
) -> None:
    body = '{"message": "' + message.replace("\ud800", "\\ud800") + '"}'
    response = chat_client.post(
        CHAT, content=body.encode(), headers={**chat_auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text


def test_chat_needs_a_session(chat_client: TestClient) -> None:
    assert ask(chat_client, {}, "hi").status_code == 401


def _message(role: str, content: str, complete: bool = True) -> ChatMessage:
    import uuid

    return ChatMessage(session_id=uuid.uuid4(), role=role, content=content, complete=complete)


def test_history_keeps_the_newest_turns_within_the_limits() -> None:
    messages = [
        _message(role, f"{role} {n}") for n in range(10) for role in ("user", "assistant")
    ] + [_message("user", "latest")]
    sent = bounded(messages, max_turns=2, max_chars=10_000)
    assert [m["content"] for m in sent] == [
        "user 8",
        "assistant 8",
        "user 9",
        "assistant 9",
        "latest",
    ]
    assert [m["content"] for m in bounded(messages, 10, 30)] == ["user 9", "assistant 9", "latest"]
    assert bounded([_message("user", "x" * 100)], 5, 10) == [{"role": "user", "content": "x" * 10}]
    unfinished = [_message("user", "q"), _message("assistant", "partial", complete=False)]
    assert [m["content"] for m in bounded([*unfinished, _message("user", "again")], 5, 100)] == [
        "q",
        "again",
    ]


@pytest.mark.skipif(
    getattr(main.api.state, "grounding", None) is not None,
    reason="this backend grounds its answers: see its own tests of sources",
)
def test_without_grounding_answers_carry_no_sources(
    chat_client: TestClient, chat_auth: dict[str, str], upstream: FakeUpstream
) -> None:
    whole = ask(chat_client, chat_auth, "plain question")
    assert whole.json()["sources"] == []
    streamed = events(ask(chat_client, chat_auth, "plain again", stream=True).text)
    assert [e["type"] for e in streamed if e["type"] != "token"] == ["done"]
    assert all(m["role"] != "system" for m in upstream.log[-1]["body"]["messages"])

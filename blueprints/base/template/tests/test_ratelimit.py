"""The limits of a public Space: sliding one-minute windows, and the client address they key on
behind the Space's proxy."""

from __future__ import annotations

import pytest
from fastapi import Request

from app.clients import client_address
from app.ratelimit import RateLimiter


def test_the_rate_limiter_counts_a_sliding_minute() -> None:
    limiter = RateLimiter(2)
    assert limiter.retry_after("s", now=0.0) is None
    assert limiter.retry_after("s", now=10.0) is None
    assert limiter.retry_after("s", now=20.0) == 40
    assert limiter.retry_after("other", now=20.0) is None, "each key has its own window"
    assert limiter.retry_after("s", now=60.5) is None
    assert RateLimiter(0).retry_after("s") is None


def test_a_budget_counts_costs_and_refuses_what_cannot_fit() -> None:
    budget = RateLimiter(250)
    assert budget.retry_after("*", cost=100, now=0.0) is None
    assert budget.retry_after("*", cost=100, now=5.0) is None
    # 200 spent: 100 more fits once the first 100 leave the window, at 60 s.
    assert budget.retry_after("*", cost=100, now=10.0) == 50
    assert budget.retry_after("*", cost=50, now=10.0) is None, "a refusal records nothing"
    assert budget.retry_after("*", cost=251, now=500.0) == 60, "more than the limit never fits"
    assert budget.retry_after("*", cost=250, now=500.0) is None


def _request(forwarded: list[str], peer: str = "192.0.2.1") -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return Request({"type": "http", "headers": headers, "client": (peer, 5000)})


@pytest.mark.parametrize(
    ("forwarded", "hops", "address"),
    [
        ([], 1, "192.0.2.1"),  # no proxy: the TCP peer
        (["203.0.113.7"], 1, "203.0.113.7"),
        # What the client wrote comes first; the proxy's entry is last.
        (["10.0.0.1, 203.0.113.7"], 1, "203.0.113.7"),
        (["10.0.0.1", "203.0.113.7"], 1, "203.0.113.7"),  # one header per hop
        (["10.0.0.1, 203.0.113.7, 198.51.100.2"], 2, "203.0.113.7"),
        (["203.0.113.7"], 3, "203.0.113.7"),  # fewer entries than hops: the first
        (["10.0.0.1, 203.0.113.7"], 0, "192.0.2.1"),  # no trusted proxy: the header is ignored
        (["203.0.113.7:5123"], 1, "203.0.113.7"),
        # An IPv6 subscriber usually holds a /64: its addresses share one limit.
        (["2001:db8:1:2:aaaa::1"], 1, "2001:db8:1:2::/64"),
        (["[2001:db8:1:2:bbbb::2]"], 1, "2001:db8:1:2::/64"),
        (["::ffff:203.0.113.7"], 1, "203.0.113.7"),
        ([" , "], 1, "192.0.2.1"),
        (["not an address"], 1, "not an address"),
    ],
)
def test_the_client_address_is_what_the_nearest_trusted_proxy_saw(
    forwarded: list[str], hops: int, address: str
) -> None:
    assert client_address(_request(forwarded), hops) == address

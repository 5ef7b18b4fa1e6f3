"""Helpers for this backend's tests: documents to ingest and how to send them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.config import Settings
from app.edge import wrap
from app.main import create_api
from app.vectors import VectorStore

DOCUMENTS = "/api/v1/documents"

HANDBOOK = """\
# Staff handbook

## Parking

Staff park in the north garage. The access code for the north garage is 4417. Visitors park in
the open lot by the river and register at the front desk.

## Holidays

Every employee has twenty-eight days of paid holiday a year. Unused holiday days expire at the
end of March of the next year.
"""

RECIPES = """\
# Recipes

## Pancakes

Whisk flour, milk and eggs into a smooth batter, rest it for ten minutes, then fry thin pancakes
in butter until golden on both sides.
"""


def ingest(
    client: TestClient,
    admin: dict[str, str],
    source: str,
    text: str,
    **fields: Any,
) -> Any:
    return client.post(DOCUMENTS, json={"source": source, "text": text, **fields}, headers=admin)


def points(client: TestClient, api: FastAPI, doc: str | None = None) -> int:
    """How many points the app's collection holds (for one document, or in all)."""
    store: VectorStore = api.state.vector_store
    target = uuid.UUID(doc) if doc is not None else None
    assert client.portal is not None
    return client.portal.call(store.count, target)


@contextmanager
def running(settings: Settings) -> Iterator[tuple[TestClient, FastAPI]]:
    """A client of the app built from ``settings``, lifespan started, and the app."""
    api = create_api(settings)
    with TestClient(wrap(api, settings)) as client:
        yield client, api

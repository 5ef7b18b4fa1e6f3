"""The vector store: Qdrant, as a server or Qdrant Cloud (``QDRANT_URL``) or embedded in the app
(``QDRANT_PATH``), holding one point per chunk of every document.

A component of the app (``app.application``): at startup it makes sure the collection exists
with the configured vector size and cosine distance. A collection whose vectors have another
size is a startup error shown in /health (not a failure at the first question); a server that
cannot be reached is tried again on later requests. Only the current client API is used
(``query_points``; ``search`` is gone from qdrant-client 1.16).

Points: id ``uuid5(document id, chunk number)`` (so re-ingesting a document overwrites its
points), vector, and payload ``document_id``, ``title``, ``chunk``, ``text``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from qdrant_client import AsyncQdrantClient, models

from app.config import Settings
from app.health import DependencyHealth, describe_error, is_unreachable, public_reason
from app.retry import Retry

logger = logging.getLogger(__name__)

# After a failed start (the server unreachable), how long to wait before trying again.
RETRY_AFTER_S = 10.0


class StoreUnavailable(Exception):
    """The vector store cannot be used; ``reason`` is safe to show anyone."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CollectionMismatch(Exception):
    """The collection exists with vectors this app cannot store."""


@dataclass
class Hit:
    document_id: uuid.UUID
    title: str
    chunk: int
    text: str
    score: float


def point_id(document_id: uuid.UUID, chunk: int) -> str:
    return str(uuid.uuid5(document_id, f"chunk-{chunk}"))


def _document_filter(document_id: uuid.UUID, from_chunk: int = 0) -> models.Filter:
    must: list[models.Condition] = [
        models.FieldCondition(key="document_id", match=models.MatchValue(value=str(document_id)))
    ]
    if from_chunk > 0:
        must.append(models.FieldCondition(key="chunk", range=models.Range(gte=from_chunk)))
    return models.Filter(must=must)


class VectorStore:
    name = "vector_store"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.collection = settings.qdrant_collection
        self.client: AsyncQdrantClient | None = None
        self.startup_error: str | None = None
        self.startup_reason: str | None = None
        self._retry = Retry()

    @property
    def embedded(self) -> bool:
        return self.settings.qdrant_url is None

    def _where(self) -> str:
        """Where the points are, for the log (never the API key)."""
        if not self.embedded:
            return f"Qdrant at {self.settings.qdrant_url}"
        if self.settings.qdrant_path == ":memory:":
            return "embedded Qdrant in memory"
        return f"embedded Qdrant in {self.settings.qdrant_path}"

    def _connect(self) -> AsyncQdrantClient:
        s = self.settings
        if not self.embedded:
            key = s.qdrant_api_key.get_secret_value() if s.qdrant_api_key else None
            return AsyncQdrantClient(
                url=s.qdrant_url,
                api_key=key,
                timeout=max(1, round(s.qdrant_timeout_s)),
                check_compatibility=False,
            )
        if s.qdrant_path == ":memory:":
            return AsyncQdrantClient(location=":memory:")
        Path(s.qdrant_path).mkdir(parents=True, exist_ok=True)
        # The client then skips a probe that leaves an SQLite connection unclosed (a
        # ResourceWarning on Python 3.13); the store is used from the event loop's thread only.
        return AsyncQdrantClient(path=s.qdrant_path, force_disable_check_same_thread=True)

    async def start(self) -> None:
        """Connect and make sure the collection exists; never raises."""
        self.startup_error = self.startup_reason = None
        try:
            self.client = self._connect()
            async with asyncio.timeout(self.settings.qdrant_timeout_s * 2):
                await self._ensure_collection(self.client)
        except CollectionMismatch as exc:
            await self._failed(str(exc), str(exc))
            return
        except Exception as exc:
            await self._failed(describe_error(exc), public_reason(exc), exc)
            if is_unreachable(exc):
                self._retry.schedule(RETRY_AFTER_S)
            return
        logger.info("Vector store ready: %s, collection %r", self._where(), self.collection)

    async def _ensure_collection(self, client: AsyncQdrantClient) -> None:
        size = self.settings.embedding_dimensions
        if not await client.collection_exists(self.collection):
            await client.create_collection(
                self.collection,
                vectors_config=models.VectorParams(size=size, distance=models.Distance.COSINE),
            )
            if not self.embedded:  # the embedded mode has no payload indexes
                await client.create_payload_index(
                    self.collection, "document_id", models.PayloadSchemaType.KEYWORD
                )
            logger.info("Created the Qdrant collection %r (%d dimensions)", self.collection, size)
            return
        info = await client.get_collection(self.collection)
        vectors = info.config.params.vectors
        if not isinstance(vectors, models.VectorParams):
            raise CollectionMismatch(
                f"collection {self.collection!r} has named vectors; this app needs one unnamed "
                "vector per point: set QDRANT_COLLECTION to a new name"
            )
        if vectors.size != size:
            raise CollectionMismatch(
                f"collection {self.collection!r} holds {vectors.size}-dimensional vectors but "
                f"EMBEDDING_DIMENSIONS is {size}: set QDRANT_COLLECTION to a new name (then "
                "POST /api/v1/documents/reindex) or EMBEDDING_DIMENSIONS to the collection's size"
            )
        if vectors.distance != models.Distance.COSINE:
            raise CollectionMismatch(
                f"collection {self.collection!r} uses {vectors.distance.value} distance; this app "
                "needs Cosine: set QDRANT_COLLECTION to a new name"
            )

    async def _failed(self, error: str, reason: str, exc: Exception | None = None) -> None:
        self.startup_error = error
        self.startup_reason = reason
        hint = ""
        if exc is not None and is_unreachable(exc) and not self.embedded:
            hint = (
                " Hugging Face documents outbound traffic from a Space on ports 80, 443 and 8080"
                " only: Qdrant Cloud's REST port 6333 may be unreachable from there (the client"
                " adds :6333 to a URL without a port)."
            )
        logger.error(
            "Vector store startup failed (%s): %s.%s The API keeps running: /health reports the "
            "error and the routes that need it answer 503.",
            self._where(),
            error,
            hint,
        )
        await self.stop()

    async def stop(self) -> None:
        if self.client is not None:
            try:
                await self.client.close()
            except Exception as exc:  # closing must not hide the reason of a failed start
                logger.warning("Closing the Qdrant client failed: %s", describe_error(exc))
        self.client = None

    async def ready(self) -> AsyncQdrantClient:
        """The client, after a due retry of a failed start; :class:`StoreUnavailable` without."""
        if self.client is None or self.startup_reason is not None:
            await self._retry.attempt(self._start_again)
        if self.client is None or self.startup_reason is not None:
            raise StoreUnavailable(self.startup_reason or "not started")
        return self.client

    async def _start_again(self) -> None:
        logger.info("Trying the vector store again: %s", self._where())
        await self.start()

    async def check(self) -> DependencyHealth:
        try:
            client = await self.ready()
        except StoreUnavailable as exc:
            return DependencyHealth.error(f"startup failed: {exc.reason}")
        mode = "embedded" if self.embedded else "server"
        if self.embedded:
            return DependencyHealth.ok(mode)
        try:
            async with asyncio.timeout(self.settings.qdrant_timeout_s):
                await client.get_collection(self.collection)
        except TimeoutError:
            return DependencyHealth.error(f"no answer within {self.settings.qdrant_timeout_s:g} s")
        except Exception as exc:
            logger.warning("Vector store health check failed: %s", describe_error(exc))
            return DependencyHealth.error(public_reason(exc))
        return DependencyHealth.ok(mode)

    @contextlib.asynccontextmanager
    async def _calling(self) -> AsyncIterator[AsyncQdrantClient]:
        """The client for one operation; any failure becomes :class:`StoreUnavailable`."""
        client = await self.ready()
        try:
            yield client
        except Exception as exc:
            logger.warning("Vector store call failed: %s", describe_error(exc))
            raise StoreUnavailable(public_reason(exc)) from exc

    async def replace(
        self,
        document_id: uuid.UUID,
        title: str,
        chunks: Sequence[str],
        vectors: Sequence[Sequence[float]],
    ) -> None:
        """The document's points become ``chunks``: each written under its stable id, then the
        points of chunks the new version no longer has removed."""
        points = [
            models.PointStruct(
                id=point_id(document_id, i),
                vector=list(vector),
                payload={"document_id": str(document_id), "title": title, "chunk": i, "text": text},
            )
            for i, (text, vector) in enumerate(zip(chunks, vectors, strict=True))
        ]
        stale = models.FilterSelector(filter=_document_filter(document_id, len(chunks)))
        async with self._calling() as client:
            for start in range(0, len(points), 256):
                await client.upsert(self.collection, points=points[start : start + 256], wait=True)
            await client.delete(self.collection, points_selector=stale, wait=True)

    async def delete(self, document_id: uuid.UUID) -> None:
        selector = models.FilterSelector(filter=_document_filter(document_id))
        async with self._calling() as client:
            await client.delete(self.collection, points_selector=selector, wait=True)

    async def count(self, document_id: uuid.UUID | None = None) -> int:
        selector = _document_filter(document_id) if document_id is not None else None
        async with self._calling() as client:
            result = await client.count(self.collection, count_filter=selector, exact=True)
        return result.count

    async def nearest(self, vector: Sequence[float], limit: int, min_score: float) -> list[Hit]:
        """The ``limit`` chunks closest to ``vector``, best first, none below ``min_score``."""
        async with self._calling() as client:
            result = await client.query_points(
                self.collection,
                query=list(vector),
                limit=limit,
                with_payload=True,
                score_threshold=min_score,
            )
        hits = []
        for point in result.points:
            payload = point.payload or {}
            try:
                hits.append(
                    Hit(
                        document_id=uuid.UUID(str(payload["document_id"])),
                        title=str(payload.get("title", "")),
                        chunk=int(payload["chunk"]),
                        text=str(payload.get("text", "")),
                        score=float(point.score),
                    )
                )
            except (KeyError, ValueError, TypeError):
                logger.warning("Skipped a point without this app's payload: %s", point.id)
        return hits

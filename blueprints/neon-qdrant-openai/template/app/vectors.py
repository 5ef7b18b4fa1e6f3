"""The vector store: Qdrant, as a server or Qdrant Cloud (``QDRANT_URL``) or embedded in the app
(``QDRANT_PATH``), holding one point per chunk of every document.

A component of the app (``app.application``): at startup it makes sure the collection exists
with the configured vector size and cosine distance. A collection whose vectors have another
size is a startup error shown in /health (not a failure at the first question); a server that
cannot be reached is tried again on later requests. Only the current client API is used
(``query_points``; ``search`` is gone from qdrant-client 1.16).

Points: id ``uuid5(document id, "<version>/chunk-<n>")``, vector, and payload ``document_id``,
``version`` (the document row's ``updated_at`` in microseconds since the epoch, see
``app.knowledge``), ``sha256`` (of the document's text), ``title``, ``chunk``, ``text``. Each
upload writes points of its own version, so an upload that fails leaves the committed version's
points untouched, and a point is cited only while its version is the committed one.

The embedded mode runs in a worker thread (:class:`_InThread`), so its work never holds up the
event loop. Two processes cannot share one QDRANT_PATH (the embedded mode locks it): that is a
startup error that says so, not retried as an unreachable server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from qdrant_client import AsyncQdrantClient, QdrantClient, models

from app.config import Settings
from app.health import DependencyHealth, describe_error, is_unreachable, public_reason
from app.retry import Retry

logger = logging.getLogger(__name__)

# After a failed start (the server unreachable), how long to wait before trying again.
RETRY_AFTER_S = 10.0
# Points per upsert, per delete by id, per page of a scan: each a short step, so other requests
# (and /health) get their turn between them.
WRITE_BATCH = 128
DELETE_BATCH = 512
SCAN_PAGE = 1024


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
    version: int | None
    sha256: str | None
    title: str
    chunk: int
    text: str
    score: float


@dataclass
class Stored:
    """A point as :meth:`VectorStore.scan` lists it: which document and version it belongs to."""

    id: str
    document_id: uuid.UUID | None
    version: int | None


def point_id(document_id: uuid.UUID, version: int, chunk: int) -> str:
    return str(uuid.uuid5(document_id, f"{version}/chunk-{chunk}"))


def _is(key: str, value: str | int) -> models.FieldCondition:
    return models.FieldCondition(key=key, match=models.MatchValue(value=value))


def _document_filter(document_id: uuid.UUID) -> models.Filter:
    return models.Filter(must=[_is("document_id", str(document_id))])


def _path_in_use(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is the embedded mode refusing a folder another
    process (or client) holds: Qdrant takes a lock on QDRANT_PATH."""
    current: BaseException | None = exc
    for _ in range(8):
        if current is None:
            return False
        if "already accessed by another instance" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


PATH_IN_USE = (
    "the embedded store's folder is in use by another process: run one process per QDRANT_PATH "
    "(one uvicorn worker), or use a Qdrant server (QDRANT_URL)"
)


class _InThread:
    """The embedded mode's client, called from a worker thread one call at a time.

    Qdrant's embedded mode does its work (numpy, SQLite, pickling) in the calling thread, even
    through ``AsyncQdrantClient``: on the event loop's thread a large upsert or a scan of the
    collection would stall every other request. This offers the same awaitable methods."""

    def __init__(self, client: QdrantClient) -> None:
        self._client = client
        self._queue = asyncio.Lock()  # callers wait here, not in the thread pool
        # A cancelled caller leaves its call running in the thread: the next one waits for it.
        self._running = threading.Lock()

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(self._client, name)

        def run(*args: Any, **kwargs: Any) -> Any:
            with self._running:
                return method(*args, **kwargs)

        async def call(*args: Any, **kwargs: Any) -> Any:
            async with self._queue:
                return await asyncio.to_thread(run, *args, **kwargs)

        return call


class VectorStore:
    name = "vector_store"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.collection = settings.qdrant_collection
        self.client: AsyncQdrantClient | None = None
        self.startup_error: str | None = None
        self.startup_reason: str | None = None
        # Run after every successful start (``app.knowledge``: removing points no committed
        # document version owns).
        self.on_start: Callable[[], Awaitable[None]] | None = None
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

    async def _connect(self) -> AsyncQdrantClient:
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
            client = await asyncio.to_thread(QdrantClient, location=":memory:")
        else:
            Path(s.qdrant_path).mkdir(parents=True, exist_ok=True)
            # Loading the points takes a while for a large collection: in a thread too. The
            # client is used from one thread at a time (_InThread), not always the same one.
            client = await asyncio.to_thread(
                QdrantClient, path=s.qdrant_path, force_disable_check_same_thread=True
            )
        # The same awaitable methods as AsyncQdrantClient (those this module calls).
        return cast(AsyncQdrantClient, _InThread(client))

    async def start(self) -> None:
        """Connect, make sure the collection exists, then run ``on_start`` (the knowledge base's
        reconciliation); never raises."""
        self.startup_error = self.startup_reason = None
        self._retry.cancel()
        try:
            self.client = await self._connect()
            async with asyncio.timeout(self.settings.qdrant_timeout_s * 2):
                await self._ensure_collection(self.client)
        except CollectionMismatch as exc:
            await self._failed(str(exc), str(exc))
            return
        except Exception as exc:
            if _path_in_use(exc):  # another process holds QDRANT_PATH: time does not fix it
                await self._failed(describe_error(exc), PATH_IN_USE, hint=f" Fix: {PATH_IN_USE}.")
                return
            await self._failed(describe_error(exc), public_reason(exc), exc)
            if is_unreachable(exc):
                self._retry.schedule(RETRY_AFTER_S)
            return
        logger.info("Vector store ready: %s, collection %r", self._where(), self.collection)
        if self.on_start is not None:
            try:
                await self.on_start()
            except Exception as exc:  # the store works; only the clean-up did not
                logger.warning("After the vector store started: %s", describe_error(exc))

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
                await client.create_payload_index(
                    self.collection, "version", models.PayloadSchemaType.INTEGER
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

    async def _failed(
        self, error: str, reason: str, exc: Exception | None = None, hint: str = ""
    ) -> None:
        self.startup_error = error
        self.startup_reason = reason
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

    async def write(
        self,
        document_id: uuid.UUID,
        version: int,
        sha256: str,
        title: str,
        chunks: Sequence[str],
        vectors: Sequence[Sequence[float]],
    ) -> None:
        """Stores the points of one version of a document, in batches of WRITE_BATCH."""
        async with self._calling() as client:
            for start in range(0, len(chunks), WRITE_BATCH):
                points = [
                    models.PointStruct(
                        id=point_id(document_id, version, i),
                        vector=list(vectors[i]),
                        payload={
                            "document_id": str(document_id),
                            "version": version,
                            "sha256": sha256,
                            "title": title,
                            "chunk": i,
                            "text": chunks[i],
                        },
                    )
                    for i in range(start, min(start + WRITE_BATCH, len(chunks)))
                ]
                await client.upsert(self.collection, points=points, wait=True)

    async def delete_version(self, document_id: uuid.UUID, version: int, chunks: int) -> None:
        """Removes the points :meth:`write` stored for this version (by id: no scan)."""
        ids: list[models.ExtendedPointId] = [
            point_id(document_id, version, i) for i in range(chunks)
        ]
        async with self._calling() as client:
            for start in range(0, len(ids), DELETE_BATCH):
                selector = models.PointIdsList(points=ids[start : start + DELETE_BATCH])
                await client.delete(self.collection, points_selector=selector, wait=True)

    async def delete_older(self, document_id: uuid.UUID, version: int) -> None:
        """Removes the document's points of every version older than ``version`` (and those
        without one); newer ones may belong to an upload still under way elsewhere."""
        selector = models.FilterSelector(
            filter=models.Filter(
                must=[_is("document_id", str(document_id))],
                must_not=[models.FieldCondition(key="version", range=models.Range(gte=version))],
            )
        )
        async with self._calling() as client:
            await client.delete(self.collection, points_selector=selector, wait=True)

    async def delete(self, document_id: uuid.UUID) -> None:
        selector = models.FilterSelector(filter=_document_filter(document_id))
        async with self._calling() as client:
            await client.delete(self.collection, points_selector=selector, wait=True)

    async def delete_points(self, ids: Sequence[str]) -> None:
        async with self._calling() as client:
            for start in range(0, len(ids), DELETE_BATCH):
                selector = models.PointIdsList(points=list(ids[start : start + DELETE_BATCH]))
                await client.delete(self.collection, points_selector=selector, wait=True)

    async def scan(self) -> AsyncIterator[list[Stored]]:
        """Every point's document and version, a page at a time (no vectors, no text)."""
        wanted = models.PayloadSelectorInclude(include=["document_id", "version"])
        offset: models.ExtendedPointId | None = None
        while True:
            async with self._calling() as client:
                records, offset = await client.scroll(
                    self.collection,
                    limit=SCAN_PAGE,
                    offset=offset,
                    with_payload=wanted,
                    with_vectors=False,
                )
            yield [_stored(record) for record in records]
            if offset is None:
                return

    async def count(self, document_id: uuid.UUID | None = None) -> int:
        selector = _document_filter(document_id) if document_id is not None else None
        async with self._calling() as client:
            result = await client.count(self.collection, count_filter=selector, exact=True)
        return result.count

    async def nearest(self, vector: Sequence[float], limit: int, min_score: float) -> list[Hit]:
        """The ``limit`` points closest to ``vector``, best first, none below ``min_score``
        (whatever version they belong to: ``app.retrieval`` keeps the committed ones)."""
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
                version = payload.get("version")
                sha256 = payload.get("sha256")
                hits.append(
                    Hit(
                        document_id=uuid.UUID(str(payload["document_id"])),
                        version=int(version) if version is not None else None,
                        sha256=str(sha256) if sha256 is not None else None,
                        title=str(payload.get("title", "")),
                        chunk=int(payload["chunk"]),
                        text=str(payload.get("text", "")),
                        score=float(point.score),
                    )
                )
            except (KeyError, ValueError, TypeError):
                logger.warning("Skipped a point without this app's payload: %s", point.id)
        return hits


def _stored(record: models.Record) -> Stored:
    payload = record.payload or {}
    try:
        document: uuid.UUID | None = uuid.UUID(str(payload["document_id"]))
    except (KeyError, ValueError):
        document = None
    version = payload.get("version")
    return Stored(
        id=str(record.id),
        document_id=document,
        version=version if isinstance(version, int) else None,
    )

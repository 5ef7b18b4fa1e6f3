"""The knowledge base: documents in, chunked, embedded and stored; documents out; the re-index.

A document is citable only once its database row is committed. Each upload is a new *version*
of its document: the row's ``updated_at`` in microseconds (:func:`version_of`), chosen before
anything is written. Its points carry that version (``app.vectors``), and retrieval keeps a
point only when its document's committed row has the same version and text hash
(``app.retrieval``). So:

- the points are written first, the row last; an upload that fails anywhere (the embedding
  service, Qdrant, the database, a full disk) removes the points it wrote, and the previous
  version stays as it was, still cited;
- after the commit, the points of older versions are removed;
- uploads of one source wait for each other (a lock per document), and a commit that finds the
  row changed by another process meanwhile answers 409 (send it again), never a 500;
- at startup, points that no committed version owns (left by a crash, or a store that was
  unreachable when an upload was undone) are removed (:meth:`Library.reconcile`).

Database sessions are short: one to read the row, one to commit; none is open while a document
is embedded or written to Qdrant. Chunking and hashing run in a worker thread, so a large
document does not stall the other requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.chunking import chunk
from app.config import Settings
from app.db import Database
from app.documents import Document, DocumentIn, ReindexStatus, document_id
from app.embeddings import embed
from app.errors import ApiError
from app.health import describe_error, public_reason
from app.text import encodable
from app.timestamps import utcnow
from app.upstream import Upstream, UpstreamError
from app.vectors import StoreUnavailable, VectorStore

logger = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# Reconciliation leaves points younger than this alone: with several processes on one Qdrant
# server, they may belong to an upload still under way in another one.
RECONCILE_GRACE_S = 600.0


def version_of(updated_at: datetime) -> int:
    """The version of a document row: its ``updated_at`` in microseconds since the epoch."""
    return (updated_at.astimezone(UTC) - _EPOCH) // _MICROSECOND


class InvalidDocument(ValueError):
    """A document that cannot be ingested; the message says why."""


class Conflict(Exception):
    """Another process changed the document between reading and committing it."""


def _checked(payload: DocumentIn, settings: Settings) -> tuple[str, str, str]:
    """The source, title and text of ``payload``, or :class:`InvalidDocument`."""
    source = payload.source.strip()
    text = payload.text.strip()
    if not source:
        raise InvalidDocument("source must not be empty")
    if not text:
        raise InvalidDocument("text must not be empty")
    if len(text) > settings.max_document_chars:
        raise InvalidDocument(
            f"text holds {len(text)} characters; at most {settings.max_document_chars} "
            "(MAX_DOCUMENT_CHARS) are accepted"
        )
    try:
        encodable(source)
        encodable(text)
    except ValueError as exc:
        raise InvalidDocument(str(exc)) from exc
    title = (payload.title or "").strip() or source
    return source, title, text


def _prepared(payload: DocumentIn, settings: Settings) -> tuple[str, str, str, list[str], str]:
    """Checked fields, chunks and text hash: CPU work, run in a worker thread."""
    source, title, text = _checked(payload, settings)
    markdown = payload.format == "markdown"
    chunks = chunk(text, settings.chunk_chars, settings.chunk_overlap, markdown=markdown)
    return source, title, text, chunks, hashlib.sha256(text.encode()).hexdigest()


@dataclass
class _Previous:
    """What the committed row held when an upload started (``None``: no row)."""

    updated_at: datetime | None
    created_at: datetime | None


class _Locks:
    """One asyncio lock per key, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[uuid.UUID, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: uuid.UUID) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class Library:
    """The documents, their passages in the vector store, and the re-index job.

    ``database`` is set once the application has built it (``app.main``)."""

    def __init__(self, settings: Settings, upstream: Upstream, store: VectorStore) -> None:
        self.settings = settings
        self.upstream = upstream
        self.store = store
        self.database: Database | None = None
        self.reindexing = ReindexStatus()
        self._locks = _Locks()
        self._job: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A short database session; 503 when the database cannot be used."""
        database = self.database
        if database is None or not await database.ready() or database.sessionmaker is None:
            reason = (database.startup_reason if database else None) or "not started"
            raise ApiError(503, f"Database unavailable: {reason}")
        async with database.sessionmaker() as session:
            yield session

    # --- documents in ------------------------------------------------------------------------

    async def ingest(self, payload: DocumentIn) -> tuple[Document, bool]:
        """Stores ``payload``; the document and whether it replaced one."""
        source, title, text, chunks, sha256 = await asyncio.to_thread(
            _prepared, payload, self.settings
        )
        await self.store.ready()  # before spending embeddings on a store that cannot take them
        doc_id = document_id(source)
        async with self._locks.hold(doc_id):
            return await self._ingest(doc_id, source, title, payload.format, text, chunks, sha256)

    async def _ingest(
        self,
        doc_id: uuid.UUID,
        source: str,
        title: str,
        format: str,
        text: str,
        chunks: list[str],
        sha256: str,
    ) -> tuple[Document, bool]:
        async with self.session() as db:
            row = await db.get(Document, doc_id)
            previous = _Previous(row.updated_at, row.created_at) if row else _Previous(None, None)
        now = utcnow()
        if previous.updated_at is not None and now <= previous.updated_at:
            now = previous.updated_at + _MICROSECOND  # a clock that went back: still newer
        version = version_of(now)
        vectors = await embed(self.upstream, self.settings, chunks)
        fields: dict[str, Any] = {
            "title": title,
            "format": format,
            "content": text,
            "sha256": sha256,
            "chunks": len(chunks),
            "characters": len(text),
            "updated_at": now,
        }
        try:
            await self.store.write(doc_id, version, sha256, title, chunks, vectors)
            document = await self._commit(doc_id, source, fields, previous)
        except BaseException:
            # Nothing of this upload may stay: its points are not cited (no committed row has
            # their version), but they would be found again by every question.
            await asyncio.shield(self._undo(doc_id, version, len(chunks)))
            raise
        try:
            await self.store.delete_older(doc_id, version)
        except StoreUnavailable as exc:  # not cited; removed at the next start
            logger.warning("Old passages of %r stay until restart: %s", source, exc.reason)
        logger.info("Ingested %r: %d chunks", source, len(chunks))
        return document, previous.updated_at is not None

    async def _commit(
        self, doc_id: uuid.UUID, source: str, fields: dict[str, Any], previous: _Previous
    ) -> Document:
        async with self.session() as db:
            if previous.updated_at is None:
                db.add(
                    Document(id=doc_id, source=source, created_at=fields["updated_at"], **fields)
                )
            else:
                statement = (
                    update(Document)
                    .where(col(Document.id) == doc_id)
                    .where(col(Document.updated_at) == previous.updated_at)
                    .values(**fields)
                )
                result = await db.exec(statement)
                if result.rowcount != 1:
                    raise Conflict
            try:
                await db.commit()
            except IntegrityError as exc:  # the same source, inserted by another process
                raise Conflict from exc
        created = previous.created_at or fields["updated_at"]
        return Document(id=doc_id, source=source, created_at=created, **fields)

    async def _undo(self, doc_id: uuid.UUID, version: int, chunks: int) -> None:
        try:
            await self.store.delete_version(doc_id, version, chunks)
        except Exception as exc:  # the store itself failed: reconciliation removes them later
            logger.warning(
                "Passages of a failed upload stay until restart (never cited): %s",
                describe_error(exc),
            )

    async def remove(self, doc_id: uuid.UUID) -> bool:
        """Removes the document and its passages; whether it existed."""
        await self.store.ready()
        async with self._locks.hold(doc_id):
            async with self.session() as db:
                document = await db.get(Document, doc_id)
                if document is not None:
                    await db.delete(document)
                    await db.commit()
            try:
                # Also clears points left by an upload that could not be undone.
                await self.store.delete(doc_id)
            except StoreUnavailable as exc:
                if document is None:
                    raise
                logger.warning("Passages of a removed document stay until restart: %s", exc.reason)
        return document is not None

    # --- the re-index --------------------------------------------------------------------------

    async def start_reindex(self) -> ReindexStatus:
        """Starts embedding every document again in the background; :class:`Conflict` while a
        re-index is under way."""
        async with self._starting:  # two requests at once start one job
            if self._job is not None and not self._job.done():
                raise Conflict
            await self.store.ready()
            async with self.session() as db:
                ids = list(await db.exec(select(Document.id).order_by(col(Document.created_at))))
            self.reindexing = ReindexStatus(
                state="running", documents_total=len(ids), started_at=utcnow()
            )
            self._job = asyncio.create_task(self._reindex(ids, self.reindexing))
        return self.reindexing

    async def _reindex(self, ids: list[uuid.UUID], status: ReindexStatus) -> None:
        try:
            for doc_id in ids:
                status.chunks_done += await self._reindex_one(doc_id)
                status.documents_done += 1
        except asyncio.CancelledError:
            status.state = "failed"
            status.error = "stopped: the app shut down"
            raise
        except Exception as exc:
            status.state = "failed"
            status.error = _safe_reason(exc)
            logger.error(
                "Re-index failed after %d documents: %s",
                status.documents_done,
                describe_error(exc),
            )
        else:
            status.state = "done"
            logger.info(
                "Re-indexed %d documents, %d chunks", status.documents_done, status.chunks_done
            )
        finally:
            status.finished_at = utcnow()

    async def _reindex_one(self, doc_id: uuid.UUID) -> int:
        async with self._locks.hold(doc_id):
            async with self.session() as db:
                document = await db.get(Document, doc_id)
            if document is None:  # removed since the job started
                return 0
            payload = DocumentIn(
                source=document.source,
                title=document.title,
                text=document.content,
                format="text" if document.format == "text" else "markdown",
            )
            source, title, text, chunks, sha256 = await asyncio.to_thread(
                _prepared, payload, self.settings
            )
            await self._ingest(doc_id, source, title, payload.format, text, chunks, sha256)
            return len(chunks)

    async def stop(self) -> None:
        """Cancels a re-index under way (at shutdown); the document in progress is undone."""
        if self._job is not None and not self._job.done():
            self._job.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._job

    # --- reconciliation ----------------------------------------------------------------------

    async def reconcile(self) -> None:
        """Removes the points no committed document version owns. Runs after the vector store
        starts (``VectorStore.on_start``); needs the database, and skips without it."""
        try:
            async with self.session() as db:
                rows = await db.exec(select(Document.id, Document.updated_at))
                committed = {doc_id: version_of(updated_at) for doc_id, updated_at in rows}
        except ApiError as exc:
            logger.warning("Passages not checked against the documents: %s", exc.detail)
            return
        newest = version_of(utcnow() - timedelta(seconds=RECONCILE_GRACE_S))
        orphans: list[str] = []
        async for page in self.store.scan():
            for point in page:
                if point.document_id is not None and committed.get(point.document_id) == (
                    point.version
                ):
                    continue
                if point.version is not None and point.version > newest:
                    continue  # maybe an upload still under way in another process
                orphans.append(point.id)
        if orphans:
            await self.store.delete_points(orphans)
            logger.warning(
                "Removed %d passages no committed document owns (from uploads that failed or "
                "an earlier version of the app); POST /api/v1/documents/reindex rebuilds any "
                "document that lost its passages",
                len(orphans),
            )


def _safe_reason(exc: Exception) -> str:
    """Why the re-index stopped, in words safe to show (no driver message, host or path)."""
    if isinstance(exc, UpstreamError):
        return exc.message
    if isinstance(exc, StoreUnavailable):
        return f"Vector store unavailable: {exc.reason}"
    if isinstance(exc, ApiError):
        return str(exc.detail)
    if isinstance(exc, Conflict):
        return "a document changed during the re-index: start it again"
    return public_reason(exc)

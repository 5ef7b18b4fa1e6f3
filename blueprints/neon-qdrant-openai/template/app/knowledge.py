"""The knowledge base: documents in, chunked, embedded and stored; documents out.

A document is written to the vector store first and to the database last, so a failure
(embedding, Qdrant) leaves the previous version in place: the database never lists a document
whose passages were not stored. Sending the same ``source`` again replaces the document: its
chunks keep their point ids, and those the new version no longer has are removed.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.chunking import chunk
from app.config import Settings
from app.documents import Document, DocumentIn, document_id
from app.embeddings import embed
from app.text import encodable
from app.timestamps import utcnow
from app.upstream import Upstream
from app.vectors import VectorStore

logger = logging.getLogger(__name__)


class InvalidDocument(ValueError):
    """A document that cannot be ingested; the message says why."""


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


async def ingest(
    db: AsyncSession,
    store: VectorStore,
    upstream: Upstream,
    settings: Settings,
    payload: DocumentIn,
) -> tuple[Document, bool]:
    """Stores ``payload``; the document and whether it replaced one."""
    source, title, text = _checked(payload, settings)
    doc_id = document_id(source)
    chunks = chunk(
        text, settings.chunk_chars, settings.chunk_overlap, markdown=payload.format == "markdown"
    )
    vectors = await embed(upstream, settings, chunks)
    await store.replace(doc_id, title, chunks, vectors)
    existing = await db.get(Document, doc_id)
    now = utcnow()
    fields: dict[str, Any] = {
        "title": title,
        "format": payload.format,
        "content": text,
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
        "chunks": len(chunks),
        "characters": len(text),
        "updated_at": now,
    }
    if existing is None:
        document = Document(id=doc_id, source=source, created_at=now, **fields)
    else:
        document = existing.sqlmodel_update(fields)
    db.add(document)
    await db.commit()
    await db.refresh(document)
    logger.info("Ingested %r: %d chunks", source, len(chunks))
    return document, existing is not None


async def remove(db: AsyncSession, store: VectorStore, doc_id: uuid.UUID) -> bool:
    """Removes the document and its passages; whether it existed."""
    document = await db.get(Document, doc_id)
    await store.delete(doc_id)  # also clears points left by an ingestion that failed midway
    if document is None:
        return False
    await db.delete(document)
    await db.commit()
    return True


async def reindex(
    db: AsyncSession, store: VectorStore, upstream: Upstream, settings: Settings
) -> tuple[int, int]:
    """Embeds and stores every document again (after a new embedding model or collection, or
    when the embedded store was lost with the container's disk); documents and chunks done."""
    documents = list(await db.exec(select(Document).order_by(col(Document.created_at))))
    total = 0
    for document in documents:
        payload = DocumentIn(
            source=document.source,
            title=document.title,
            text=document.content,
            format="text" if document.format == "text" else "markdown",
        )
        stored, _ = await ingest(db, store, upstream, settings, payload)
        total += stored.chunks
    return len(documents), total

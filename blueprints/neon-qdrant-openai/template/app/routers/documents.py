"""``/api/v1/documents``: the documents the answers come from. Every route needs the admin token
(``Authorization: Bearer <ADMIN_TOKEN>``): anyone may chat, only the owner changes what the
answers come from (and spends embedding credit on it).

``POST`` takes ``{"source", "title", "text", "format": "markdown" | "text"}``: the text is
chunked, embedded and stored; the same ``source`` again replaces the document (201 when new,
200 when replaced). ``POST /reindex`` embeds every stored document again.
"""

from __future__ import annotations

import hmac
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import col, select

from app import knowledge
from app.config import Settings
from app.dependencies import DbDep, SettingsDep
from app.documents import Document, DocumentIn, DocumentRead, Ingested, Reindexed
from app.errors import ApiError, ErrorBody
from app.retrieval import unavailable
from app.routers.chat import UpstreamDep
from app.upstream import Upstream, UpstreamError
from app.vectors import StoreUnavailable, VectorStore

_bearer = HTTPBearer(auto_error=False, description="ADMIN_TOKEN")

RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No admin token, or a wrong one"},
    503: {"model": ErrorBody, "description": "ADMIN_TOKEN, the model or a store is not available"},
}


def get_rag_settings(settings: SettingsDep) -> Settings:
    assert isinstance(settings, Settings)
    return settings


RagSettingsDep = Annotated[Settings, Depends(get_rag_settings)]


def require_admin(
    settings: RagSettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    if settings.admin_token is None:
        raise ApiError(
            503,
            "Document management is off: set ADMIN_TOKEN (a Secret of the Space)",
            code="admin_not_configured",
        )
    expected = settings.admin_token.get_secret_value().encode()
    given = credentials.credentials.encode() if credentials is not None else b""
    if not hmac.compare_digest(given, expected):
        raise ApiError(
            status.HTTP_401_UNAUTHORIZED,
            "Send the admin token: Authorization: Bearer <ADMIN_TOKEN>",
            headers={"WWW-Authenticate": "Bearer"},
        )


router = APIRouter(
    prefix="/api/v1/documents",
    tags=["documents"],
    dependencies=[Depends(require_admin)],
    responses=RESPONSES,
)


def get_store(request: Request) -> VectorStore:
    store: VectorStore = request.app.state.vector_store
    return store


StoreDep = Annotated[VectorStore, Depends(get_store)]


def configured_upstream(upstream: UpstreamDep, settings: RagSettingsDep) -> Upstream:
    """The model upstream, which embedding needs: 503 without its API key."""
    if not upstream.configured:
        raise ApiError(
            503,
            f"The model is not configured: set {settings.KEY_VARIABLE}",
            code="model_not_configured",
        )
    return upstream


ModelDep = Annotated[Upstream, Depends(configured_upstream)]


def _upstream_error(exc: UpstreamError) -> ApiError:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
    return ApiError(exc.status, exc.message, code=exc.code, headers=headers)


def _read(document: Document) -> DocumentRead:
    return DocumentRead.model_validate(document, from_attributes=True)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": Ingested, "description": "An existing document was replaced"}},
    summary="Add a document, or replace the one with the same source",
)
async def ingest_document(
    payload: DocumentIn,
    response: Response,
    db: DbDep,
    store: StoreDep,
    upstream: ModelDep,
    settings: RagSettingsDep,
) -> Ingested:
    try:
        document, replaced = await knowledge.ingest(db, store, upstream, settings, payload)
    except knowledge.InvalidDocument as exc:
        raise ApiError(422, str(exc), code="validation_error") from exc
    except UpstreamError as exc:
        raise _upstream_error(exc) from exc
    except StoreUnavailable as exc:
        raise unavailable(exc) from exc
    if replaced:
        response.status_code = status.HTTP_200_OK
    return Ingested(**_read(document).model_dump(), replaced=replaced)


@router.get("", summary="The documents, newest first")
async def list_documents(
    db: DbDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[DocumentRead]:
    statement = (
        select(Document)
        .order_by(col(Document.updated_at).desc(), col(Document.id))
        .offset(offset)
        .limit(limit)
    )
    return [_read(document) for document in await db.exec(statement)]


@router.get("/{document_id}", summary="One document")
async def read_document(document_id: uuid.UUID, db: DbDep) -> DocumentRead:
    document = await db.get(Document, document_id)
    if document is None:
        raise ApiError(404, "No such document")
    return _read(document)


@router.delete(
    "/{document_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a document and its passages",
)
async def delete_document(document_id: uuid.UUID, db: DbDep, store: StoreDep) -> Response:
    try:
        existed = await knowledge.remove(db, store, document_id)
    except StoreUnavailable as exc:
        raise unavailable(exc) from exc
    if not existed:
        raise ApiError(404, "No such document")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/reindex", summary="Embed and store every document again")
async def reindex_documents(
    db: DbDep, store: StoreDep, upstream: ModelDep, settings: RagSettingsDep
) -> Reindexed:
    """After a new embedding model or collection, or when the embedded vector store was lost
    with the container's disk while the documents stayed in Postgres."""
    try:
        documents, chunks = await knowledge.reindex(db, store, upstream, settings)
    except UpstreamError as exc:
        raise _upstream_error(exc) from exc
    except StoreUnavailable as exc:
        raise unavailable(exc) from exc
    return Reindexed(documents=documents, chunks=chunks)

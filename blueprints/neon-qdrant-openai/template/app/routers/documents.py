"""``/api/v1/documents``: the documents the answers come from. Every route needs the admin token
(``Authorization: Bearer <ADMIN_TOKEN>``): anyone may chat, only the owner changes what the
answers come from (and spends embedding credit on it).

``POST`` takes ``{"source", "title", "text", "format": "markdown" | "text"}``: the text is
chunked, embedded and stored; the same ``source`` again replaces the document (201 when new,
200 when replaced; 409 when another process changed it meanwhile). ``POST /reindex`` starts
embedding every stored document again in the background (202; 409 while one runs), ``GET
/reindex`` tells how far it got.

These routes open short database sessions of their own (``app.knowledge``) instead of one for
the whole request: none is held while a document is embedded or written to Qdrant.
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
from app.documents import Document, DocumentIn, DocumentRead, Ingested, ReindexStatus
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


def get_library(request: Request) -> knowledge.Library:
    library: knowledge.Library = request.app.state.library
    return library


LibraryDep = Annotated[knowledge.Library, Depends(get_library)]

CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "Changed by another request meanwhile"}
}


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
    responses={
        200: {"model": Ingested, "description": "An existing document was replaced"},
        **CONFLICT,
    },
    summary="Add a document, or replace the one with the same source",
)
async def ingest_document(
    payload: DocumentIn, response: Response, library: LibraryDep, upstream: ModelDep
) -> Ingested:
    try:
        document, replaced = await library.ingest(payload)
    except knowledge.InvalidDocument as exc:
        raise ApiError(422, str(exc), code="validation_error") from exc
    except UpstreamError as exc:
        raise _upstream_error(exc) from exc
    except StoreUnavailable as exc:
        raise unavailable(exc) from exc
    except knowledge.Conflict as exc:
        raise ApiError(
            409, "The document was changed by another request meanwhile: send it again"
        ) from exc
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


@router.post(
    "/reindex",
    status_code=status.HTTP_202_ACCEPTED,
    responses={409: {"model": ErrorBody, "description": "A re-index is already running"}},
    summary="Start embedding and storing every document again",
)
async def reindex_documents(
    response: Response, library: LibraryDep, upstream: ModelDep
) -> ReindexStatus:
    """After a new embedding model or collection, or when the embedded vector store was lost
    with the container's disk while the documents stayed in Postgres. The job runs in the
    background; ``GET /api/v1/documents/reindex`` follows it. Until a document is done, its
    previous passages answer."""
    try:
        started = await library.start_reindex()
    except StoreUnavailable as exc:
        raise unavailable(exc) from exc
    except knowledge.Conflict as exc:
        raise ApiError(409, "A re-index is already running: follow it with GET") from exc
    response.headers["Location"] = "/api/v1/documents/reindex"
    return started.model_copy()


@router.get("/reindex", summary="How far the re-index got")
async def reindex_status(library: LibraryDep) -> ReindexStatus:
    return library.reindexing.model_copy()


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
async def delete_document(document_id: uuid.UUID, library: LibraryDep) -> Response:
    try:
        existed = await library.remove(document_id)
    except StoreUnavailable as exc:
        raise unavailable(exc) from exc
    if not existed:
        raise ApiError(404, "No such document")
    return Response(status_code=status.HTTP_204_NO_CONTENT)

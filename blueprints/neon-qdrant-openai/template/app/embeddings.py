"""Embeddings: texts to vectors through the model upstream, in batches of EMBEDDING_BATCH_SIZE,
checked against EMBEDDING_DIMENSIONS before anything is stored."""

from __future__ import annotations

from app.config import Settings
from app.upstream import Upstream, UpstreamError


def _asks_for_dimensions(model: str) -> bool:
    """OpenAI's text-embedding-3 models shorten their vectors on request; older models and
    other services may refuse the ``dimensions`` field, so it is sent to these only."""
    return model.rsplit("/", 1)[-1].startswith("text-embedding-3")


async def embed(upstream: Upstream, settings: Settings, texts: list[str]) -> list[list[float]]:
    model = settings.embedding_model
    size = settings.embedding_dimensions
    dimensions = size if _asks_for_dimensions(model) else None
    vectors: list[list[float]] = []
    step = settings.embedding_batch_size
    for start in range(0, len(texts), step):
        batch = await upstream.embed(texts[start : start + step], model, dimensions)
        for vector in batch:
            if len(vector) != size:
                raise UpstreamError(
                    "embedding_dimensions",
                    f"The embedding model returns {len(vector)}-dimensional vectors but "
                    f"EMBEDDING_DIMENSIONS is {size}: set it to {len(vector)} and use a new "
                    "QDRANT_COLLECTION",
                    502,
                )
        vectors.extend(batch)
    return vectors

"""The model upstream: any OpenAI-compatible chat API, through the official ``openai`` SDK.

A component of the app (``app.application``): without an API key the app still starts, /health
reports the model as not configured and the chat endpoints answer 503. Every upstream failure
becomes an :class:`UpstreamError` with a stable code and a message safe to show anyone: never
the key, never the upstream's raw answer (that goes to the log).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import openai
from openai import AsyncOpenAI

from app.chat_settings import ChatSettings
from app.health import DependencyHealth

logger = logging.getLogger(__name__)


class UpstreamError(Exception):
    """A failed upstream call, in safe words."""

    def __init__(
        self, code: str, message: str, status: int = 502, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.retry_after = retry_after


def _retry_after(exc: openai.APIStatusError) -> int | None:
    value = exc.response.headers.get("retry-after", "")
    return int(value) if value.isdigit() else None


def translate(exc: Exception) -> UpstreamError:
    """The safe form of an exception raised by the SDK."""
    if isinstance(exc, openai.APITimeoutError):
        return UpstreamError("upstream_timeout", "The model did not answer in time", 504)
    if isinstance(exc, openai.APIConnectionError):
        return UpstreamError("upstream_unreachable", "The model service cannot be reached", 502)
    if isinstance(exc, openai.RateLimitError):
        return UpstreamError(
            "upstream_rate_limited",
            "The model service is rate limiting this Space; try again shortly",
            503,
            _retry_after(exc) or 30,
        )
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return UpstreamError("upstream_auth", "The model service refused this Space's API key", 502)
    if isinstance(exc, openai.NotFoundError | openai.BadRequestError):
        return UpstreamError(
            "upstream_request", "The model service refused the request (check the model name)"
        )
    if isinstance(exc, openai.APIStatusError):
        return UpstreamError("upstream_error", "The model service failed to answer", 502)
    return UpstreamError("upstream_error", "The model service failed to answer", 502)


class Upstream:
    """The client of the model API, created at startup when a key is set."""

    name = "model"

    def __init__(self, settings: ChatSettings) -> None:
        self.settings = settings
        self.client: AsyncOpenAI | None = None

    @property
    def configured(self) -> bool:
        return self.settings.model_api_key is not None

    async def start(self) -> None:
        if not self.configured:
            logger.warning(
                "No %s: the app runs, but /health reports the model as not configured and "
                "chat answers 503. Set it as a Secret of the Space.",
                self.settings.KEY_VARIABLE,
            )
            return
        key = self.settings.model_api_key
        assert key is not None
        self.client = AsyncOpenAI(
            base_url=self.settings.model_base_url,
            api_key=key.get_secret_value(),
            timeout=self.settings.model_timeout_s,
            max_retries=self.settings.model_max_retries,
            default_headers=self.settings.model_headers(),
        )

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.close()
        self.client = None

    async def check(self) -> DependencyHealth:
        """Reports configuration only: a request to the model on every /health would spend
        credit and tie /health to the model's latency."""
        if not self.configured:
            return DependencyHealth.error(f"not configured: set {self.settings.KEY_VARIABLE}")
        return DependencyHealth.ok(self.settings.model_name)

    def _client(self) -> AsyncOpenAI:
        if self.client is None:
            raise UpstreamError(
                "model_not_configured",
                f"The model is not configured: set {self.settings.KEY_VARIABLE}",
                503,
            )
        return self.client

    def _request(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        request: dict[str, Any] = {"model": self.settings.model_name, "messages": messages}
        extra = self.settings.model_extra_body()
        if extra:
            request["extra_body"] = extra
        return request

    async def complete(self, messages: list[dict[str, str]]) -> str:
        client = self._client()
        try:
            answer = await client.chat.completions.create(**self._request(messages))
        except openai.OpenAIError as exc:
            logger.warning("Model request failed: %s", exc)
            raise translate(exc) from exc
        if not answer.choices:
            return ""
        return answer.choices[0].message.content or ""

    async def embed(
        self, texts: list[str], model: str, dimensions: int | None = None
    ) -> list[list[float]]:
        """One embedding vector per text, in order. ``dimensions`` is sent to the API when
        given (OpenAI's text-embedding-3 models shorten their vectors to it)."""
        client = self._client()
        request: dict[str, Any] = {"model": model, "input": texts}
        if dimensions is not None:
            request["dimensions"] = dimensions
        try:
            result = await client.embeddings.create(**request)
        except openai.OpenAIError as exc:
            logger.warning("Embedding request failed: %s", exc)
            raise translate(exc) from exc
        vectors = [list(item.embedding) for item in sorted(result.data, key=lambda d: d.index)]
        if len(vectors) != len(texts):
            raise UpstreamError(
                "upstream_error",
                f"The model service returned {len(vectors)} embeddings for {len(texts)} texts",
            )
        return vectors

    async def stream(self, messages: list[dict[str, str]]) -> AsyncIterator[str]:
        """The answer's text, piece by piece. Closing the iterator (a client that went away)
        closes the upstream request."""
        client = self._client()
        try:
            chunks = await client.chat.completions.create(**self._request(messages), stream=True)
            async with chunks:
                async for chunk in chunks:
                    if chunk.choices and chunk.choices[0].delta.content:
                        yield chunk.choices[0].delta.content
        except openai.OpenAIError as exc:
            logger.warning("Model stream failed: %s", exc)
            raise translate(exc) from exc

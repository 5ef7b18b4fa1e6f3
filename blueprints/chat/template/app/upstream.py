"""The model upstream: any OpenAI-compatible chat API, through the official ``openai`` SDK.

A component of the app (``app.application``): without an API key the app still starts, /health
reports the model as not configured and the chat endpoints answer 503. Every upstream failure
becomes an :class:`UpstreamError` with a stable code and a message safe to show anyone: never
the key, never the upstream's raw answer (that goes to the log).

What counts as a failure, besides an error status: silence longer than MODEL_TIMEOUT_S (before
the answer starts, between two pieces, retries included: ``upstream_timeout``); a body that is
not the API's (HTML, bytes that are not UTF-8, an event that is not JSON, a stream that ends
before the model says it finished: ``upstream_malformed``); an answer without content
(``upstream_empty``). The SDK is imported in a worker thread a few seconds after startup (or by
the first request that needs it, if sooner), not by the module: it takes most of a second, and
the app starts as fast as one without it and answers /health meanwhile.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import sys
from collections.abc import AsyncIterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

from app.chat_settings import ChatSettings
from app.health import DependencyHealth

if TYPE_CHECKING:
    from openai import AsyncOpenAI

logger = logging.getLogger(__name__)

# Seconds after startup at which the SDK is imported, if no request needed it before.
SDK_IMPORT_DELAY_S = 3.0


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


def timed_out() -> UpstreamError:
    return UpstreamError("upstream_timeout", "The model did not answer in time", 504)


def malformed() -> UpstreamError:
    return UpstreamError(
        "upstream_malformed", "The model service sent an answer that cannot be read", 502
    )


def empty() -> UpstreamError:
    return UpstreamError("upstream_empty", "The model service sent an empty answer", 502)


def _retry_after(exc: Any) -> int | None:
    value = str(exc.response.headers.get("retry-after", ""))
    return int(value) if value.isdigit() else None


def translate(exc: Exception) -> UpstreamError:
    """The safe form of an exception raised while talking to the upstream."""
    if isinstance(exc, UpstreamError):
        return exc
    if isinstance(exc, TimeoutError):
        return timed_out()
    openai = sys.modules.get(SDK)
    if openai is None or not isinstance(exc, openai.OpenAIError):
        # Anything else (JSON, UTF-8, a cut connection, a missing field) is a reply this client
        # cannot read.
        return malformed()
    if isinstance(exc, openai.APITimeoutError):
        return timed_out()
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
    if isinstance(exc, openai.APIResponseValidationError):
        return malformed()
    return UpstreamError("upstream_error", "The model service failed to answer", 502)


# The SDK's module name.
SDK = "openai"


class Upstream:
    """The client of the model API, created on first use when a key is set."""

    name = "model"

    def __init__(self, settings: ChatSettings) -> None:
        self.settings = settings
        self.client: AsyncOpenAI | None = None
        self._sdk: asyncio.Future[ModuleType] | None = None
        self._early_import: asyncio.TimerHandle | None = None

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
        loop = asyncio.get_running_loop()
        self._early_import = loop.call_later(SDK_IMPORT_DELAY_S, self._load_sdk)

    def _load_sdk(self) -> asyncio.Future[ModuleType]:
        if self._sdk is None:
            self._sdk = asyncio.ensure_future(asyncio.to_thread(importlib.import_module, SDK))
        return self._sdk

    async def stop(self) -> None:
        if self._early_import is not None:
            self._early_import.cancel()
        if self._sdk is not None and not self._sdk.done():
            await asyncio.wait([self._sdk])  # an import cannot be cancelled; let it end
        if self.client is not None:
            await self.client.close()
        self.client = None
        self._sdk = None

    async def check(self) -> DependencyHealth:
        """Reports configuration only: a request to the model on every /health would spend
        credit and tie /health to the model's latency."""
        if not self.configured:
            return DependencyHealth.error(f"not configured: set {self.settings.KEY_VARIABLE}")
        return DependencyHealth.ok(self.settings.model_name)

    async def _client(self) -> AsyncOpenAI:
        """The client, made on first use (after the SDK's import, which no timeout counts)."""
        key = self.settings.model_api_key
        if key is None:
            raise UpstreamError(
                "model_not_configured",
                f"The model is not configured: set {self.settings.KEY_VARIABLE}",
                503,
            )
        if self.client is None:
            openai = await asyncio.shield(self._load_sdk())
            if self.client is None:  # another request may have made it meanwhile
                self.client = openai.AsyncOpenAI(
                    base_url=self.settings.model_base_url,
                    api_key=key.get_secret_value(),
                    timeout=self.settings.model_timeout_s,
                    max_retries=self.settings.model_max_retries,
                    default_headers=self.settings.model_headers(),
                )
        return self.client

    def _request(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        extra = {
            **self.settings.model_extra_body(),
            self.settings.MAX_TOKENS_FIELD: self.settings.model_max_tokens,
        }
        return {"model": self.settings.model_name, "messages": messages, "extra_body": extra}

    async def complete(self, messages: list[dict[str, str]]) -> str:
        """The whole answer; within MODEL_TIMEOUT_S, retries included."""
        client = await self._client()
        try:
            async with asyncio.timeout(self.settings.model_timeout_s):
                answer = await client.chat.completions.create(**self._request(messages))
        except Exception as exc:
            logger.warning("Model request failed: %s", _describe(exc))
            raise translate(exc) from exc
        choices = getattr(answer, "choices", None)
        if isinstance(answer, str | bytes) or not isinstance(choices, list | None):
            logger.warning("Model answer is not a chat completion: %.200r", answer)
            raise malformed()
        message = getattr(choices[0], "message", None) if choices else None
        content = getattr(message, "content", None)
        if not isinstance(content, str) or not content:
            logger.warning("Model answer holds no content: %.200r", answer)
            raise empty()
        return content

    async def embed(
        self, texts: list[str], model: str, dimensions: int | None = None
    ) -> list[list[float]]:
        """One embedding vector per text, in order. ``dimensions`` is sent to the API when
        given (OpenAI's text-embedding-3 models shorten their vectors to it)."""
        request: dict[str, Any] = {"model": model, "input": texts}
        if dimensions is not None:
            request["dimensions"] = dimensions
        client = await self._client()
        try:
            async with asyncio.timeout(self.settings.model_timeout_s):
                result = await client.embeddings.create(**request)
            data = sorted(result.data, key=lambda d: d.index)
            vectors = [[float(x) for x in item.embedding] for item in data]
        except Exception as exc:
            logger.warning("Embedding request failed: %s", _describe(exc))
            raise translate(exc) from exc
        if len(vectors) != len(texts):
            raise UpstreamError(
                "upstream_error",
                f"The model service returned {len(vectors)} embeddings for {len(texts)} texts",
            )
        return vectors

    async def stream(self, messages: list[dict[str, str]]) -> AsyncIterator[str]:
        """The answer's text, piece by piece; raises :class:`UpstreamError` for every failure,
        an answer that ends before the model says it finished included. Closing the iterator
        (a client that went away) closes the upstream request."""
        timeout = self.settings.model_timeout_s
        client = await self._client()
        try:
            async with asyncio.timeout(timeout):
                chunks = await client.chat.completions.create(
                    **self._request(messages), stream=True
                )
            async with chunks:
                received = pieces = 0
                finished = False
                iterator = aiter(chunks)
                while True:
                    try:
                        async with asyncio.timeout(timeout):
                            chunk = await anext(iterator)
                    except StopAsyncIteration:
                        break
                    received += 1
                    for choice in chunk.choices or []:
                        if choice.finish_reason:
                            finished = True
                        content = choice.delta.content if choice.delta else None
                        if content:
                            pieces += 1
                            yield content
        except Exception as exc:
            logger.warning("Model stream failed: %s", _describe(exc))
            raise translate(exc) from exc
        if received == 0:
            logger.warning("Model stream held no events (not an event stream?)")
            raise malformed()
        if pieces == 0:
            raise empty()
        if not finished:
            logger.warning("Model stream ended before the model said it finished")
            raise malformed()


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]

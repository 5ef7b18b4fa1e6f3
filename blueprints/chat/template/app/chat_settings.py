"""Settings every chat backend shares: the model upstream (any OpenAI-compatible API), the
history sent to it, the size of a message, and what bounds the spending of a public Space: the
per-session and global rate limits, the token budget and the cap on an answer's length.

A backend names the upstream's variables its own way (``OPENROUTER_API_KEY``, …) by overriding
the fields with aliases; ``KEY_VARIABLE`` is the name its messages use for the key.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from app.base_settings import BaseAppSettings


class ChatSettings(BaseAppSettings):
    model_config = SettingsConfigDict(populate_by_name=True)

    # The environment variable that holds the API key, for messages.
    KEY_VARIABLE: ClassVar[str] = "MODEL_API_KEY"
    # The request field that caps an answer's length: OpenAI's current name (``max_tokens`` is
    # deprecated there and refused by its reasoning models); a backend whose API uses another
    # name overrides it.
    MAX_TOKENS_FIELD: ClassVar[str] = "max_completion_tokens"

    # MODEL_BASE_URL: the OpenAI-compatible API the answers come from.
    model_base_url: str = "https://api.openai.com/v1"
    # MODEL_API_KEY (a Secret): without it the app runs, /health reports the model as not
    # configured and the chat endpoints answer 503.
    model_api_key: SecretStr | None = None
    # MODEL_NAME: the model asked for every answer.
    model_name: str = "gpt-4o-mini"
    # MODEL_FALLBACKS: other models to try when the first fails (comma-separated), where the
    # upstream supports it.
    model_fallbacks: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # MODEL_TIMEOUT_S: the longest the model may stay silent: before an answer starts, between
    # two pieces of a streamed answer, or for a whole answer. Retries included: a stalled
    # upstream fails after this long, however many retries are allowed.
    model_timeout_s: float = Field(default=60.0, gt=0, le=600)
    # MODEL_MAX_RETRIES: retries of a failed upstream call (connection errors, 429, 5xx), within
    # MODEL_TIMEOUT_S.
    model_max_retries: int = Field(default=1, ge=0, le=5)
    # MODEL_DEADLINE_S: the longest one answer may take from start to end, however it streams.
    model_deadline_s: float = Field(default=300.0, gt=0, le=3600)
    # MODEL_MAX_TOKENS: the most tokens one answer may hold (sent to the model with every
    # request).
    model_max_tokens: int = Field(default=1024, ge=1, le=1_000_000)
    # HISTORY_MAX_TURNS / HISTORY_MAX_CHARS: how much of the conversation is sent to the model.
    history_max_turns: int = Field(default=10, ge=0, le=500)
    history_max_chars: int = Field(default=12_000, ge=100, le=1_000_000)
    # MAX_MESSAGE_CHARS: the longest message a user may send.
    max_message_chars: int = Field(default=4_000, ge=1, le=100_000)
    # CHAT_RATE_LIMIT: chat requests per session per minute (0: no limit). A public Space spends
    # its owner's API credit.
    chat_rate_limit: int = Field(default=20, ge=0, le=10_000)
    # CHAT_GLOBAL_RATE_LIMIT: chat requests per minute of all sessions together (0: no limit):
    # what bounds the spending when someone opens many sessions.
    chat_global_rate_limit: int = Field(default=60, ge=0, le=1_000_000)
    # CHAT_TOKENS_PER_MINUTE: tokens all answers together may spend per minute (0: no limit).
    # Each request counts at its worst: its prompt (characters / 4) plus MODEL_MAX_TOKENS.
    chat_tokens_per_minute: int = Field(default=200_000, ge=0, le=100_000_000)
    # STREAM_KEEPALIVE_S: a comment line is sent when the stream has been quiet this long.
    stream_keepalive_s: float = Field(default=15.0, gt=0, le=300)

    @field_validator("model_api_key", mode="before")
    @classmethod
    def _blank_key(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("model_fallbacks", mode="before")
    @classmethod
    def _split_fallbacks(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    def model_headers(self) -> dict[str, str]:
        """Headers sent with every upstream request."""
        return {}

    def model_extra_body(self) -> dict[str, Any]:
        """Fields added to every upstream request body."""
        return {}

"""Text the API stores: checks for what JSON allows but a database or UTF-8 cannot hold."""

from __future__ import annotations


def encodable(value: str) -> str:
    """Refuse text with an unpaired surrogate (``"\\ud800"`` is valid JSON, but no UTF-8 text can
    hold it) or a NUL character (PostgreSQL text cannot hold it)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("text contains an unpaired surrogate (\\ud800-\\udfff)") from exc
    if "\x00" in value:
        raise ValueError("text contains a NUL character")
    return value

"""What of a conversation is sent to the model: the newest turns, within limits."""

from __future__ import annotations

from collections.abc import Sequence

from app.chat_models import ChatMessage


def bounded(
    messages: Sequence[ChatMessage], max_turns: int, max_chars: int
) -> list[dict[str, str]]:
    """``messages`` (oldest first) as the model's input: the newest ``max_turns`` turns (a turn is
    a question and its answer) and at most ``max_chars`` characters. The newest message always
    goes, cut to ``max_chars`` if it must be. Unfinished answers are left out."""
    usable = [m for m in messages if m.complete]
    if not usable:
        return []
    newest = usable[-1]
    picked = [{"role": newest.role, "content": newest.content[-max_chars:]}]
    budget = max_chars - len(picked[0]["content"])
    for message in reversed(usable[:-1][-2 * max_turns :] if max_turns else []):
        if len(message.content) > budget:
            break
        picked.append({"role": message.role, "content": message.content})
        budget -= len(message.content)
    picked.reverse()
    return picked

"""Splitting a document into passages (chunks) for retrieval.

Paragraphs are kept whole where they fit; a paragraph too long for one chunk is split between
sentences, then between words, then anywhere. In Markdown a heading starts a new chunk, so a
passage does not run from one section into the next. Each chunk after the first starts with the
end of the one before it (``overlap`` characters, from a word boundary), so a sentence cut at a
chunk's end is still whole in the next (a chunk that starts a Markdown section does not). A
chunk holds at most ``size + overlap`` characters.
"""

from __future__ import annotations

import itertools
import re

_PARAGRAPH = re.compile(r"\n[ \t]*\n+")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_HEADING = re.compile(r"#{1,6}\s")


def chunk(text: str, size: int, overlap: int, markdown: bool = False) -> list[str]:
    """The chunks of ``text`` (none for a text that is only white space)."""
    if size < 1 or not 0 <= overlap < size:
        raise ValueError("need 0 <= overlap < size")
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return []
    pieces: list[str] = []
    for block in _blocks(text, markdown):
        pieces.extend(_split(block, size))
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        starts_section = markdown and _HEADING.match(piece) is not None
        if current and (starts_section or len(current) + 2 + len(piece) > size):
            chunks.append(current)
            current = ""
        current = f"{current}\n\n{piece}" if current else piece
    if current:
        chunks.append(current)
    pairs = itertools.pairwise(chunks)
    return [chunks[0], *(_joined(before, now, overlap, markdown) for before, now in pairs)]


def _joined(before: str, now: str, overlap: int, markdown: bool) -> str:
    if overlap == 0 or (markdown and _HEADING.match(now)):
        return now  # a new section owes nothing to the one before
    return _tail(before, overlap) + now


def _blocks(text: str, markdown: bool) -> list[str]:
    blocks = [b.strip() for b in _PARAGRAPH.split(text) if b.strip()]
    if not markdown:
        return blocks
    # A heading directly above its first paragraph (no blank line) still starts a block.
    split: list[str] = []
    for block in blocks:
        lines = block.split("\n")
        current: list[str] = []
        for line in lines:
            if _HEADING.match(line) and current:
                split.append("\n".join(current))
                current = []
            current.append(line)
        split.append("\n".join(current))
    return split


def _split(block: str, size: int) -> list[str]:
    """``block`` in pieces of at most ``size`` characters, cut at the largest unit that fits."""
    if len(block) <= size:
        return [block]
    for pattern in (_SENTENCE_END, re.compile(r"\s+")):
        units = [u for u in pattern.split(block) if u]
        if len(units) > 1:
            return _pack(units, size)
    return [block[i : i + size] for i in range(0, len(block), size)]


def _pack(units: list[str], size: int) -> list[str]:
    pieces: list[str] = []
    current = ""
    for unit in units:
        if len(unit) > size:
            if current:
                pieces.append(current)
                current = ""
            pieces.extend(_split(unit, size))
            continue
        if current and len(current) + 1 + len(unit) > size:
            pieces.append(current)
            current = ""
        current = f"{current} {unit}" if current else unit
    if current:
        pieces.append(current)
    return pieces


def _tail(text: str, overlap: int) -> str:
    """The end of ``text`` and a newline, ``overlap`` characters at most, starting at a word
    where one starts within them."""
    keep = overlap - 1
    if keep <= 0:
        return ""
    tail = text[-keep:]
    if len(text) > keep and not text[-keep - 1].isspace():
        space = re.search(r"\s", tail)
        if space is not None and space.end() < len(tail):
            tail = tail[space.end() :]
    tail = tail.strip()
    return f"{tail}\n" if tail else ""

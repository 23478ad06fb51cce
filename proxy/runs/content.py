"""Text out of message ``content``: a string, or a list of parts of which some are text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

TEXT_PARTS = frozenset({"text", "input_text", "output_text"})
"""Part types that hold text (Chat Completions, Responses input and output)."""


def text_parts(content: Any) -> Iterator[str | None]:
    """The text of each part of ``content``; None for a part that is not text."""
    if isinstance(content, str):
        yield content
    elif isinstance(content, list):
        for part in content:
            if isinstance(part, str):
                yield part
            elif (
                isinstance(part, dict)
                and part.get("type") in TEXT_PARTS
                and isinstance(text := part.get("text"), str)
            ):
                yield text
            else:
                yield None


def content_text(content: Any) -> str:
    """All the text of ``content``; parts that are not text are left out."""
    if isinstance(content, str):
        return content
    return "".join(text for text in text_parts(content) if text)

"""Token usage of a run: what it reported, else an estimate (README, "Usage")."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, NamedTuple

from proxy.runs.content import content_text


class Usage(NamedTuple):
    """A run's token counts, whatever API they are written in."""

    prompt: int
    completion: int
    reasoning: int

    @property
    def total(self) -> int:
        """Prompt and completion."""
        return self.prompt + self.completion


def add_usage(total: dict[str, int] | None, report: dict[str, int]) -> dict[str, int]:
    """Sum a usage report into ``total`` (a graph may call a model several times)."""
    summed = total or {"prompt_tokens": 0, "completion_tokens": 0, "reasoning_tokens": 0}
    for key in summed:
        summed[key] += report.get(key, 0)
    return summed


def estimate_prompt_tokens(messages: Iterable[dict[str, Any]]) -> int:
    """About four characters a token, over the text of every message."""
    return math.ceil(sum(len(content_text(m.get("content"))) for m in messages) / 4)


def run_usage(
    reported: dict[str, int] | None, prompt_estimate: int, answers: int, progresses: int
) -> Usage:
    """The run's own report if it sent one; else one token per chunk the graph wrote."""
    if reported is not None:
        return Usage(
            reported["prompt_tokens"], reported["completion_tokens"], reported["reasoning_tokens"]
        )
    return Usage(prompt_estimate, answers + progresses, progresses)

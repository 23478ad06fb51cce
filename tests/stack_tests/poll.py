"""Waiting for what only a log file or another process can tell."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
INTERVAL = 0.05


async def eventually(find: Callable[[], T | None], what: str, within: float = 10.0) -> T:
    """Poll ``find`` (in a thread: it reads files) until it returns something; fail after."""
    try:
        async with asyncio.timeout(within):
            # set by other processes, so polled
            while (found := await asyncio.to_thread(find)) is None:  # noqa: ASYNC110
                await asyncio.sleep(INTERVAL)
    except TimeoutError:
        raise AssertionError(f"{what} (waited {within} s)") from None
    return found

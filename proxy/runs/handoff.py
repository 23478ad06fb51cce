"""The buffer between a run's reader task and the client's writer."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class Handoff(Generic[T]):
    """One producer, one consumer: the consumer takes everything waiting at each wake-up.

    Cheaper than ``asyncio.Queue`` per item (no per-get bookkeeping), and the batch is the
    unit the client is written in. ``put`` waits only while ``limit`` items are unread.
    """

    __slots__ = ("_items", "_limit", "_space", "_waiter")

    def __init__(self, limit: int) -> None:
        """An empty buffer holding at most ``limit`` items."""
        self._items: deque[T] = deque()
        self._limit = limit
        self._waiter: asyncio.Future[None] | None = None
        self._space: asyncio.Future[None] | None = None

    async def put(self, item: T) -> None:
        """Add an item, waiting for the consumer first if the buffer is full."""
        while len(self._items) >= self._limit:
            self._space = asyncio.get_running_loop().create_future()
            await self._space
        self.put_last(item)

    def put_last(self, item: T) -> None:
        """Add an item whatever the limit (the final one: its consumer may be gone)."""
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def take(self) -> list[T]:
        """Every item waiting, in order; waits until there is at least one."""
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        items = list(self._items)
        self._items.clear()
        space = self._space
        if space is not None:
            self._space = None
            if not space.done():
                space.set_result(None)
        return items

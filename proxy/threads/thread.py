"""One LangGraph thread, as thread policies use it.

Its head, a checkpoint, a fresh start, and where to resume an interrupt.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from langgraph_sdk.client import LangGraphClient

from proxy.threads.replies import resume_value
from proxy.upstream.errors import status_of, translate, within

T = TypeVar("T")
Snapshot = dict[str, Any]
CREATED_BY = "langgraph-openai-proxy"


class Thread:
    """A thread the proxy runs on."""

    def __init__(self, client: LangGraphClient, thread_id: str, timeout: float) -> None:
        """Talk to ``thread_id`` through ``client``, each call within ``timeout`` seconds."""
        self.client = client
        self.id = thread_id
        self.timeout = timeout

    async def head(self) -> Snapshot | None:
        """The thread's latest state, or None if there is no such thread.

        (Some runtimes answer a thread that does not exist with an empty state: no checkpoint.)
        """
        return await self.at(None)

    async def at(self, checkpoint_id: str | None) -> Snapshot | None:
        """The thread's state at a checkpoint (the head if None); None if it has none."""
        call = self.client.threads.get_state(self.id, checkpoint_id=checkpoint_id)
        try:
            state = await asyncio.wait_for(call, self.timeout)
        except Exception as exc:
            if status_of(exc) == 404:
                return None
            raise translate(exc) from exc
        return dict(state)

    async def end_of(self, run_id: str | None, started_at: str | None) -> str | None:
        """Where a run left the thread: its last checkpoint, else where it started.

        (A run resumed straight into another interrupt writes no checkpoint of its own.) Not
        the head: on a busy thread another run may have moved it already.
        """
        if run_id is not None:
            found = await self._call(
                self.client.threads.get_history(self.id, limit=1, metadata={"run_id": run_id})
            )
            if found:
                return checkpoint_of(dict(found[0]))
        return started_at

    async def create(self, metadata: dict[str, Any]) -> None:
        """Create the thread unless it exists."""
        await self._call(
            self.client.threads.create(
                thread_id=self.id,
                metadata={**metadata, "created_by": CREATED_BY},
                if_exists="do_nothing",
            )
        )

    async def start_afresh(self, head: Snapshot | None, metadata: dict[str, Any]) -> None:
        """A thread whose history no longer fits the client's: deleted and made again."""
        if head is not None and checkpoint_of(head):
            await self._call(self.client.threads.delete(self.id))
            await self.create(metadata)

    async def resume(
        self, checkpoint_id: str, head: Snapshot | None, reply: str, *, latest: bool
    ) -> tuple[str | None, Any] | None:
        """Where and with what to resume the interrupt at ``checkpoint_id`` with ``reply``.

        ``(checkpoint, or None for the head; the resume value)``, or None if the checkpoint is
        gone. At the head only if the interrupt is the ``latest`` thing the thread did (an
        interrupt answered since keeps that answer at the head). Anywhere else, a copy of the
        checkpoint is made: resuming the original would replay the answer it was given before
        (its pending writes are kept).
        """
        if latest and checkpoint_of(head) == checkpoint_id and head and head.get("next"):
            return None, resume_value(reply, interrupts_of(head))
        asked = await self.at(checkpoint_id)
        if asked is None:
            return None
        copy = await self._call(
            self.client.threads.update_state(self.id, None, checkpoint_id=checkpoint_id)
        )
        return copy["checkpoint"]["checkpoint_id"], resume_value(reply, interrupts_of(asked))

    async def _call(self, call: Awaitable[T]) -> T:
        return await within(call, self.timeout)


def checkpoint_of(snapshot: Snapshot | None) -> str | None:
    """A state's checkpoint id."""
    checkpoint = snapshot.get("checkpoint") if snapshot else None
    found = checkpoint.get("checkpoint_id") if isinstance(checkpoint, dict) else None
    return str(found) if found else None


def interrupts_of(snapshot: Snapshot | None) -> list[dict[str, Any]]:
    """The interrupts a state waits on."""
    tasks = (snapshot or {}).get("tasks") or []
    return [i for t in tasks if isinstance(t, dict) for i in t.get("interrupts") or ()]

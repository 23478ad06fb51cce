"""A conversation on a LangGraph thread: only what is new goes in, edits fork, interrupts resume.

Per request: read the thread's head and the conversation's records, match the client's history
against them (:mod:`.turns`), then run one of:

* **continue** at the head with the new messages (the usual next turn);
* **fork** from where the last run that still matches ended, with everything after it (an
  edited message, a regenerated answer, a run that was cancelled or replaced meanwhile);
* **resume** an interrupted run with the user's reply (``Command(resume=...)``), at the head,
  or from a copy of the interrupted checkpoint when the head has moved on;
* **start afresh** when nothing matches: the thread is emptied and gets the whole history.

Once the run ended normally, its record (with the thread's head) is written, before the
client's last bytes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from langgraph_sdk.client import LangGraphClient

from proxy.runs.content import content_text
from proxy.runs.start import Outcome, RunTarget
from proxy.threads.identity import THREAD_ID_HEADER, thread_id
from proxy.threads.records import Records
from proxy.threads.replies import resume_value
from proxy.threads.turns import Record, compared, digest, match
from proxy.upstream import Model
from proxy.upstream.errors import status_of, translate
from proxy.upstream.schemas import Schema

Snapshot = dict[str, Any]


class Conversation:
    """The thread policy of a request that names its conversation."""

    stateless = False

    def __init__(self, client: LangGraphClient, conversation: str, caller: str, timeout: float):
        """A conversation of ``caller`` (a digest of its key, or "anonymous")."""
        self.client = client
        self.conversation = conversation
        self.caller = caller
        self.timeout = timeout
        self.records = Records(client, timeout)
        self.headers: dict[str, str] = {}
        self.thread = ""
        self._kept: list[Record] = []
        self._new: list[dict[str, Any]] = []

    async def target(
        self, model: Model, messages: list[dict[str, Any]], schema: Schema | None
    ) -> RunTarget:
        """Where the next run goes, and what goes in."""
        self.thread = thread = thread_id(model.assistant_id, self.caller, self.conversation)
        self.headers[THREAD_ID_HEADER] = thread
        head, records = await asyncio.gather(self._snapshot(), self.records.load(thread))
        if head is None:
            records = []
            await self._create()
        found = match(records, messages)
        kept, new = records[: found.kept], found.new
        if kept and not new:  # nothing to answer after the last answer: answer it again
            new = compared(messages)[-kept[-1].n :]
            kept = kept[:-1]
        if kept and kept[-1].interrupt:
            if len(new) == 1 and new[0].get("role") == "user":
                resumed = await self._resume(head, records, kept, new)
                if resumed is not None:
                    return resumed
            new = compared(messages)[-(kept[-1].n + len(new)) :]  # ask the question again
            kept = kept[:-1]
        self._kept, self._new = kept, new
        about = {"conversation_id": self.conversation}
        if not kept:
            await self._empty(head)
            self._new = compared(messages)
            return RunTarget(messages, thread, metadata=about)
        if len(kept) == len(records) and _checkpoint_of(head) == kept[-1].checkpoint:
            return RunTarget(new, thread, metadata=about)
        return RunTarget(new, thread, checkpoint_id=kept[-1].checkpoint, metadata=about)

    async def finish(self, outcome: Outcome) -> None:
        """Record the run: what went in, the answer the client got, where the thread is now."""
        head = await self._snapshot()
        checkpoint = _checkpoint_of(head)
        if checkpoint is None:
            return
        answered = [*self._new, {"role": "assistant", "content": outcome.content}]
        record = Record(len(answered), digest(answered), checkpoint, bool(outcome.interrupts))
        about = {"conversation_id": self.conversation}
        await self.records.save(self.thread, [*self._kept, record], about)

    async def _resume(
        self,
        head: Snapshot | None,
        records: list[Record],
        kept: list[Record],
        new: list[dict[str, Any]],
    ) -> RunTarget | None:
        """Answer the question the last kept run asked with the user's message.

        None: the interrupted checkpoint is gone, so the question is asked again.
        """
        self._kept, self._new = kept, new
        reply = content_text(new[0].get("content"))
        about = {"conversation_id": self.conversation}
        asked = kept[-1].checkpoint
        at_head = len(kept) == len(records) and _checkpoint_of(head) == asked
        if at_head and head and head.get("next"):
            value = resume_value(reply, _interrupts(head))
            return RunTarget(new, self.thread, resume=value, metadata=about)
        snapshot = await self._at(asked)
        if snapshot is None:
            return None
        # a copy of the interrupted checkpoint: resuming the original would replay the answer
        # it was given before (its pending writes are kept)
        copy = await self._call(
            self.client.threads.update_state(self.thread, None, checkpoint_id=asked)
        )
        value = resume_value(reply, _interrupts(snapshot))
        checkpoint = copy["checkpoint"]["checkpoint_id"]
        return RunTarget(new, self.thread, checkpoint_id=checkpoint, resume=value, metadata=about)

    async def _snapshot(self) -> Snapshot | None:
        """The thread's head, or None if there is no such thread."""
        try:
            state = await asyncio.wait_for(self.client.threads.get_state(self.thread), self.timeout)
        except Exception as exc:
            if status_of(exc) == 404:
                return None
            raise translate(exc) from exc
        return dict(state)

    async def _at(self, checkpoint_id: str) -> Snapshot | None:
        """The thread's state at a checkpoint, or None if the thread no longer has it."""
        try:
            state = await asyncio.wait_for(
                self.client.threads.get_state(self.thread, checkpoint_id=checkpoint_id),
                self.timeout,
            )
        except Exception as exc:
            if status_of(exc) == 404:
                return None
            raise translate(exc) from exc
        return dict(state)

    async def _create(self) -> None:
        metadata = {"conversation_id": self.conversation, "created_by": "langgraph-openai-proxy"}
        await self._call(
            self.client.threads.create(
                thread_id=self.thread, metadata=metadata, if_exists="do_nothing"
            )
        )

    async def _empty(self, head: Snapshot | None) -> None:
        """A thread with history that no longer matches the client's: delete and recreate."""
        if head is not None and _checkpoint_of(head):
            await self._call(self.client.threads.delete(self.thread))
            await self._create()

    async def _call(self, call: Any) -> Any:
        try:
            return await asyncio.wait_for(call, self.timeout)
        except Exception as exc:
            raise translate(exc) from exc


def _checkpoint_of(snapshot: Snapshot | None) -> str | None:
    checkpoint = snapshot.get("checkpoint") if snapshot else None
    found = checkpoint.get("checkpoint_id") if isinstance(checkpoint, dict) else None
    return str(found) if found else None


def _interrupts(snapshot: Snapshot | None) -> list[dict[str, Any]]:
    """The interrupts a checkpoint waits on."""
    tasks = (snapshot or {}).get("tasks") or []
    return [i for t in tasks if isinstance(t, dict) for i in t.get("interrupts") or ()]

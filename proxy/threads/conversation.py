"""A conversation on a LangGraph thread: only what is new goes in, edits fork, interrupts resume.

Per request: read the thread's head and the conversation's records, match the client's history
against them (:mod:`.turns`), then run one of:

* **continue** at the head with the new messages (the usual next turn);
* **fork** from where the last run that still matches ended, with everything after it (an
  edited message, a regenerated answer, a run that was cancelled or replaced meanwhile);
* **resume** an interrupted run with the user's reply (``Command(resume=...)``);
* **start afresh** when nothing matches: the thread is emptied and gets the whole history.

Once the run ended normally, its record (with where the run left the thread) is written,
before the client's last bytes. A message sent while the conversation's previous run still
runs replaces that run (``rollback``): waiting behind it could take minutes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from langgraph_sdk.client import LangGraphClient

from proxy.runs.content import content_text
from proxy.runs.start import Outcome, RunTarget
from proxy.threads.identity import THREAD_ID_HEADER, thread_id
from proxy.threads.records import Records
from proxy.threads.thread import Thread, checkpoint_of
from proxy.threads.turns import Record, compared, digest, match
from proxy.upstream import Model
from proxy.upstream.schemas import Schema


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
        self.thread = Thread(client, "", timeout)
        self._kept: list[Record] = []
        self._new: list[dict[str, Any]] = []
        self._started_at: str | None = None

    @property
    def about(self) -> dict[str, Any]:
        """What the thread's metadata and records say of the conversation (never the key)."""
        return {"conversation_id": self.conversation}

    async def target(
        self, model: Model, messages: list[dict[str, Any]], schema: Schema | None
    ) -> RunTarget:
        """Where the next run goes, and what goes in."""
        thread = self.thread = Thread(
            self.client, thread_id(model.assistant_id, self.caller, self.conversation), self.timeout
        )
        self.headers[THREAD_ID_HEADER] = thread.id
        head, records = await asyncio.gather(thread.head(), self.records.load(thread.id))
        self._started_at = checkpoint_of(head)
        if self._started_at is None:  # no thread, or one with no history yet
            head, records = None, []
            await thread.create(self.about)
        found = match(records, messages)
        kept, new = records[: found.kept], found.new
        if kept and not new:  # nothing to answer after the last answer: answer it again
            new = compared(messages)[-kept[-1].n :]
            kept = kept[:-1]
        if kept and kept[-1].interrupt:
            if len(new) == 1 and new[0].get("role") == "user":
                reply = content_text(new[0].get("content"))
                latest = len(kept) == len(records)
                resumed = await thread.resume(kept[-1].checkpoint, head, reply, latest=latest)
                if resumed is not None:
                    self._kept, self._new = kept, new
                    checkpoint, value = resumed
                    self._started_at = checkpoint or self._started_at
                    return RunTarget(new, thread.id, checkpoint, value, self.about)
            new = compared(messages)[-(kept[-1].n + len(new)) :]  # ask the question again
            kept = kept[:-1]
        self._kept, self._new = kept, new
        if not kept:
            await thread.start_afresh(head, self.about)
            self._new, self._started_at = compared(messages), None
            return RunTarget(messages, thread.id, metadata=self.about)
        if len(kept) == len(records) and checkpoint_of(head) == kept[-1].checkpoint:
            return RunTarget(new, thread.id, metadata=self.about)
        self._started_at = kept[-1].checkpoint
        return RunTarget(new, thread.id, checkpoint_id=kept[-1].checkpoint, metadata=self.about)

    async def finish(self, outcome: Outcome) -> None:
        """Record the run: what went in, the answer the client got, where it left the thread."""
        checkpoint = await self.thread.end_of(outcome.run_id, self._started_at)
        if checkpoint is None:
            return
        answered = [*self._new, {"role": "assistant", "content": outcome.content}]
        record = Record(len(answered), digest(answered), checkpoint, bool(outcome.interrupts))
        await self.records.save(self.thread.id, [*self._kept, record], self.about)

"""The thread a stored response's run goes to.

A new one, or the one behind the response it continues (``previous_response_id``, or the last
stored response its input refers to), from where that response ended.
"""

from __future__ import annotations

import uuid
from typing import Any

from langgraph_sdk.client import LangGraphClient

from proxy.responses.records import Responses, StoredResponse
from proxy.runs.content import content_text
from proxy.runs.start import Outcome, RunTarget
from proxy.threads.identity import THREAD_ID_HEADER
from proxy.threads.thread import Thread, checkpoint_of
from proxy.upstream import Model
from proxy.upstream.schemas import Schema
from proxy.web.errors import bad_request


class ResponseThread:
    """The thread policy of a stored response."""

    stateless = False

    def __init__(
        self,
        client: LangGraphClient,
        responses: Responses,
        caller: str,
        response_id: str,
        previous: StoredResponse | None,
        timeout: float,
    ) -> None:
        """A response of ``caller``, continuing ``previous`` if there is one."""
        self.client = client
        self.responses = responses
        self.caller = caller
        self.response_id = response_id
        self.previous = previous
        self.timeout = timeout
        self.headers: dict[str, str] = {}
        self.thread = Thread(client, "", timeout)
        self.assistant_id = ""
        self._started_at: str | None = None
        self.store = True
        """False (``store: false``): the run goes on the thread, the response is not kept."""

    async def target(
        self, model: Model, messages: list[dict[str, Any]], schema: Schema | None
    ) -> RunTarget:
        """A new thread, or the previous response's, from where that response ended."""
        self.assistant_id = model.assistant_id
        previous = self.previous
        about = {"response_id": self.response_id}
        if previous is None:
            self.thread = Thread(self.client, str(uuid.uuid4()), self.timeout)
            self.headers[THREAD_ID_HEADER] = self.thread.id
            await self.thread.create(about)
            return RunTarget(messages, self.thread.id, metadata=about, multitask="enqueue")
        if previous.assistant_id != model.assistant_id:
            raise bad_request(
                "previous_response_id belongs to another model; continue it with the same one.",
                param="model",
            )
        self.thread = thread = Thread(self.client, previous.thread_id, self.timeout)
        self.headers[THREAD_ID_HEADER] = thread.id
        head = await thread.head()
        if checkpoint_of(head) is None:
            raise bad_request(
                "The thread behind previous_response_id no longer exists.",
                param="previous_response_id",
            )
        new = [m for m in messages if m.get("role") != "system"] or messages
        users = [m for m in new if m.get("role") == "user"]
        if previous.interrupt and len(users) == 1:
            reply = content_text(users[0].get("content"))
            latest = checkpoint_of(head) == previous.checkpoint
            resumed = await thread.resume(previous.checkpoint, head, reply, latest=latest)
            if resumed is not None:
                checkpoint, value = resumed
                self._started_at = checkpoint or previous.checkpoint
                return RunTarget(new, thread.id, checkpoint, value, about, multitask="enqueue")
        # each response continues from its own checkpoint: two branching from one response at
        # once are both answered, one after the other (a replaced run would end cut short)
        self._started_at = previous.checkpoint
        return RunTarget(
            new, thread.id, checkpoint_id=previous.checkpoint, metadata=about, multitask="enqueue"
        )

    async def finish(self, outcome: Outcome) -> None:
        """Store the response, with where its run left the thread."""
        if not self.store or outcome.response is None:
            return
        checkpoint = await self.thread.end_of(outcome.run_id, self._started_at)
        if checkpoint is None:
            return
        stored = StoredResponse(
            self.caller,
            self.assistant_id,
            self.thread.id,
            checkpoint,
            bool(outcome.interrupts),
            outcome.response,
        )
        await self.responses.put(self.response_id, stored)

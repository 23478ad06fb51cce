"""One response: where its run goes, then the run's events as Responses API events or one body.

A stored response (``store``, the default) runs on a thread of its own, or on the thread of the
response it continues; ``store: false`` runs statelessly; a conversation id runs it as a chat
conversation (:mod:`proxy.threads`). Output items sent back that do not lead to a stored
response of the same model (not stored, or another model's) are history, not a thread to go on.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from itertools import groupby
from operator import attrgetter
from typing import Any

from fastapi import Request
from starlette.responses import Response

from proxy.responses.ids import new_response_id
from proxy.responses.protocol import Input, ResponseRequest, read_input
from proxy.responses.records import Responses
from proxy.responses.render import Output, response_object
from proxy.responses.threads import ResponseThread
from proxy.runs.events import Kind
from proxy.runs.start import Run, RunRequest, Stateless, ThreadPolicy, start_run
from proxy.runs.transcript import Transcript
from proxy.runs.usage import Usage, run_usage
from proxy.settings import Settings
from proxy.threads import Conversation
from proxy.threads.identity import caller, conversation_id
from proxy.upstream import Upstream
from proxy.web.errors import ProxyError, as_proxy_error, bad_request
from proxy.web.respond import respond

_KIND = attrgetter("kind")


async def serve_response(
    request: Request, body: ResponseRequest, upstream: Upstream, settings: Settings
) -> Response:
    """Run the model's graph and answer as the Responses API does, streaming or not."""
    who = caller(request.headers.get("authorization"), keyed=bool(settings.api_keys))
    responses = Responses(upstream.client, settings.request_timeout)
    found = read_input(body)
    conversation, _ = conversation_id(body.metadata, request.headers)
    if conversation is not None and body.previous_response_id is not None:
        raise bad_request(
            "Send previous_response_id or a conversation id, not both.",
            param="previous_response_id",
        )
    response_id = new_response_id()
    messages, previous = found.messages, None
    if body.previous_response_id is not None:
        previous = await responses.get(body.previous_response_id, who)
        if previous is None:
            raise bad_request(
                f"No stored response {body.previous_response_id!r} to continue.",
                param="previous_response_id",
            )
    elif found.last_response is not None and body.store is not False and conversation is None:
        previous = await responses.get(found.last_response, who)
        model = await upstream.catalog.resolve(body.model)
        if previous is not None and previous.assistant_id == model.assistant_id:
            messages = found.after_last_reference()
        else:  # not stored (its items sent back stand for themselves), or another model's
            previous = None
            messages = await _expanded(found, responses, who)
    else:
        messages = await _expanded(found, responses, who)
    policy: ThreadPolicy
    if conversation is not None:
        policy = Conversation(upstream.client, conversation, who, settings.request_timeout)
    elif body.store is False and previous is None:
        policy = Stateless()
    else:
        policy = ResponseThread(
            upstream.client, responses, who, response_id, previous, settings.request_timeout
        )
        policy.store = body.store is not False
    progress = body.progress_mode or settings.progress_mode
    run = await start_run(
        upstream, settings, RunRequest(body.model, messages, body.context, progress), policy
    )
    answer = ResponseAnswer(run, response_id, body, progress == "content")
    return await respond(
        request,
        run.pump,
        stream=bool(body.stream),
        events=answer.stream,
        body=answer.aggregate,
        keepalive=settings.keepalive_interval,
        headers=run.headers,
    )


async def _expanded(found: Input, responses: Responses, who: str) -> list[dict[str, Any]]:
    """The messages, each ``item_reference`` replaced by the message item it names.

    Items sent back whole are in ``messages`` already (a reasoning item is progress: the graph
    does not take it), so they need no stored response.
    """
    messages = list(found.messages)
    for reference in reversed(found.references):
        if reference.whole:
            continue
        stored = await responses.get(reference.response, who)
        if stored is None:
            raise _dangling(reference.item)
        for output in stored.response.get("output", []):
            if output.get("id") == reference.item and output.get("type") == "message":
                text = "".join(part.get("text", "") for part in output.get("content", []))
                messages.insert(reference.position, {"role": "assistant", "content": text})
    return messages


def _dangling(item: str) -> ProxyError:
    return bad_request(
        f"The input refers to {item!r}, which no stored response has.",
        param="input",
        code="invalid_item_reference",
    )


def _closed(output: Output) -> bytes:
    """Finish the last item; a response ends with a message, empty if the run said nothing."""
    tail = output.close()
    if not any(item["type"] == "message" for item in output.items):
        tail += output.text("") + output.close()
    return tail


class ResponseAnswer:
    """One response of one run."""

    def __init__(self, run: Run, response_id: str, body: ResponseRequest, progress_in_text: bool):
        """Name the response; ``progress_in_text``: progress goes into the message."""
        self.run = run
        self.id = response_id
        self.body = body
        self.progress_in_text = progress_in_text
        self.created_at = int(time.time())
        self.answers = self.progresses = 0

    def response(self, status: str, output: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        """The Response object as it stands."""
        return response_object(
            self.id,
            self.run.model.id,
            status=status,
            output=output,
            created_at=self.created_at,
            instructions=self.body.instructions,
            previous_response_id=self.body.previous_response_id,
            metadata=self.body.metadata,
            **extra,
        )

    def usage(self) -> Usage:
        """The run's reported usage, else the documented estimate."""
        return run_usage(self.run.pump.usage, self.run.prompt_tokens, self.answers, self.progresses)

    async def stream(self) -> AsyncIterator[bytes]:
        """``response.created`` ... ``response.completed`` (or ``response.failed``)."""
        output = Output(self.id)
        yield output.next("response.created", response=self.response("in_progress", [])) + (
            output.next("response.in_progress", response=self.response("in_progress", []))
        )
        try:
            async for data in self._read(output):
                yield data
            tail = _closed(output)
            done = self.response("completed", output.items, usage=self.usage())
            await self.run.finish(self._outcome(done))
        except Exception as exc:
            yield output.next("response.failed", response=self._failed(exc, output.partial()))
            return
        finally:
            self.run.pump.close()
        yield tail + output.next("response.completed", response=done)

    async def aggregate(self) -> dict[str, Any]:
        """The completed Response object (built from the same events)."""
        output = Output(self.id)
        try:
            async for _ in self._read(output, streamed=False):
                pass
            _closed(output)  # the same items as a stream's
            done = self.response("completed", output.items, usage=self.usage())
            await self.run.finish(self._outcome(done))
        finally:
            self.run.pump.close()
        return done

    async def _read(self, output: Output, streamed: bool = True) -> AsyncIterator[bytes]:
        self._transcript = transcript = Transcript(self.run.remembers)
        async for batch in self.run.pump.batches():
            parts = []
            for kind, group in groupby(batch, _KIND):
                events = list(group)
                texts = [event.text for event in events]
                if kind is Kind.RESTART:  # the run starts again (docs/reliability.md)
                    if not streamed:  # only the attempt that finishes answers
                        output.restart()
                        self._transcript = transcript = Transcript(self.run.remembers)
                        self.answers = self.progresses = 0
                    elif transcript.said:  # said text cannot be taken back: mark the restart
                        parts.append(output.text(transcript.add([f"\n\n{texts[-1]}\n\n"])))
                    else:
                        parts.append(output.progress(texts[-1] + "\n"))
                elif kind is Kind.PROGRESS:
                    self.progresses += len(events)
                    if not self.progress_in_text:
                        parts.append(output.progress("".join(texts)))
                        continue
                    parts.append(output.text(transcript.add(texts)))
                elif kind is Kind.INTERRUPT:
                    parts.append(output.text(transcript.interrupt(events)))
                else:
                    self.answers += len(events)
                    parts.append(output.text(transcript.add(texts)))
            yield b"".join(parts)

    def _outcome(self, response: dict[str, Any]) -> Any:
        return self._transcript.outcome(self.run.pump.run_id, response)

    def _failed(self, exc: BaseException, output: list[dict[str, Any]]) -> dict[str, Any]:
        error = as_proxy_error(exc)
        code = "rate_limit_exceeded" if error.status == 429 else "server_error"
        return self.response("failed", output, error={"code": code, "message": error.message})

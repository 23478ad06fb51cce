"""One chat completion: a run's events as ``chat.completion.chunk`` bytes, or as one body.

Both read the run through the same pump, so a streamed and a non-streamed completion of the
same run can never disagree.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from itertools import groupby
from operator import attrgetter
from typing import Any

from fastapi import Request
from starlette.responses import Response

from proxy.chat.protocol import ChatCompletionRequest
from proxy.chat.render import DONE, ChunkEncoder, error_event
from proxy.runs.events import Event, Kind
from proxy.runs.start import Run, RunRequest, ThreadPolicy, start_run
from proxy.runs.transcript import Transcript
from proxy.runs.usage import Usage, run_usage
from proxy.settings import ProgressMode, Settings
from proxy.upstream import Upstream
from proxy.web.errors import as_proxy_error, bad_request
from proxy.web.respond import respond

_KIND = attrgetter("kind")


def _same_kind_runs(batch: list[Event]) -> Iterator[tuple[Kind, Iterable[Event]]]:
    """Consecutive events of one kind, together: each run becomes one delta."""
    return groupby(batch, _KIND)


def _one_by_one(batch: list[Event]) -> Iterator[tuple[Kind, Iterable[Event]]]:
    """Every event on its own: one delta each (``PROXY_MERGE_DELTAS=false``)."""
    return ((event.kind, (event,)) for event in batch)


async def serve_chat(
    request: Request,
    body: ChatCompletionRequest,
    upstream: Upstream,
    settings: Settings,
    policy: ThreadPolicy | None = None,
) -> Response:
    """Run the model's graph and answer as OpenAI would, streaming or not."""
    if body.n is not None and body.n != 1:
        raise bad_request("Only n=1 is supported.", param="n")
    progress = body.progress_mode or settings.progress_mode
    run = await start_run(
        upstream,
        settings,
        RunRequest(body.model, body.input_messages(), body.context, progress),
        policy,
    )
    completion = ChatCompletion(
        run,
        progress=progress,
        include_usage=bool(body.stream_options and body.stream_options.include_usage),
        merge=settings.merge_deltas,
    )
    return await respond(
        request,
        run.pump,
        stream=bool(body.stream),
        events=completion.stream,
        body=completion.aggregate,
        keepalive=settings.keepalive_interval,
        headers=run.headers,
    )


class ChatCompletion:
    """One completion of one run."""

    def __init__(
        self, run: Run, *, progress: ProgressMode, include_usage: bool, merge: bool = True
    ) -> None:
        """Name the completion and pre-encode its chunk envelope.

        ``merge``: events of one kind that reached the proxy together leave as one delta.
        """
        self.run = run
        self.progress = progress
        self.include_usage = include_usage
        self.merge = merge
        completion_id = f"chatcmpl-{secrets.token_hex(12)}"
        self.encoder = ChunkEncoder(completion_id, int(time.time()), run.model.id)

    def usage(self, answers: int, progresses: int) -> Usage:
        """The run's own usage report if it sent one, else the documented estimate."""
        return run_usage(self.run.pump.usage, self.run.prompt_tokens, answers, progresses)

    async def stream(self) -> AsyncIterator[bytes]:
        """The SSE body: role chunk, deltas, finish chunk, optional usage chunk, ``[DONE]``.

        A batch is what reached the proxy together (a burst held by ``PROXY_COALESCE_MS``).
        With ``merge``, each run of same-kind events in it becomes one delta, as an LLM server
        sends several tokens in one chunk: the text and its timing are the same, and a client
        parses one event where it would have parsed dozens (``PROXY_MERGE_DELTAS``).
        """
        pump, encoder = self.run.pump, self.encoder
        content = encoder.content
        in_content = self.progress == "content"
        progress = encoder.reasoning
        runs = _same_kind_runs if self.merge else _one_by_one
        transcript = Transcript(self.run.remembers)
        answers = progresses = 0
        try:
            yield encoder.role()
            async for batch in pump.batches():
                parts = []
                for kind, group in runs(batch):
                    events = list(group)
                    if kind is Kind.PROGRESS:
                        progresses += len(events)
                        texts = [event.text for event in events]
                        if not in_content:
                            parts.append(progress("".join(texts)))
                            continue
                        parts.append(content(transcript.add(texts)))
                    elif kind is Kind.INTERRUPT:
                        parts.append(content(transcript.interrupt(events)))
                    elif kind is Kind.RESTART:
                        # said text cannot be taken back: mark where the new attempt starts
                        note = events[-1].text
                        if transcript.said:
                            parts.append(content(transcript.add([f"\n\n{note}\n\n"])))
                        else:
                            parts.append(progress(note + "\n"))
                    else:
                        answers += len(events)
                        parts.append(content(transcript.add([e.text for e in events])))
                yield parts[0] if len(parts) == 1 else b"".join(parts)
            await self.run.finish(transcript.outcome(pump.run_id))
        except Exception as exc:
            yield error_event(as_proxy_error(exc).body()) + DONE
            return
        finally:
            pump.close()
        tail = encoder.finish()
        if self.include_usage:
            tail += encoder.usage(self.usage(answers, progresses))
        yield tail + DONE

    async def aggregate(self) -> dict[str, Any]:
        """The non-streaming body, built from the same events the stream would carry."""
        transcript = Transcript(True)
        reasoning: list[str] = []
        answers = progresses = 0
        try:
            async for batch in self.run.pump.batches():
                for event in batch:
                    if event.kind is Kind.RESTART:  # only the attempt that finishes answers
                        transcript, reasoning, answers, progresses = Transcript(True), [], 0, 0
                    elif event.kind is Kind.PROGRESS:
                        progresses += 1
                        if self.progress == "content":
                            transcript.add([event.text])
                        else:
                            reasoning.append(event.text)
                    elif event.kind is Kind.INTERRUPT:
                        transcript.interrupt([event])
                    else:
                        answers += 1
                        transcript.add([event.text])
            outcome = transcript.outcome(self.run.pump.run_id)
            await self.run.finish(outcome)
        finally:
            self.run.pump.close()
        return self.encoder.completion(
            outcome.content, "".join(reasoning) or None, self.usage(answers, progresses)
        )

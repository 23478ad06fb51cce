"""A fake OpenAI-compatible chat model, so the chat graph's tests run offline.

A FastAPI app served by uvicorn in a thread on a free 127.0.0.1 port. It streams a known
reply token by token (with usage when asked for it), and its knobs make it fail with a status,
fail mid-stream (an error event, or a dropped connection), or hold back tokens until released
(never released = a stall). With ``turns`` it plays an agent's model: each turn is a reply or
tool calls, streamed the way OpenAI streams them (``tool_calls`` whose arguments arrive in
fragments across chunks). It records every request, every token it sent and every client that
went away before the end.

Knobs are plain attributes, set by a test before it sends a request; the server thread only
reads them.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

REPLY = ["Hello", ",", " this", " is", " the", " fake", " model", "."]
ARGUMENT_PIECE = 4
"""Characters of a tool call's arguments per streamed chunk."""


@dataclass(frozen=True)
class ToolCall:
    """A tool call the fake model makes; ``arguments`` is the JSON text."""

    name: str
    arguments: str
    call_id: str = ""


Turn = list[str] | list[ToolCall]
"""What the model answers in one turn: reply tokens, or tool calls."""


def turn_index(messages: list[dict[str, Any]]) -> int:
    """The agent's turn: tool-calling assistant messages since the last user message."""
    index = 0
    for message in reversed(messages):
        if message.get("role") == "user":
            break
        if message.get("role") == "assistant" and message.get("tool_calls"):
            index += 1
    return index


PROMPT_TOKENS = 17
POLL = 0.01
"""Seconds between checks of a held stream's release flag (cancellable, unlike a thread wait)."""


class FakeOpenAI:
    """The fake upstream and its knobs; ``url`` is the OpenAI base URL (``.../v1``)."""

    def __init__(self) -> None:
        """Start with the defaults; ``url`` is set once the server listens."""
        self.url = ""
        self._release = threading.Event()
        self.reset()
        self.app = self._build()

    def reset(self) -> None:
        """Back to the defaults (the whole reply at once, with usage, no failure), no records.

        Streams still held from an earlier test are released, so they end.
        """
        self._release.set()
        self._release = threading.Event()
        self.tokens: list[str] = list(REPLY)
        self.turns: list[Turn] | None = None
        self.token_delay = 0.0
        self.usage: bool = True
        self.fail_status: int | None = None
        self.fail_message = "The fake model is overloaded."
        self.fail_after: int | None = None
        self.drop_after: int | None = None
        self.hold_after: int | None = None
        self.hold_headers = False
        self.reasoning: list[str] = []
        self.requests: list[dict[str, Any]] = []
        self.sent: list[str] = []
        self.completed = 0
        self.disconnects = 0

    @property
    def reply(self) -> str:
        """The whole reply text."""
        return "".join(self.tokens)

    @property
    def completion_tokens(self) -> int:
        """What the usage report counts: one per token, reasoning included."""
        return len(self.tokens) + len(self.reasoning)

    def release(self) -> None:
        """Let a stream held by ``hold_after``/``hold_headers`` go on."""
        self._release.set()

    async def wait_until(self, condition: Callable[[], bool], within: float = 15.0) -> None:
        """Poll ``condition`` (state set by the server thread); fail the test after ``within`` s."""
        try:
            async with asyncio.timeout(within):
                while not condition():  # noqa: ASYNC110 - set by another thread, so polled
                    await asyncio.sleep(POLL)
        except TimeoutError:
            raise AssertionError(
                f"fake upstream: condition not met in {within}s "
                f"(requests={len(self.requests)}, sent={self.sent}, "
                f"completed={self.completed}, disconnects={self.disconnects})"
            ) from None

    async def _held(self, request: Request | None = None) -> bool:
        """Wait until released; False if the client went away first.

        A held stream is cancelled by Starlette when its client leaves; before the response
        starts, nothing watches the client, so ``request`` is polled for that.
        """
        release = self._release
        while not release.is_set():
            if request is not None and await request.is_disconnected():
                return False
            await asyncio.sleep(POLL)
        return True

    def _chunk(self, model: str, delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return self._event(model, {"choices": [choice]})

    @staticmethod
    def _event(model: str, fields: dict[str, Any]) -> bytes:
        body = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 1700000000,
            "model": model,
            **fields,
        }
        return b"data: " + orjson.dumps(body) + b"\n\n"

    def _usage(self, turn: Turn | None = None) -> dict[str, int]:
        """The usage report: one completion token per reply token or tool call, reasoning too."""
        completion = len(self.tokens if turn is None else turn) + len(self.reasoning)
        return {
            "prompt_tokens": PROMPT_TOKENS,
            "completion_tokens": completion,
            "total_tokens": PROMPT_TOKENS + completion,
        }

    def _turn(self, messages: list[dict[str, Any]]) -> Turn:
        """This request's answer: the scripted turn, else ``tokens``."""
        if self.turns is None:
            return self.tokens
        return self.turns[min(turn_index(messages), len(self.turns) - 1)]

    @staticmethod
    def _calls(turn: Turn) -> list[ToolCall]:
        return [call for call in turn if isinstance(call, ToolCall)]

    def _call_chunks(self, model: str, calls: list[ToolCall]) -> Iterator[bytes]:
        """Tool calls as OpenAI streams them: name and id first, then argument fragments."""
        for index, call in enumerate(calls):
            call_id = call.call_id or f"call_{index}_{len(self.requests)}"
            head = {"index": index, "id": call_id, "type": "function"}
            function = {"name": call.name, "arguments": ""}
            delta = {
                "role": "assistant",
                "content": None,
                "tool_calls": [{**head, "function": function}],
            }
            yield self._chunk(model, delta)
            for start in range(0, len(call.arguments), ARGUMENT_PIECE):
                piece = call.arguments[start : start + ARGUMENT_PIECE]
                fragment = {"index": index, "function": {"arguments": piece}}
                yield self._chunk(model, {"tool_calls": [fragment]})
        yield self._chunk(model, {}, "tool_calls")

    async def _stream(
        self, model: str, include_usage: bool, turn: Turn | None = None
    ) -> AsyncIterator[bytes]:
        """The SSE body; records a disconnect if the client leaves before the end."""
        finished = False
        turn = self.tokens if turn is None else turn
        try:
            if calls := self._calls(turn):
                for event in self._call_chunks(model, calls):
                    yield event
                if include_usage and self.usage:
                    yield self._event(model, {"choices": [], "usage": self._usage(turn)})
                yield b"data: [DONE]\n\n"
                finished = True
                self.completed += 1
                return
            yield self._chunk(model, {"role": "assistant", "content": ""})
            for thought in self.reasoning:
                yield self._chunk(model, {"reasoning_content": thought})
            for index, token in enumerate(turn):
                if index == self.fail_after:
                    error = {"message": self.fail_message, "type": "server_error"}
                    yield b"data: " + orjson.dumps({"error": error}) + b"\n\n"
                    finished = True
                    return
                if index == self.drop_after:
                    finished = True  # not the client leaving: the fake hangs up
                    raise ConnectionAbortedError("the fake drops the connection")
                if index == self.hold_after:
                    await self._held()
                if self.token_delay:
                    await asyncio.sleep(self.token_delay)
                self.sent.append(token)
                yield self._chunk(model, {"content": token})
            yield self._chunk(model, {}, "stop")
            if include_usage and self.usage:
                yield self._event(model, {"choices": [], "usage": self._usage(turn)})
            yield b"data: [DONE]\n\n"
            finished = True
            self.completed += 1
        finally:
            if not finished:
                self.disconnects += 1

    def _message(self, turn: Turn) -> tuple[dict[str, Any], str]:
        """A whole (non-streamed) assistant message for ``turn``, and its finish reason."""
        if calls := self._calls(turn):
            tool_calls = [
                {
                    "id": call.call_id or f"call_{index}_{len(self.requests)}",
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for index, call in enumerate(calls)
            ]
            return {"role": "assistant", "content": None, "tool_calls": tool_calls}, "tool_calls"
        return {"role": "assistant", "content": "".join(str(t) for t in turn)}, "stop"

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.get("/v1/models")
        async def models() -> dict[str, Any]:
            return {"object": "list", "data": [{"id": "fake-model", "object": "model"}]}

        @app.post("/v1/chat/completions")
        async def completions(request: Request) -> Response:
            body = await request.json()
            self.requests.append(
                {"body": body, "authorization": request.headers.get("authorization")}
            )
            if self.fail_status is not None:
                error = {"message": self.fail_message, "type": "server_error", "code": None}
                return JSONResponse({"error": error}, status_code=self.fail_status)
            if self.hold_headers and not await self._held(request):
                self.disconnects += 1
                return Response(status_code=499)
            model = str(body.get("model"))
            turn = self._turn(body.get("messages") or [])
            if not body.get("stream"):
                message, finish = self._message(turn)
                choice = {"index": 0, "message": message, "finish_reason": finish}
                self.completed += 1
                return JSONResponse(
                    {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion",
                        "created": 1700000000,
                        "model": model,
                        "choices": [choice],
                        "usage": self._usage(turn),
                    }
                )
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return StreamingResponse(
                self._stream(model, include_usage, turn), media_type="text/event-stream"
            )

        return app


@contextmanager
def serve_fake_openai() -> Iterator[FakeOpenAI]:
    """Run a fresh fake on a free port for the ``with`` block, then stop it."""
    fake = FakeOpenAI()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    fake.url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    config = uvicorn.Config(
        fake.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="fake-openai", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the fake OpenAI upstream did not start")
        time.sleep(POLL)
    try:
        yield fake
    finally:
        fake.release()
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

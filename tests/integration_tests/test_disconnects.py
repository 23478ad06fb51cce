"""A client that hangs up cancels its run on the LangGraph server (README, "Reliability").

Each test starts a run that would stay silent for a minute, waits until the LangGraph server
reports it ``running``, closes the client's TCP connection for real, then watches the run's
status through the LangGraph SDK: it must stop within ``CANCEL_WITHIN`` seconds. Streaming and
non-streaming requests, through the proxy mounted in ``langgraph dev`` and the standalone one.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from contextlib import suppress
from typing import Any

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import NotFoundError

CANCEL_WITHIN = 2.0
"""The issue's bound: seconds from the client's hang-up to the run no longer running."""
ACTIVE = ("pending", "running")
FIND_TIMEOUT = 20.0


def bench_body(chunks: int, *, stream: bool, **context: Any) -> dict[str, Any]:
    """A request for the bench graph; ``context`` becomes the run's context."""
    return {
        "model": "bench",
        "stream": stream,
        "messages": [{"role": "user", "content": str(chunks)}],
        "context": context,
    }


async def find_run(sdk: LangGraphClient, marker: str, status: str = "running") -> Run:
    """The run in ``status`` whose context carries ``marker`` (a stateless run's thread is hidden).

    The proxy starts stateless runs, so the test cannot name the thread: it searches the busy
    threads and their runs for the marker it put in the run's context.
    """
    deadline = time.monotonic() + FIND_TIMEOUT
    while time.monotonic() < deadline:
        for thread in await sdk.threads.search(limit=100):
            try:
                runs = await sdk.runs.list(thread["thread_id"], limit=20)
            except NotFoundError:  # it ended between the two calls
                continue
            for run in runs:
                context = (run.get("kwargs") or {}).get("context") or {}
                if context.get("marker") == marker and run["status"] == status:
                    return Run(sdk, str(run["thread_id"]), str(run["run_id"]))
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {status} run with marker {marker} within {FIND_TIMEOUT}s")


class Run:
    """A run on the LangGraph server, observed through the SDK."""

    def __init__(self, sdk: LangGraphClient, thread_id: str, run_id: str) -> None:
        self.sdk = sdk
        self.thread_id = thread_id
        self.run_id = run_id

    async def status(self) -> str:
        """The run's status; ``"deleted"`` once its temporary thread is gone.

        A stateless run's thread is deleted when the run ends (``on_completion="delete"``),
        so a run that cannot be found has stopped.
        """
        try:
            run = await self.sdk.runs.get(self.thread_id, self.run_id)
        except NotFoundError:
            return "deleted"
        return str(run["status"])

    async def wait_stopped(self, within: float) -> tuple[str, float]:
        """Poll until the run is neither pending nor running; its last status and the wait."""
        start = time.monotonic()
        status = await self.status()
        while status in ACTIVE and time.monotonic() - start < within:
            await asyncio.sleep(0.05)
            status = await self.status()
        return status, time.monotonic() - start


async def assert_cancelled_on_hang_up(run: Run, hang_up: Any) -> float:
    """Check the run survives while the client waits, then stops soon after ``hang_up()``."""
    await asyncio.sleep(0.5)
    assert await run.status() == "running", "the run stopped before the client hung up"
    await hang_up()
    status, waited = await run.wait_stopped(CANCEL_WITHIN)
    assert status not in ACTIVE, f"run still {status} {waited:.2f}s after the client hung up"
    return waited


@pytest.mark.parametrize("stream", [True, False], ids=["streaming", "non-streaming"])
async def test_client_hang_up_cancels_the_run(
    proxy_url: str, sdk: LangGraphClient, stream: bool, record_property: Any
) -> None:
    marker = uuid.uuid4().hex
    # two chunks, then a minute of silence: the client hangs up mid-run
    body = bench_body(3, stream=stream, silence_after=2, silence=60, marker=marker)
    # one connection, used once: closing it closes the TCP connection (no pool reuse)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        if stream:
            response = await client.send(
                client.build_request("POST", proxy_url + "/chat/completions", json=body),
                stream=True,
            )
            assert response.status_code == 200
            # read up to the second chunk, keeping the line iterator (and so the response) alive:
            # leaving an ``async for`` over it would close the response on garbage collection
            lines = response.aiter_lines()
            received = [await anext(lines) for _ in range(6)]  # role, "0 ", "1 " + blank lines
            assert '"content":"1 "' in received[4], received
            run = await find_run(sdk, marker)
            # mid-stream: the response is open and unread, so closing it drops the connection
            waited = await assert_cancelled_on_hang_up(run, response.aclose)
        else:
            request = asyncio.create_task(client.post(proxy_url + "/chat/completions", json=body))
            run = await find_run(sdk, marker)
            assert not request.done(), "the non-streaming request ended before the hang-up"

            async def hang_up() -> None:
                # cancelling the request mid-flight makes httpx close the connection
                request.cancel()
                with suppress(asyncio.CancelledError):
                    await request

            waited = await assert_cancelled_on_hang_up(run, hang_up)
    record_property("run_stopped_after_s", round(waited, 3))  # README figures (--junitxml)


async def test_proxy_serves_after_hang_ups(proxy_url: str) -> None:
    """Hang-ups leave nothing behind that breaks the next request."""
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(
            proxy_url + "/chat/completions", json=bench_body(5, stream=False)
        )
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "0 1 2 3 4 "


@pytest.mark.parametrize("store", [True, False], ids=["stored", "not-stored"])
async def test_hanging_up_on_a_response_stream_cancels_its_run(
    proxy_url: str, sdk: LangGraphClient, store: bool
) -> None:
    """``/v1/responses`` the same way, on its thread (stored) or stateless."""
    marker = uuid.uuid4().hex
    body = {
        "model": "bench",
        "input": "3",
        "stream": True,
        "store": store,
        "context": {"silence_after": 2, "silence": 60, "marker": marker},
    }
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        response = await client.send(
            client.build_request("POST", proxy_url + "/responses", json=body), stream=True
        )
        assert response.status_code == 200
        lines = response.aiter_lines()
        received = ""
        while '"delta":"1 "' not in received:
            received += await anext(lines)
        run = await find_run(sdk, marker)
        await assert_cancelled_on_hang_up(run, response.aclose)

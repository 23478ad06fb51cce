"""A run that waits in LangGraph's queue: the client is answered at once and can walk away.

With every job busy (here: ``langgraph dev --n-jobs-per-worker 1`` and one silent run holding
it), a new run is accepted but sends nothing until it starts. A streaming client still gets
its headers and keep-alive pings while it waits (a reverse proxy's idle timeout does not cut
it), and a client that hangs up, streaming or not, cancels the queued run before it starts.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import suppress

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from harness.servers import Server, start_langgraph, start_proxy
from tests.integration_tests.test_disconnects import ACTIVE, CANCEL_WITHIN, bench_body, find_run

ENV = {"PROXY_KEEPALIVE_INTERVAL": "0.3"}


@pytest.fixture(scope="module")
def one_job_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_langgraph(tmp_path_factory.mktemp("one-job") / "server.log", jobs=1, env=ENV)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def one_job_proxy(one_job_server: Server, tmp_path_factory: pytest.TempPathFactory):
    log = tmp_path_factory.mktemp("one-job-proxy") / "proxy.log"
    server = start_proxy(log, one_job_server.url, env=ENV)
    yield server
    server.stop()


@pytest.fixture(params=["mounted", "standalone"])
def proxy(request: pytest.FixtureRequest, one_job_server: Server) -> Server:
    """The server that serves ``/v1``: the LangGraph server itself, or the standalone proxy."""
    if request.param == "mounted":
        return one_job_server
    return request.getfixturevalue("one_job_proxy")


@pytest.fixture
async def busy(one_job_server: Server) -> AsyncIterator[LangGraphClient]:
    """The server's only job taken by a silent run for the length of the test."""
    sdk = get_client(url=one_job_server.url, api_key=None)
    marker = uuid.uuid4().hex
    await sdk.runs.create(
        None, "bench", input={"chunks": 1}, context={"silence": 120, "marker": marker}
    )
    blocker = await find_run(sdk, marker, "running")
    yield sdk
    await sdk.runs.cancel(blocker.thread_id, blocker.run_id)
    status, _ = await blocker.wait_stopped(10)
    assert status not in ACTIVE


@pytest.mark.parametrize("stream", [True, False], ids=["streaming", "non-streaming"])
async def test_a_queued_run_is_cancelled_when_its_client_hangs_up(
    proxy: Server, busy: LangGraphClient, stream: bool
) -> None:
    url = proxy.url + "/v1"
    log_before = len(proxy.output())
    marker = uuid.uuid4().hex
    body = bench_body(3, stream=stream, marker=marker)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        if stream:
            response = await client.send(
                client.build_request("POST", url + "/chat/completions", json=body), stream=True
            )
            # answered while the run waits in the queue: status, headers, the role chunk,
            # then keep-alive comments, and no content yet
            assert response.status_code == 200
            assert response.headers["x-langgraph-run-id"]
            lines = response.aiter_lines()
            first = await anext(lines)
            assert '"role":"assistant"' in first
            pings = 0
            while pings < 2:
                line = await anext(lines)
                assert '"content"' not in line, line
                pings += line == ": ping"
            run = await find_run(busy, marker, "pending")
            assert run.run_id == response.headers["x-langgraph-run-id"]
            await response.aclose()
        else:
            request = asyncio.create_task(client.post(url + "/chat/completions", json=body))
            run = await find_run(busy, marker, "pending")
            assert not request.done()
            request.cancel()
            with suppress(asyncio.CancelledError):
                await request
    status, waited = await run.wait_stopped(CANCEL_WITHIN)
    assert status not in ACTIVE, f"queued run still {status} {waited:.2f}s after the hang-up"
    # the hang-up is an expected ending, not an error of the proxy's
    assert "Unhandled error" not in proxy.output()[log_before:]

"""The standalone proxy's default executor runs the SDK's JSON work in place."""

from __future__ import annotations

import asyncio
import threading
import tracemalloc

import orjson
import pytest
from fastapi.testclient import TestClient

from proxy.app import create_app
from proxy.settings import Settings
from proxy.upstream.client import InlineJSONExecutor


async def test_orjson_runs_in_place_and_anything_else_in_a_worker() -> None:
    loop = asyncio.get_running_loop()
    executor = InlineJSONExecutor()
    try:
        here = threading.get_ident()
        assert await loop.run_in_executor(executor, orjson.dumps, {"a": 1}) == b'{"a":1}'
        assert await loop.run_in_executor(executor, orjson.loads, b"[1]") == [1]
        with pytest.raises(orjson.JSONDecodeError):
            await loop.run_in_executor(executor, orjson.loads, b"{")
        assert await loop.run_in_executor(executor, threading.get_ident) != here
    finally:
        executor.shutdown(wait=True)


async def test_a_small_body_is_kept_at_its_own_size() -> None:
    """orjson hands back its whole 4 KiB buffer; a body held for a stream's life is copied."""
    loop = asyncio.get_running_loop()
    executor = InlineJSONExecutor()
    payload = {"input": {"input": 5}, "stream_mode": "custom", "on_disconnect": "cancel"}
    try:
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            encode = loop.run_in_executor
            bodies = [await encode(executor, orjson.dumps, payload) for _ in range(50)]
            held = (tracemalloc.get_traced_memory()[0] - before) / len(bodies)
        finally:
            tracemalloc.stop()
    finally:
        executor.shutdown(wait=True)
    assert bodies[0] == orjson.dumps(payload)
    assert held < 1024  # orjson's own result: 4,097 bytes each


def test_the_sdk_encodes_a_run_request_without_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the SDK does per request (``_aencode_json``), on the standalone app's loop."""
    threads: list[int] = []
    real_dumps = orjson.dumps

    def dumps(*args: object, **kwargs: object) -> bytes:
        threads.append(threading.get_ident())
        return real_dumps(*args, **kwargs)

    monkeypatch.setattr(InlineJSONExecutor, "INLINE", (dumps, orjson.loads))
    app = create_app(Settings(langgraph_url="http://127.0.0.1:9"))

    @app.get("/probe")
    async def probe() -> dict[str, bool]:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, dumps, {"input": 1})
        return {"same_thread": threads == [threading.get_ident()]}

    with TestClient(app) as client:
        assert client.get("/probe").json() == {"same_thread": True}


def test_the_mounted_app_leaves_the_hosts_executor_alone() -> None:
    app = create_app(Settings(langgraph_url=None))

    @app.get("/probe")
    async def probe() -> dict[str, str]:
        executor = asyncio.get_running_loop()._default_executor  # type: ignore[attr-defined]
        return {"executor": type(executor).__name__}

    with TestClient(app) as client:
        assert client.get("/probe").json()["executor"] != "InlineJSONExecutor"

"""A recording pass-through: what a client sends to an OpenAI base URL, and what it got back.

    python -m tests.openwebui_tests.recorder <upstream_url> <port> <records.jsonl>

Listens on 127.0.0.1:<port> and forwards every request as it is (method, path, query, headers
but ``Host``, body) to ``upstream_url`` (e.g. the standalone proxy's ``http://127.0.0.1:8000``),
streaming the answer back as it arrives. When an exchange ends, one JSON line goes to
``records.jsonl``: ``seq`` (the order requests arrived in), times, the request (``headers`` with
their original case, ``body`` parsed as JSON where it is), and the response (status, headers,
``text``: the body as received, SSE included, capped at 1 MB; ``disconnected`` if the client
went away first). Not forwarded: ``GET /__recorder/ok`` (readiness) and ``GET /__recorder/status``
(``{"seq": <last request's number>, "in_flight": <exchanges not yet written>}``).

Runs with the project's own venv (starlette, uvicorn, httpx); the Open WebUI tests start it
with ``harness.servers.start``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

TEXT_CAP = 1_000_000
HOP_BY_HOP = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}


def build(upstream: str, records: Path) -> Starlette:
    """The recorder's app, forwarding to ``upstream`` and appending to ``records``."""
    client = httpx.AsyncClient(base_url=upstream, timeout=httpx.Timeout(None, connect=5))
    counter = itertools.count(1)
    lock = asyncio.Lock()
    state = {"seq": 0, "in_flight": 0}

    async def write(record: dict[str, Any]) -> None:
        async with lock:
            with records.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")

    async def ok(_: Request) -> Response:
        return PlainTextResponse("ok")

    async def status(_: Request) -> Response:
        return JSONResponse(state)

    async def forward(request: Request) -> Response:
        seq = next(counter)
        state["seq"] = seq
        state["in_flight"] += 1
        try:
            return await exchange(request, seq)
        except BaseException:
            state["in_flight"] -= 1
            raise

    async def exchange(request: Request, seq: int) -> Response:
        raw = await request.body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        record: dict[str, Any] = {
            "seq": seq,
            "started": time.time(),
            "method": request.method,
            "path": request.url.path,
            "query": request.url.query,
            # raw header names: their case as the client wrote them
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in request.headers.raw],
            "body": body,
        }
        headers = [(k, v) for k, v in request.headers.raw if k.decode().lower() not in HOP_BY_HOP]
        upstream_request = client.build_request(
            request.method,
            request.url.path,
            params=request.url.query,
            headers=headers,
            content=raw,
        )
        try:
            upstream_response = await client.send(upstream_request, stream=True)
        except httpx.HTTPError as error:
            record.update(status=502, error=repr(error), ended=time.time())
            await write(record)
            state["in_flight"] -= 1
            return PlainTextResponse(f"recorder: upstream failed: {error!r}", status_code=502)
        record["status"] = upstream_response.status_code
        record["response_headers"] = dict(upstream_response.headers)
        pieces: list[str] = []
        size = 0

        async def relay() -> Any:
            nonlocal size
            finished = False
            try:
                async for chunk in upstream_response.aiter_raw():
                    if size < TEXT_CAP:
                        pieces.append(chunk.decode("utf-8", errors="replace"))
                        size += len(chunk)
                    yield chunk
                finished = True
            finally:
                await upstream_response.aclose()
                record["text"] = "".join(pieces)
                record["disconnected"] = not finished
                record["ended"] = time.time()
                await write(record)
                state["in_flight"] -= 1

        passed = {k: v for k, v in upstream_response.headers.items() if k.lower() not in HOP_BY_HOP}
        # aiter_raw keeps any content-encoding: the header goes on as it is
        return StreamingResponse(relay(), status_code=upstream_response.status_code, headers=passed)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
    return Starlette(
        routes=[
            Route("/__recorder/ok", ok),
            Route("/__recorder/status", status),
            Route("/{path:path}", forward, methods=methods),
        ]
    )


def main() -> None:
    upstream, port, records = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    records.touch()
    uvicorn.run(
        build(upstream, records), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )


if __name__ == "__main__":
    main()

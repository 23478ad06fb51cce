"""A busy run reaches the client in bursts; a paced one, chunk by chunk (PROXY_COALESCE_MS).

Each proxy write is one HTTP chunk of the response, so reading the body chunk by chunk with
httpx shows exactly how the proxy wrote it. The chunks of a burst share one delta
(PROXY_MERGE_DELTAS); a paced run's chunks each get their own.
"""

from __future__ import annotations

import time

import httpx
import orjson
from langgraph_sdk import get_sync_client

from harness.servers import Server

HOLD = 0.010
"""The default PROXY_COALESCE_MS, in seconds."""


Write = tuple[float, list[str]]


def _writes(proxy_url: str, model: str, content: str, context: dict) -> list[Write]:
    """(arrival time, texts of its deltas) for every write of the stream that carried one."""
    body = {
        "model": model,
        "stream": True,
        "messages": [{"role": "user", "content": content}],
        "context": context,
    }
    writes: list[Write] = []
    with (
        httpx.Client(timeout=120) as client,
        client.stream("POST", f"{proxy_url}/chat/completions", json=body) as response,
    ):
        assert response.status_code == 200
        for raw in response.iter_raw():
            texts = []
            for line in raw.split(b"\n"):
                if not line.startswith(b"data: {"):
                    continue
                choices = orjson.loads(line[6:]).get("choices") or []
                delta = choices[0].get("delta", {}) if choices else {}
                if text := delta.get("content") or delta.get("reasoning_content"):
                    texts.append(text)
            if texts:
                writes.append((time.perf_counter(), texts))
    return writes


def test_a_paced_stream_is_written_chunk_by_chunk(proxy_url: str, langgraph_server: Server) -> None:
    # pace 0.5: at least 50 ms between chunks, five times the hold
    context = {"locale": "en", "seed": 7, "pace": 0.5}
    writes = _writes(proxy_url, "up-down-game", "90", context)
    # the same seeded run, read directly: its chunks are the deltas the client must see
    direct = get_sync_client(url=langgraph_server.url, api_key=None).runs.stream(
        None, "up-down-game", input={"input": 90}, context=context, stream_mode="custom"
    )
    chunks = [part.data["text"] for part in direct if part.event == "custom"]
    assert len(chunks) >= 4  # the input line, a draw or more, the answer's pieces
    assert [texts for _, texts in writes] == [[text] for text in chunks]


def test_a_busy_stream_is_written_in_bursts(proxy_url: str) -> None:
    chunks = 2000
    writes = _writes(proxy_url, "bench", str(chunks), {})
    # every chunk, in order; a burst's chunks share one delta, one delta per write
    assert "".join(text for _, texts in writes for text in texts) == "".join(
        f"{index} " for index in range(chunks)
    )
    assert all(len(texts) == 1 for _, texts in writes)
    # one read of the run per hold (standalone; mounted, a fresh chunk and then the rest of
    # the burst: two), so writes are bounded by the time the stream took, not by its chunks
    took = writes[-1][0] - writes[0][0]
    assert len(writes) <= 2 * took / HOLD + 10
    assert len(writes) < chunks / 2

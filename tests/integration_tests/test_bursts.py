"""A busy run reaches the client in bursts; a paced one, chunk by chunk (PROXY_COALESCE_MS).

Each proxy write is one HTTP chunk of the response, so reading the body chunk by chunk with
httpx shows exactly how the proxy wrote it.
"""

from __future__ import annotations

import time

import httpx
import orjson

HOLD = 0.010
"""The default PROXY_COALESCE_MS, in seconds."""


def _writes(proxy_url: str, model: str, content: str, context: dict) -> list[tuple[float, int]]:
    """(arrival time, number of deltas) for every write of the stream that carried a delta."""
    body = {
        "model": model,
        "stream": True,
        "messages": [{"role": "user", "content": content}],
        "context": context,
    }
    writes: list[tuple[float, int]] = []
    with (
        httpx.Client(timeout=120) as client,
        client.stream("POST", f"{proxy_url}/chat/completions", json=body) as response,
    ):
        assert response.status_code == 200
        for raw in response.iter_raw():
            deltas = 0
            for line in raw.split(b"\n"):
                if not line.startswith(b"data: {"):
                    continue
                choices = orjson.loads(line[6:]).get("choices") or []
                delta = choices[0].get("delta", {}) if choices else {}
                deltas += bool(delta.get("content") or delta.get("reasoning_content"))
            if deltas:
                writes.append((time.perf_counter(), deltas))
    return writes


def test_a_paced_stream_is_written_chunk_by_chunk(proxy_url: str) -> None:
    # pace 0.5: at least 50 ms between chunks, five times the hold
    writes = _writes(proxy_url, "up-down-game", "90", {"locale": "en", "seed": 7, "pace": 0.5})
    assert len(writes) >= 4  # the input line, a draw or more, the answer's pieces
    assert [deltas for _, deltas in writes] == [1] * len(writes)


def test_a_busy_stream_is_written_in_bursts(proxy_url: str) -> None:
    chunks = 2000
    writes = _writes(proxy_url, "bench", str(chunks), {})
    assert sum(deltas for _, deltas in writes) == chunks
    # one read of the run per hold (standalone; mounted, a fresh chunk and then the rest of
    # the burst: two), so writes are bounded by the time the stream took, not by its chunks
    took = writes[-1][0] - writes[0][0]
    assert len(writes) <= 2 * took / HOLD + 10
    assert len(writes) < chunks / 2

"""The process executing a run dies (SIGKILL) or is stopped (SIGTERM) mid-stream.

The runtime runs the run again from the start on a surviving process: after about twice
``LG_BG_JOB_HEARTBEAT`` for a dead process, at once for a stopped one (it hands its runs back
as it shuts down). The stream the client reads then carries a ``metadata`` event with
``attempt: 2`` and the whole output again; LangGraph's licensed runtime retries the same way,
and sends the same field. What the client gets, through every proxy (the rule the proxy
follows, decided by the lead engineer):

* streaming: the first attempt's partial output, then a visible marker (a delta whose text
  says "restarted": in ``delta.content`` if answer text was already sent, else in
  ``delta.reasoning_content``), then the retried attempt's whole output, then
  ``finish_reason: "stop"``; the new attempt's text never without the marker before it;
* not streaming: the final attempt's answer, once.

The run is the ``bench`` graph's: 12 chunks, silent for a while after the fourth, which is
when its queue worker is hit. ``main``'s API processes, and so the proxies' streams, survive.
"""

from __future__ import annotations

import asyncio
import re
import signal

import pytest

from stack.topology import Deployment, LangGraphServer
from tests.stack_tests.chat import MARKER, Streamed, complete, stream
from tests.stack_tests.fixtures import HEARTBEAT
from tests.stack_tests.poll import eventually

CHUNKS = 12
SENT_FIRST = 4
FIRST = "".join(f"{i} " for i in range(SENT_FIRST))
FULL = "".join(f"{i} " for i in range(CHUNKS))
SILENCE = 2.0
REQUEST = [{"role": "user", "content": str(CHUNKS)}]
SIGNALS = {"SIGKILL": signal.SIGKILL, "SIGTERM": signal.SIGTERM}
VIA = ["proxy-1", "mounted"]


def base_url(deployment: Deployment, via: str) -> str:
    """A standalone proxy's OpenAI base URL, or the proxy mounted in ``api-1``."""
    front = deployment.proxies[0] if via == "proxy-1" else deployment.front[0]
    return front.url + "/v1"


async def hit(deployment: Deployment, run_id: str, sig: signal.Signals) -> LangGraphServer:
    """Send ``sig`` to the process executing ``run_id``; that process."""
    victim = await eventually(
        lambda: deployment.executor_of(run_id), f"no process began run {run_id}"
    )
    if sig == signal.SIGKILL:
        await asyncio.to_thread(victim.kill)
    else:
        victim.signal(sig)
    return victim


async def retried_elsewhere(deployment: Deployment, run_id: str, victim: LangGraphServer) -> None:
    """The run's second attempt began on another process, and the victim is gone."""
    retried = [s for s in deployment.executing if (run_id, 2) in s.runs_started()]
    assert retried and victim not in retried, f"attempt 2 of {run_id} ran on {retried}"
    await asyncio.to_thread(victim.wait_exit)
    assert not victim.running()


def split_at_marker(content: str) -> tuple[str, str]:
    """The answer text before the one marker, and from it on (fails without exactly one)."""
    assert content.count(MARKER) == 1, f"not one {MARKER!r} marker in {content!r}"
    at = content.index(MARKER)
    return content[:at], content[at:]


@pytest.mark.parametrize("via", VIA)
@pytest.mark.parametrize("sig", list(SIGNALS), ids=list(SIGNALS))
async def test_a_stream_whose_worker_is_hit_shows_a_marker_then_the_retry(
    main: Deployment, sig: str, via: str
) -> None:
    hitting: asyncio.Task[LangGraphServer] | None = None

    async def when_first_chunks_arrived(record: Streamed) -> None:
        nonlocal hitting
        if hitting is None and record.content.startswith(FIRST):
            hitting = asyncio.create_task(hit(main, record.run_id, SIGNALS[sig]))

    answer = await stream(
        base_url(main, via),
        "bench",
        REQUEST,
        context={"silence": SILENCE, "silence_after": SENT_FIRST},
        on_delta=when_first_chunks_arrived,
    )
    assert hitting is not None, f"the first {SENT_FIRST} chunks never arrived: {answer.deltas}"
    victim = await hitting
    await retried_elsewhere(main, answer.run_id, victim)

    before, rest = split_at_marker(answer.content)
    # what the client had when the worker was hit, once, then at most the marker's own lead-in
    assert before.startswith(FIRST) and not re.search(r"\d", before[len(FIRST) :]), before
    # the marker's text, then the retried attempt, whole, once
    assert rest.endswith(FULL) and rest.count(FIRST) == 1, rest
    marked = [delta for delta in answer.deltas if MARKER in delta.content + delta.reasoning]
    assert len(marked) == 1 and MARKER in marked[0].content, answer.deltas
    assert answer.finishes == ["stop"] and answer.deltas[-1].finish == "stop"


async def test_a_retry_before_any_text_is_marked_as_thinking(main: Deployment) -> None:
    hitting: asyncio.Task[LangGraphServer] | None = None

    async def at_once(record: Streamed) -> None:
        nonlocal hitting
        if hitting is None:
            hitting = asyncio.create_task(hit(main, record.run_id, signal.SIGKILL))

    answer = await stream(
        main.proxies[0].url + "/v1",
        "bench",
        REQUEST,
        context={"silence": SILENCE, "silence_after": 0},  # silent from the start
        on_delta=at_once,
    )
    assert hitting is not None
    await retried_elsewhere(main, answer.run_id, await hitting)

    assert answer.content == FULL
    marked = [i for i, delta in enumerate(answer.deltas) if MARKER in delta.reasoning]
    first_text = next(i for i, delta in enumerate(answer.deltas) if delta.content)
    assert len(marked) == 1 and marked[0] < first_text, answer.deltas
    assert answer.finishes == ["stop"]


@pytest.mark.parametrize("via", VIA)
@pytest.mark.parametrize("sig", list(SIGNALS), ids=list(SIGNALS))
async def test_a_completion_whose_worker_is_hit_answers_once(
    main: Deployment, sig: str, via: str
) -> None:
    seen = {run for server in main.executing for run, _ in server.runs_started()}

    def new_run() -> str | None:
        started = [run for s in main.executing for run, _ in s.runs_started() if run not in seen]
        return started[0] if started else None

    completing = asyncio.create_task(
        complete(
            base_url(main, via),
            "bench",
            REQUEST,
            context={"silence": SILENCE, "silence_after": SENT_FIRST},
        )
    )
    run_id = await eventually(new_run, "the completion's run never began")
    await asyncio.sleep(SILENCE / 4)  # its first chunks are out; it is silent now
    victim = await hit(main, run_id, SIGNALS[sig])
    headers, reply = await asyncio.wait_for(completing, 10 * HEARTBEAT + 4 * SILENCE)
    await retried_elsewhere(main, run_id, victim)

    assert headers["x-langgraph-run-id"] == run_id
    assert reply.choices[0].message.content == FULL
    assert reply.choices[0].finish_reason == "stop"

"""A run started through one API process, executed by a queue worker, joined through another.

Its events cross processes through Redis: the joining process never saw the run start.
"""

from __future__ import annotations

from langgraph_sdk import get_client

from stack.topology import Deployment
from tests.stack_tests.poll import eventually

CHUNKS = 12
SENT_FIRST = 4
SILENCE = 3.0
CONTEXT = {"silence": SILENCE, "silence_after": SENT_FIRST}
ALL = [f"{i} " for i in range(CHUNKS)]


async def start_run(main: Deployment, resumable: bool) -> tuple[str, str]:
    """A background run on a new thread, through ``api-1``; waits until a worker began it."""
    sdk = get_client(url=main.front[0].url)
    thread = await sdk.threads.create()
    run = await sdk.runs.create(
        thread["thread_id"],
        "bench",
        input={"chunks": CHUNKS},
        context=CONTEXT,
        stream_mode=["custom"],
        stream_resumable=resumable,
    )
    await eventually(lambda: main.executor_of(run["run_id"]), "no worker began the run")
    return thread["thread_id"], run["run_id"]


async def join(main: Deployment, thread_id: str, run_id: str, **kwargs: str) -> list[str]:
    """The ``custom`` chunks ``join_stream`` through ``api-2`` yields, to the run's end."""
    sdk = get_client(url=main.front[1].url)
    texts = []
    async for part in sdk.runs.join_stream(thread_id, run_id, **kwargs):  # type: ignore[arg-type]
        if part.event == "custom":
            texts.append(part.data["text"])
    assert (await sdk.runs.get(thread_id, run_id))["status"] == "success"
    return texts


def executed_elsewhere(main: Deployment, run_id: str) -> None:
    """The run ran on a queue worker, not on either API process."""
    worker = main.executor_of(run_id)
    assert worker is not None and worker.role == "queue"


async def test_join_stream_on_another_process_gets_the_rest_of_the_run(main: Deployment) -> None:
    thread_id, run_id = await start_run(main, resumable=False)
    texts = await join(main, thread_id, run_id)
    # everything from the moment it joined (at latest in the silence after chunk 3), in order
    assert texts == ALL[CHUNKS - len(texts) :] and len(texts) >= CHUNKS - SENT_FIRST, texts
    executed_elsewhere(main, run_id)


async def test_a_resumable_run_replays_from_its_start_on_another_process(
    main: Deployment,
) -> None:
    thread_id, run_id = await start_run(main, resumable=True)
    assert await join(main, thread_id, run_id, last_event_id="-") == ALL
    executed_elsewhere(main, run_id)

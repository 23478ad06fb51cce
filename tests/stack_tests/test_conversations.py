"""A conversation (issue 14) continues on any proxy, any process, any turn, and across restarts.

A request opts in with ``metadata: {"conversation_id": ...}`` (or the header
``X-Conversation-Id``); the proxy maps (assistant, caller's key, conversation id) to one
LangGraph thread, the same on every proxy, and names it in ``X-LangGraph-Thread-Id``. Each turn
sends the whole history, as OpenAI clients do; the thread's state (the ``chat`` graph's
``messages``, read with ``langgraph-sdk`` on the stack) holds every turn once.

Which process executes a turn is forced by pausing (SIGSTOP) the other queue worker: turn 1
goes in through ``proxy-1`` -> ``api-1`` and runs on ``queue-1``, turn 2 through ``proxy-2``
-> ``api-2`` on ``queue-2``.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from langgraph_sdk import get_client

from stack.topology import Deployment, Process
from tests.fake_openai import FakeOpenAI
from tests.stack_tests.chat import THREAD_ID_HEADER, client, complete, stream

QUESTIONS = ["First question?", "Second question?", "Third question?"]


@asynccontextmanager
async def paused(process: Process) -> AsyncIterator[None]:
    """``process`` frozen (SIGSTOP) for the block: it claims no run meanwhile."""
    process.signal(signal.SIGSTOP)
    try:
        yield
    finally:
        process.signal(signal.SIGCONT)


def history(replies: list[str]) -> list[dict[str, Any]]:
    """The messages a client sends for the next turn: every question and reply so far."""
    messages: list[dict[str, Any]] = []
    for question, reply in zip(QUESTIONS, [*replies, None], strict=False):
        messages.append({"role": "user", "content": question})
        if reply is None:
            break
        messages.append({"role": "assistant", "content": reply})
    return messages


async def conversation_state(main: Deployment, thread_id: str) -> list[tuple[str, str]]:
    """``(type, content)`` of every message in the thread's state (Postgres, any process)."""
    state = await get_client(url=main.front[1].url).threads.get_state(thread_id)
    values = state["values"]
    assert isinstance(values, dict)
    return [(message["type"], message["content"]) for message in values["messages"]]


def expected_state(turns: int, reply: str) -> list[tuple[str, str]]:
    """Each question and the reply to it, once."""
    return [pair for q in QUESTIONS[:turns] for pair in (("human", q), ("ai", reply))]


async def test_any_proxy_any_process_any_turn(main: Deployment, fake_model: FakeOpenAI) -> None:
    conversation = {"conversation_id": f"stack-{uuid.uuid4()}"}
    proxy_1, proxy_2 = (proxy.url + "/v1" for proxy in main.proxies)
    queue_1, queue_2 = main.server("queue-1"), main.server("queue-2")

    async with paused(queue_2):
        first = await stream(proxy_1, "chat", history([]), metadata=conversation)
    thread_id = first.headers.get(THREAD_ID_HEADER)
    assert thread_id, f"no {THREAD_ID_HEADER} on a conversation's response"
    assert first.content == fake_model.reply
    assert main.executor_of(first.run_id) is queue_1

    async with paused(queue_1):
        second = await stream(proxy_2, "chat", history([first.content]), metadata=conversation)
    assert second.headers.get(THREAD_ID_HEADER) == thread_id
    assert second.content == fake_model.reply
    assert main.executor_of(second.run_id) is queue_2

    # turn 3: not streamed, through the proxy mounted in api-2, opted in by the header
    response = await client(main.front[1].url + "/v1").chat.completions.with_raw_response.create(
        model="chat",
        messages=history([first.content, second.content]),  # type: ignore[arg-type]
        extra_headers={"X-Conversation-Id": conversation["conversation_id"]},
    )
    assert response.headers.get(THREAD_ID_HEADER) == thread_id
    assert response.parse().choices[0].message.content == fake_model.reply

    assert await conversation_state(main, thread_id) == expected_state(3, fake_model.reply)
    # and the model saw the whole conversation on the last turn
    sent = [m["content"] for m in fake_model.requests[-1]["body"]["messages"]]
    assert sent[-5:] == [m["content"] for m in history([fake_model.reply] * 2)]


async def test_a_conversation_survives_a_restart_of_every_server(
    main: Deployment, fake_model: FakeOpenAI
) -> None:
    conversation = {"conversation_id": f"stack-{uuid.uuid4()}"}
    proxy_1 = main.proxies[0].url + "/v1"
    headers, first = await complete(proxy_1, "chat", history([]), metadata=conversation)
    thread_id = headers.get(THREAD_ID_HEADER)
    assert thread_id, f"no {THREAD_ID_HEADER} on a conversation's response"
    pids = {server.name: server.pid for server in main.servers}

    await asyncio.to_thread(main.restart_servers)
    assert all(server.pid != pids[server.name] for server in main.servers)

    reply = first.choices[0].message.content
    assert reply == fake_model.reply
    second = await stream(proxy_1, "chat", history([reply]), metadata=conversation)
    assert second.headers.get(THREAD_ID_HEADER) == thread_id
    assert second.content == fake_model.reply
    assert await conversation_state(main, thread_id) == expected_state(2, fake_model.reply)

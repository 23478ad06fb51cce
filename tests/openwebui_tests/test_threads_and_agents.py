"""Open WebUI in Chromium: an agent's tool steps in the thinking block; chats on threads.

Open WebUI forwards its chat id (``ENABLE_FORWARD_USER_INFO_HEADERS=true``, conftest), so a
saved chat runs on one LangGraph thread. The thread is read back through ``langgraph-sdk``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langgraph_sdk import get_client

from harness.servers import Server
from tests.fake_openai import FakeOpenAI, ToolCall
from tests.openwebui_tests.conftest import (
    AGENT_MODEL,
    INSTALL_TIMEOUT,
    STARTUP_TIMEOUT,
    Browser,
    OpenWebUI,
    Recording,
    task_of,
)

pytestmark = [
    pytest.mark.timeout(INSTALL_TIMEOUT + STARTUP_TIMEOUT + 600),
    pytest.mark.usefixtures("screenshot_on_failure"),
]

THREAD = "x-langgraph-thread-id"


def thread_of(record: dict[str, Any]) -> str | None:
    return {k.lower(): v for k, v in record.get("response_headers", {}).items()}.get(THREAD)


def state(server: Server, thread: str) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        return dict(await get_client(url=server.url, api_key=None).threads.get_state(thread))

    return asyncio.run(read())


def test_an_agent_s_tool_steps_show_as_thinking(
    browser: Browser, openwebui: OpenWebUI, fake_model: FakeOpenAI
) -> None:
    fake_model.turns = [
        [ToolCall("calculator", '{"expression": "2 + 3 * 4"}')],
        ["The ", "answer ", "is ", "14."],
    ]
    browser("open", url=openwebui.url, model=AGENT_MODEL)
    _, answer = browser("send", text="What is 2 + 3 * 4?")["messages"]
    assert answer["error"] is None, answer
    assert answer["text"] == "The answer is 14."
    assert answer["reasoning"] is not None, "no thinking block"
    assert 'Calling calculator with {"expression": "2 + 3 * 4"}' in answer["reasoning"]
    assert "Tool calculator returned: 14" in answer["reasoning"]
    # Open WebUI's own 36 tools went to the proxy; the graph's tools ran, none of theirs
    assert "get_current_timestamp" not in str(fake_model.requests[0]["body"]["tools"])


def test_a_chat_is_one_thread_and_side_requests_leave_it_alone(
    browser: Browser, openwebui: OpenWebUI, recording: Recording, langgraph_server: Server
) -> None:
    browser("open", url=openwebui.url, model="counter")
    mark = recording.mark()
    first = browser("send", text="one")["messages"]
    assert first[1]["text"] == "Turn 1: one"
    second = browser("send", text="two")["messages"]
    assert second[3]["text"] == "Turn 2: two"  # the graph's state carried over
    records = recording.wait(
        mark, lambda r: [task_of(x) for x in r].count("follow_up_generation") == 2
    )
    turns = [r for r in records if not task_of(r)]
    side = [r for r in records if task_of(r)]
    assert {task_of(r) for r in side} >= {"title_generation", "tags_generation"}
    threads = {thread_of(r) for r in turns}
    assert len(threads) == 1 and None not in threads
    assert all(thread_of(r) is None for r in side), "a side request ran on the chat's thread"
    thread = threads.pop()
    assert thread is not None
    values = state(langgraph_server, thread)["values"]
    assert values["turns"] == 2
    assert [(m["type"], m["content"]) for m in values["messages"]] == [
        ("human", "one"),
        ("ai", "Turn 1: one"),
        ("human", "two"),
        ("ai", "Turn 2: two"),
    ]
    # regenerate: the thread forks at the last turn instead of counting a third
    mark = recording.mark()
    again = browser("regenerate")["messages"]
    assert again[3]["text"] == "Turn 2: two"
    records = recording.wait(mark, lambda r: "follow_up_generation" in [task_of(x) for x in r])
    assert {thread_of(r) for r in records if not task_of(r)} == {thread}
    assert state(langgraph_server, thread)["values"]["turns"] == 2

"""Open WebUI 0.12 in Chromium against the standalone proxy: what it shows, what it sends.

The set-up (conftest.py): Chromium -> Open WebUI -> recorder -> standalone proxy -> langgraph
dev. Each test opens a chat of its own in the session's browser and asserts on the rendered
messages (driver.py) and on the requests the recorder saw. The ``X-Template-*`` headers are
configured on the connection (conftest ``TEMPLATE_HEADERS``); ``X-OpenWebUI-*`` are Open
WebUI's own.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.openwebui_tests.conftest import (
    API_KEY,
    FAILING_MODEL,
    FAST_MODEL,
    INSTALL_TIMEOUT,
    STARTUP_TIMEOUT,
    Browser,
    OpenWebUI,
    Recording,
    header,
    task_of,
)

# the first test may install the venv and start everything before it drives the browser
pytestmark = [
    pytest.mark.timeout(INSTALL_TIMEOUT + STARTUP_TIMEOUT + 600),
    pytest.mark.usefixtures("screenshot_on_failure"),
]

INPUT_LINE = "사용자의 입력 : {number}"
DRAW = re.compile(r"임의의 숫자 생성 \((\d+)회차\) : (\d+)")
DONE = "{count} 번 반복 실행됐습니다."
TASK_PROMPTS = {
    "title_generation": "### Task:\nGenerate a concise title summarizing the chat history.",
    "tags_generation": "### Task:\nGenerate 1-3 broad tags categorizing the main themes",
    "follow_up_generation": "### Task:\nPredict 3-5 useful messages this user might naturally",
}
USER_HEADERS = {
    "x-openwebui-user-name": "User",
    "x-openwebui-user-email": "admin@localhost",
    "x-openwebui-user-role": "admin",
    "x-openwebui-auth-type": "jwt",
}


def check_game(message: dict[str, Any], number: int) -> int:
    """The up-down game as Open WebUI shows it: draws in the thinking block, the count as text."""
    assert message["role"] == "assistant" and message["error"] is None, message
    assert message["reasoning"] is not None, f"no thinking block: {message}"
    lines = message["reasoning"].splitlines()
    assert lines[0] == INPUT_LINE.format(number=number)
    draws = [DRAW.fullmatch(line) for line in lines[1:]]
    assert draws and all(draws), lines
    counts = [int(draw.group(1)) for draw in draws if draw]
    values = [int(draw.group(2)) for draw in draws if draw]
    assert counts == list(range(1, len(counts) + 1))
    assert values[-1] < number and all(value >= number for value in values[:-1])
    assert message["text"] == DONE.format(count=len(values))
    return len(values)


def sse_events(record: dict[str, Any]) -> list[Any]:
    """The JSON events of a recorded SSE response; it must end with ``[DONE]``."""
    data = [
        line[len("data: ") :] for line in record["text"].splitlines() if line.startswith("data:")
    ]
    assert data[-1] == "[DONE]", data[-3:]
    return [json.loads(item) for item in data[:-1]]


def turns(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The chat turns among the recorded completions (not title, tags, follow-ups)."""
    return [record for record in records if not task_of(record)]


def tasks(records: list[dict[str, Any]]) -> list[str]:
    return sorted(task_of(record) for record in records if task_of(record))


def messages_sent(record: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(message["role"], message["content"]) for message in record["body"]["messages"]]


def check_turn_request(record: dict[str, Any], chat_id: str) -> None:
    """What every chat turn carries: stream, Open WebUI's built-in tools, the user and chat."""
    body = record["body"]
    assert record["method"] == "POST" and record["path"] == "/v1/chat/completions"
    assert body["stream"] is True
    # no stream_options, metadata, user, temperature ...: Open WebUI pops `metadata` itself
    assert set(body) <= {"stream", "model", "messages", "tools", "context"}, sorted(body)
    names = {tool["function"]["name"] for tool in body["tools"]}
    assert {"get_current_timestamp", "search_chats", "add_memory"} <= names
    assert header(record, "Authorization") == f"Bearer {API_KEY}"
    assert header(record, "X-OpenWebUI-Chat-Id") == chat_id
    for name, value in USER_HEADERS.items():
        assert header(record, name) == value
    assert header(record, "X-OpenWebUI-User-Id")
    assert header(record, "X-OpenWebUI-Message-Id") is None  # only sent to tool servers


def check_task_request(record: dict[str, Any], chat_id: str) -> None:
    """A side request: not streamed, no tools, one user message with a "### Task:" prompt."""
    body = record["body"]
    assert body["stream"] is False
    assert "tools" not in body
    [(role, prompt)] = messages_sent(record)
    assert role == "user" and prompt.startswith(TASK_PROMPTS[task_of(record)])
    assert header(record, "X-OpenWebUI-Chat-Id") == chat_id  # the same as the turns'
    assert header(record, "X-Template-Message-Id") == ""  # tasks have no message id
    # the proxy cannot coerce the prompt to the game's integer: a clean 400
    assert record["status"] == 400
    assert "must be an integer" in record["text"]


def test_smoke_up_down_game(browser: Browser, openwebui: OpenWebUI, recording: Recording) -> None:
    """The real game at its default pace: draws in the thinking block, the answer below."""
    mark = recording.mark()
    opened = browser("open", url=openwebui.url, model="up-down-game")
    assert opened["model"] == "up-down-game"
    shown = browser("send", text="10")
    user, answer = shown["messages"]
    assert user == {
        "id": user["id"],
        "role": "user",
        "text": "10",
        "reasoning": None,
        "error": None,
    }
    draws = check_game(answer, 10)
    chat_id = shown["chat_id"]
    records = recording.wait(mark, lambda r: len(tasks(r)) >= 3)
    [turn] = turns(records)
    check_turn_request(turn, chat_id)
    assert messages_sent(turn) == [("user", "10")]
    assert turn["body"]["model"] == "up-down-game" and "context" not in turn["body"]
    assert header(turn, "X-Template-Message-Id") == answer["id"]
    assert header(turn, "X-Template-User-Message-Id") == user["id"]
    assert turn["status"] == 200
    # what the proxy streamed: the draws as reasoning_content, the answer as content
    deltas = [event["choices"][0]["delta"] for event in sse_events(turn) if event["choices"]]
    reasoning = "".join(delta.get("reasoning_content") or "" for delta in deltas)
    assert reasoning == answer["reasoning"] + "\n" and reasoning.count("\n") == draws + 1
    assert "".join(delta.get("content") or "" for delta in deltas) == answer["text"]
    assert tasks(records) == ["follow_up_generation", "tags_generation", "title_generation"]
    state = browser("state")
    assert state["refused"] == [] and openwebui.refused() == []


def test_two_turns(browser: Browser, openwebui: OpenWebUI, recording: Recording) -> None:
    """The second turn sends the whole conversation, the earlier answer without its reasoning."""
    browser("open", url=openwebui.url, model=FAST_MODEL)
    mark = recording.mark()
    first = browser("send", text="10")["messages"]
    check_game(first[1], 10)
    second = browser("send", text="20")
    _, answer1, user2, answer2 = second["messages"]
    check_game(answer2, 20)
    chat_id = second["chat_id"]
    records = recording.wait(mark, lambda r: tasks(r).count("follow_up_generation") == 2)
    turn1, turn2 = turns(records)
    for turn in (turn1, turn2):
        check_turn_request(turn, chat_id)
        # the workspace model's custom parameter, sent for the graph it is based on
        assert turn["body"]["model"] == "up-down-game"
        assert turn["body"]["context"] == {"pace": 0}
        assert header(turn, "X-Template-Model-Id") == FAST_MODEL
    assert messages_sent(turn1) == [("user", "10")]
    # no system message, no <details>/<think>: the answer as shown, its reasoning left out
    assert messages_sent(turn2) == [("user", "10"), ("assistant", answer1["text"]), ("user", "20")]
    # which message each turn answers: Open WebUI's ids, as the page shows them
    assert header(turn1, "X-Template-Message-Id") == answer1["id"]
    assert header(turn1, "X-Template-User-Message-Parent-Id") == ""
    assert header(turn2, "X-Template-Message-Id") == answer2["id"]
    assert header(turn2, "X-Template-User-Message-Id") == user2["id"]
    assert header(turn2, "X-Template-User-Message-Parent-Id") == answer1["id"]
    # the first turn of a new chat: title (sent before the turn itself), tags, follow-ups;
    # the second: follow-ups only. All with the chat id, none streamed.
    assert tasks(records) == sorted(
        ["title_generation", "tags_generation", "follow_up_generation", "follow_up_generation"]
    )
    # the title runs beside the first turn (it is started when the chat is created)
    title = next(r for r in records if task_of(r) == "title_generation")
    assert title["started"] < turn1["ended"]
    assert title["body"]["max_tokens"] == 1000
    for record in records:
        if task_of(record):
            check_task_request(record, chat_id)
            # side requests carry the model's custom parameters too
            assert record["body"]["context"] == {"pace": 0}
    # Open WebUI keeps the answer's reasoning as an `output` item, not in `content`
    stored = openwebui.chat(chat_id)["history"]["messages"][answer1["id"]]
    assert stored["content"] == answer1["text"]
    kinds = [item["type"] for item in stored["output"]]
    assert kinds == ["reasoning", "message"], kinds
    assert stored["output"][0]["content"][0]["text"].rstrip("\n") == answer1["reasoning"]


def test_regenerate(browser: Browser, openwebui: OpenWebUI, recording: Recording) -> None:
    """Regenerate resends the same conversation; only the answer's message id is new."""
    browser("open", url=openwebui.url, model=FAST_MODEL)
    browser("send", text="10")
    before = browser("send", text="20")["messages"]
    mark = recording.mark()
    after = browser("regenerate")["messages"]
    assert [m["id"] for m in after[:3]] == [m["id"] for m in before[:3]]
    assert after[3]["id"] != before[3]["id"]
    check_game(after[3], 20)
    records = recording.wait(mark, lambda r: "follow_up_generation" in tasks(r))
    [turn] = turns(records)
    assert messages_sent(turn) == [("user", "10"), ("assistant", before[1]["text"]), ("user", "20")]
    assert header(turn, "X-Template-Message-Id") == after[3]["id"]
    assert header(turn, "X-Template-User-Message-Id") == before[2]["id"]
    assert tasks(records) == ["follow_up_generation"]


def test_regenerate_with_suggestion(
    browser: Browser, openwebui: OpenWebUI, recording: Recording
) -> None:
    """A suggestion ("More Concise") adds the old answer and the suggestion as a user turn."""
    browser("open", url=openwebui.url, model=FAST_MODEL)
    shown = browser("send", text="10")["messages"]
    mark = recording.mark()
    after = browser("regenerate", suggestion="More Concise")["messages"]
    records = recording.wait(mark, lambda r: len(turns(r)) == 1)
    [turn] = turns(records)
    assert messages_sent(turn) == [
        ("user", "10"),
        ("assistant", shown[1]["text"]),
        ("user", "More Concise"),
    ]
    # the game takes the last user message: "More Concise" is no integer, a 400 shown as such
    assert turn["status"] == 400
    assert after[1]["error"] is not None and "must be an integer" in after[1]["error"]


def test_edit_user_message(browser: Browser, openwebui: OpenWebUI, recording: Recording) -> None:
    """Editing the first user message starts a new branch: only the new text is sent."""
    browser("open", url=openwebui.url, model=FAST_MODEL)
    browser("send", text="10")
    browser("send", text="20")
    mark = recording.mark()
    shown = browser("edit_user", index=0, text="30")
    user, answer = shown["messages"]
    assert user["text"] == "30"
    check_game(answer, 30)
    records = recording.wait(mark, lambda r: len(tasks(r)) == 3)
    [turn] = turns(records)
    assert messages_sent(turn) == [("user", "30")]
    assert header(turn, "X-Template-User-Message-Parent-Id") == ""
    assert header(turn, "X-Template-Message-Id") == answer["id"]
    # a new root branch counts as a new chat for the title and the tags
    assert tasks(records) == ["follow_up_generation", "tags_generation", "title_generation"]


def test_edit_later_user_message(
    browser: Browser, openwebui: OpenWebUI, recording: Recording
) -> None:
    """Editing the second user message sends the history before it, then the new text."""
    browser("open", url=openwebui.url, model=FAST_MODEL)
    first = browser("send", text="10")["messages"]
    browser("send", text="20")
    mark = recording.mark()
    shown = browser("edit_user", index=1, text="40")["messages"]
    assert [m["text"] for m in shown if m["role"] == "user"] == ["10", "40"]
    check_game(shown[3], 40)
    records = recording.wait(mark, lambda r: "follow_up_generation" in tasks(r))
    [turn] = turns(records)
    assert messages_sent(turn) == [("user", "10"), ("assistant", first[1]["text"]), ("user", "40")]
    assert header(turn, "X-Template-User-Message-Parent-Id") == first[1]["id"]


def test_edit_assistant_message(
    browser: Browser, openwebui: OpenWebUI, recording: Recording
) -> None:
    """Saving an edited answer sends nothing; the next turn carries the edited text."""
    browser("open", url=openwebui.url, model=FAST_MODEL)
    browser("send", text="10")
    mark = recording.mark()
    edited = browser("edit_assistant", index=0, text="an edited answer")["messages"]
    assert edited[1]["text"] == "an edited answer"
    assert edited[1]["reasoning"] is not None  # the reasoning item stays
    shown = browser("send", text="20")["messages"]
    check_game(shown[3], 20)
    records = recording.wait(mark, lambda r: "follow_up_generation" in tasks(r))
    [turn] = turns(records)  # no request for the edit itself
    assert messages_sent(turn) == [
        ("user", "10"),
        ("assistant", "an edited answer"),
        ("user", "20"),
    ]


def test_temporary_chat(browser: Browser, openwebui: OpenWebUI, recording: Recording) -> None:
    """A temporary chat: chat id "temporary:<socket id>", no title or tags, history sent."""
    opened = browser("open", url=openwebui.url, model=FAST_MODEL, temporary=True)
    assert "temporary-chat=true" in opened["url"]
    mark = recording.mark()
    browser("send", text="10")
    shown = browser("send", text="20")
    assert shown["chat_id"] is None  # never saved: no /c/<id> URL
    first, _, _, second = shown["messages"]
    check_game(second, 20)
    records = recording.wait(mark, lambda r: tasks(r).count("follow_up_generation") == 2)
    turn1, turn2 = turns(records)
    chat_id = header(turn1, "X-OpenWebUI-Chat-Id")
    assert chat_id is not None and chat_id.startswith("temporary:")
    check_turn_request(turn1, chat_id)
    check_turn_request(turn2, chat_id)
    answer1 = shown["messages"][1]
    assert messages_sent(turn2) == [("user", "10"), ("assistant", answer1["text"]), ("user", "20")]
    assert header(turn2, "X-Template-User-Message-Parent-Id") == answer1["id"]
    assert tasks(records) == ["follow_up_generation", "follow_up_generation"]
    assert first["role"] == "user"


def test_error_mid_stream(browser: Browser, openwebui: OpenWebUI, recording: Recording) -> None:
    """A run that fails mid-stream: the text so far stays, the error shows under it."""
    browser("open", url=openwebui.url, model=FAILING_MODEL)
    mark = recording.mark()
    shown = browser("send", text="10")
    answer = shown["messages"][1]
    assert answer["text"] == "0 1 2"
    assert answer["error"] == "bench graph failed on purpose after 3 chunks"
    records = recording.wait(mark, lambda r: len(turns(r)) == 1)
    [turn] = turns(records)
    assert turn["status"] == 200
    assert sse_events(turn)[-1]["error"]["message"] == answer["error"]
    # Open WebUI stores the error beside the partial answer
    stored = openwebui.chat(shown["chat_id"])["history"]["messages"][answer["id"]]
    assert stored["content"] == "0 1 2"
    assert stored["error"]["content"]["message"] == answer["error"]


def test_stayed_offline(browser: Browser, openwebui: OpenWebUI) -> None:
    """Neither Open WebUI nor the page asked anything of the internet in the whole session."""
    assert openwebui.refused() == []
    state = browser("state")
    assert state["refused"] == []

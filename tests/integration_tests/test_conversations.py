"""Conversations on LangGraph threads, from the openai SDK through both proxies.

A request that names its conversation (``metadata.conversation_id``, ``X-Conversation-Id``, or
Open WebUI's ``X-OpenWebUI-Chat-Id``) runs on that conversation's thread: the graph's state
carries over, only what is new goes in, edits and regenerations fork, interrupts resume. Each
test reads the thread back through ``langgraph-sdk`` to check it holds exactly what the client
shows.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import openai
import pytest

from harness.servers import Server, start_proxy
from tests.fake_openai import FakeOpenAI, ToolCall
from tests.integration_tests.conftest import model_context

THREAD = "x-langgraph-thread-id"


def client(proxy_url: str, key: str = "unused") -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=proxy_url, api_key=key, max_retries=0, timeout=60)


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


class Chat:
    """One conversation, as a client holds it: its history, resent in full every turn."""

    def __init__(self, proxy_url: str, model: str, **extra: Any) -> None:
        self.api = client(proxy_url, extra.pop("key", "unused"))
        self.model = model
        self.id = f"conv-{uuid.uuid4()}"
        self.extra = extra
        self.thread: str | None = None

    async def send(
        self, messages: list[dict[str, Any]], *, stream: bool = False, **extra: Any
    ) -> str:
        """The assistant's answer to ``messages`` (the whole history)."""
        body = {"metadata": {"conversation_id": self.id}, **self.extra, **extra}
        raw = await self.api.chat.completions.with_raw_response.create(
            model=self.model, messages=messages, stream=stream, extra_body=body
        )
        found = raw.headers.get(THREAD)
        assert found, "a conversation's response names its thread"
        assert self.thread in (None, found), "one conversation, one thread"
        self.thread = found
        if not stream:
            completion = raw.parse()
            assert completion.choices[0].finish_reason == "stop"
            return completion.choices[0].message.content or ""
        text = ""
        async for chunk in raw.parse():
            if chunk.choices and chunk.choices[0].delta.content:
                text += chunk.choices[0].delta.content
        return text


async def thread_messages(sdk, thread: str) -> list[tuple[str, str]]:
    state = await sdk.threads.get_state(thread)
    return [(m["type"], m["content"]) for m in state["values"]["messages"]]


@pytest.mark.parametrize("stream", [False, True], ids=["not-streamed", "streamed"])
async def test_three_turns_carry_the_state_and_send_only_what_is_new(
    proxy_url: str, sdk, stream: bool
) -> None:
    chat = Chat(proxy_url, "counter")
    history = [user("one")]
    assert await chat.send(history, stream=stream) == "Turn 1: one"
    history += [assistant("Turn 1: one"), user("two")]
    assert await chat.send(history, stream=stream) == "Turn 2: two"
    history += [assistant("Turn 2: two"), user("three")]
    assert await chat.send(history, stream=stream) == "Turn 3: three"
    assert chat.thread is not None
    state = await sdk.threads.get_state(chat.thread)
    assert state["values"]["turns"] == 3
    assert await thread_messages(sdk, chat.thread) == [
        ("human", "one"),
        ("ai", "Turn 1: one"),
        ("human", "two"),
        ("ai", "Turn 2: two"),
        ("human", "three"),
        ("ai", "Turn 3: three"),
    ]
    thread = await sdk.threads.get(chat.thread)
    assert thread["metadata"]["conversation_id"] == chat.id


async def test_regenerate_and_edit_leave_the_thread_as_the_client_shows_it(
    proxy_url: str, sdk
) -> None:
    chat = Chat(proxy_url, "counter")
    await chat.send([user("one")])
    history = [user("one"), assistant("Turn 1: one"), user("two")]
    await chat.send(history)
    # regenerate the last answer: the same history again
    assert await chat.send(history) == "Turn 2: two"
    # edit the last question
    edited = [user("one"), assistant("Turn 1: one"), user("TWO")]
    assert await chat.send(edited) == "Turn 2: TWO"
    assert chat.thread is not None
    assert (await sdk.threads.get_state(chat.thread))["values"]["turns"] == 2
    assert await thread_messages(sdk, chat.thread) == [
        ("human", "one"),
        ("ai", "Turn 1: one"),
        ("human", "TWO"),
        ("ai", "Turn 2: TWO"),
    ]
    # go on from the edited branch, then edit the first message of all
    await chat.send([*edited, assistant("Turn 2: TWO"), user("three")])
    assert await chat.send([user("ONE")]) == "Turn 1: ONE"
    assert await thread_messages(sdk, chat.thread) == [("human", "ONE"), ("ai", "Turn 1: ONE")]


async def test_an_edit_in_the_middle_forks_from_the_turn_before(proxy_url: str, sdk) -> None:
    chat = Chat(proxy_url, "counter")
    history: list[dict[str, Any]] = []
    for word in ("one", "two", "three"):
        history.append(user(word))
        history.append(assistant(await chat.send(history)))
    edited = [*history[:2], user("TWO"), assistant("Turn 2: two"), user("four")]
    # the client shows turn 2's old answer under the edited question: that goes in, with the
    # new question, in one run from the end of turn 1 (so the graph counts one more turn)
    assert await chat.send(edited) == "Turn 2: four"
    assert chat.thread is not None
    assert await thread_messages(sdk, chat.thread) == [
        ("human", "one"),
        ("ai", "Turn 1: one"),
        ("human", "TWO"),
        ("ai", "Turn 2: two"),
        ("human", "four"),
        ("ai", "Turn 2: four"),
    ]


@pytest.mark.parametrize("stream", [False, True], ids=["not-streamed", "streamed"])
async def test_an_interrupt_is_a_question_and_the_next_message_answers_it(
    proxy_url: str, sdk, stream: bool
) -> None:
    chat = Chat(proxy_url, "ask")
    history = [user("Who am I?")]
    assert await chat.send(history, stream=stream) == "What is your name?"
    assert chat.thread is not None
    assert (await sdk.threads.get(chat.thread))["status"] == "interrupted"
    history += [assistant("What is your name?"), user("again")]
    assert await chat.send(history, stream=stream) == "Really, what is your name?"
    history += [assistant("Really, what is your name?"), user("Ann")]
    assert await chat.send(history, stream=stream) == "Hello, Ann! You asked: Who am I?"
    assert (await sdk.threads.get(chat.thread))["status"] == "idle"
    # answer the last question differently: the thread forks at the question
    history[-1] = user("Bob")
    assert await chat.send(history, stream=stream) == "Hello, Bob! You asked: Who am I?"
    assert (await thread_messages(sdk, chat.thread))[-1] == (
        "ai",
        "Hello, Bob! You asked: Who am I?",
    )


async def test_a_dict_interrupt_reads_as_its_question(proxy_url: str) -> None:
    chat = Chat(proxy_url, "ask-dict")
    assert await chat.send([user("pay")]) == "Proceed with the transfer?"
    history = [user("pay"), assistant("Proceed with the transfer?"), user("yes")]
    assert await chat.send(history) == "You said 'yes'."


@pytest.mark.parametrize("stream", [False, True], ids=["not-streamed", "streamed"])
async def test_a_stateless_request_that_hits_an_interrupt_says_how_to_go_on(
    proxy_url: str, stream: bool
) -> None:
    api = client(proxy_url)
    if stream:
        text = ""
        async for chunk in await api.chat.completions.create(
            model="ask", messages=[user("hi")], stream=True
        ):
            text += (chunk.choices[0].delta.content or "") if chunk.choices else ""
    else:
        reply = await api.chat.completions.create(model="ask", messages=[user("hi")])
        assert reply.choices[0].finish_reason == "stop"
        text = reply.choices[0].message.content or ""
    assert text.startswith("What is your name?\n\n")
    assert "conversation_id" in text and "X-Conversation-Id" in text


async def test_the_assistant_remembers_and_asks_before_it_forgets(
    proxy_url: str, sdk, fake_model: FakeOpenAI
) -> None:
    """The agent in agent/: memory in its state across turns, approval through HITL."""
    chat = Chat(proxy_url, "assistant", context=model_context(fake_model))
    fake_model.turns = [[ToolCall("remember", '{"fact": "The user is Ann"}')], ["Noted."]]
    history = [user("I am Ann.")]
    assert await chat.send(history) == "Noted."
    fake_model.turns = [["You ", "are ", "Ann."]]
    history += [assistant("Noted."), user("Who am I?")]
    assert await chat.send(history, stream=True) == "You are Ann."
    system = fake_model.requests[-1]["body"]["messages"][0]
    assert system["role"] == "system" and "- The user is Ann" in system["content"]
    # a sensitive tool: the run stops and asks
    fake_model.turns = [[ToolCall("forget_everything", "{}")], ["All forgotten."]]
    history += [assistant("You are Ann."), user("Forget me.")]
    question = await chat.send(history)
    assert question.startswith("Forget everything I remember about you?")
    assert question.endswith("Reply yes to approve, or no (and why) to reject.")
    assert chat.thread is not None
    assert (await sdk.threads.get_state(chat.thread))["values"]["facts"] == ["The user is Ann"]
    history += [assistant(question), user("yes")]
    assert await chat.send(history) == "All forgotten."
    assert (await sdk.threads.get_state(chat.thread))["values"]["facts"] == []


async def test_rejecting_the_approval_keeps_the_memory(
    proxy_url: str, sdk, fake_model: FakeOpenAI
) -> None:
    chat = Chat(proxy_url, "assistant", context=model_context(fake_model))
    fake_model.turns = [[ToolCall("remember", '{"fact": "Likes tea"}')], ["Noted."]]
    history = [user("I like tea.")]
    await chat.send(history)
    fake_model.turns = [[ToolCall("forget_everything", "{}")], ["Kept it."]]
    history += [assistant("Noted."), user("Forget me.")]
    question = await chat.send(history)
    history += [assistant(question), user("no, keep it")]
    assert await chat.send(history) == "Kept it."
    assert chat.thread is not None
    assert (await sdk.threads.get_state(chat.thread))["values"]["facts"] == ["Likes tea"]
    # the model was told why: the user's words came back with the rejected call
    tool_results = [m for m in fake_model.requests[-1]["body"]["messages"] if m["role"] == "tool"]
    assert "keep it" in tool_results[-1]["content"]


async def test_the_chat_graph_sees_the_whole_conversation_once(
    proxy_url: str, fake_model: FakeOpenAI
) -> None:
    chat = Chat(proxy_url, "chat", context=model_context(fake_model))
    first = await chat.send([user("Hello?")])
    await chat.send([user("Hello?"), assistant(first), user("And now?")])
    sent = [(m["role"], m["content"]) for m in fake_model.requests[-1]["body"]["messages"]]
    assert sent == [("user", "Hello?"), ("assistant", first), ("user", "And now?")]


async def test_a_one_field_graph_works_on_a_thread(proxy_url: str, sdk) -> None:
    chat = Chat(proxy_url, "up-down-game", context={"pace": 0, "seed": 3, "locale": "en"})
    first = await chat.send([user("-1")])
    assert first == "You entered -1, which is less than 0."
    second = await chat.send([user("-1"), assistant(first), user("-5")])
    assert second == "You entered -5, which is less than 0."
    assert chat.thread is not None
    assert (await sdk.threads.get_state(chat.thread))["values"]["input"] == -5


async def test_a_thread_deleted_between_turns_is_made_again(proxy_url: str, sdk) -> None:
    chat = Chat(proxy_url, "counter")
    await chat.send([user("one")])
    assert chat.thread is not None
    await sdk.threads.delete(chat.thread)
    history = [user("one"), assistant("Turn 1: one"), user("two")]
    assert await chat.send(history) == "Turn 1: two"  # a new thread: the whole history went in
    assert await thread_messages(sdk, chat.thread) == [
        ("human", "one"),
        ("ai", "Turn 1: one"),
        ("human", "two"),
        ("ai", "Turn 1: two"),
    ]


async def test_headers_name_conversations_too_and_stateless_stays_stateless(
    proxy_url: str, sdk
) -> None:
    async with httpx.AsyncClient(timeout=60) as http:
        body = {"model": "counter", "messages": [user("one")]}
        stateless = await http.post(proxy_url + "/chat/completions", json=body)
        assert stateless.status_code == 200 and THREAD not in stateless.headers
        conversation = f"conv-{uuid.uuid4()}"
        first = await http.post(
            proxy_url + "/chat/completions", json=body, headers={"X-Conversation-Id": conversation}
        )
        webui = await http.post(
            proxy_url + "/chat/completions",
            json={**body, "stream": True},
            headers={"X-OpenWebUI-Chat-Id": conversation},
        )
        unsaved = await http.post(
            proxy_url + "/chat/completions", json=body, headers={"X-OpenWebUI-Chat-Id": "local:1"}
        )
    assert first.headers[THREAD] and first.headers[THREAD] == webui.headers[THREAD]
    assert THREAD not in unsaved.headers
    assert (await sdk.threads.get_state(first.headers[THREAD]))["values"]["turns"] == 1


async def test_open_webui_side_requests_never_change_the_thread(proxy_url: str, sdk) -> None:
    conversation = f"chat-{uuid.uuid4()}"
    headers = {"X-OpenWebUI-Chat-Id": conversation}
    async with httpx.AsyncClient(timeout=60) as http:
        turn = {"model": "counter", "stream": True, "messages": [user("one")]}
        first = await http.post(proxy_url + "/chat/completions", json=turn, headers=headers)
        thread = first.headers[THREAD]
        for prompt in (
            "### Task:\nGenerate a concise, 3-5 word title ...",
            "### Task:\nGenerate 1-3 broad tags ...",
        ):
            side = {"model": "counter", "stream": False, "messages": [user(prompt)]}
            answer = await http.post(proxy_url + "/chat/completions", json=side, headers=headers)
            assert answer.status_code == 200 and THREAD not in answer.headers
    assert (await sdk.threads.get_state(thread))["values"]["turns"] == 1
    assert await thread_messages(sdk, thread) == [("human", "one"), ("ai", "Turn 1: one")]


async def test_a_message_sent_while_the_last_run_still_runs_replaces_it(
    proxy_url: str, sdk
) -> None:
    """Double texting: the second message is answered at once, not queued behind the first."""
    conversation = {"metadata": {"conversation_id": f"conv-{uuid.uuid4()}"}}
    api = client(proxy_url)
    # a first turn, so that the replaced run is not the thread's first
    history = [user("1"), assistant("0 ")]
    await api.chat.completions.create(model="bench", messages=history[:1], extra_body=conversation)
    slow = {"silence": 300, "silence_after": 1}
    first = asyncio.create_task(
        api.chat.completions.create(
            model="bench",
            messages=[*history, user("3")],
            extra_body={**conversation, "context": slow},
        )
    )
    await asyncio.sleep(1.5)  # the first run is under way (and silent for five minutes)
    async with asyncio.timeout(60):
        second = await api.chat.completions.with_raw_response.create(
            model="bench", messages=[*history, user("2")], extra_body=conversation
        )
    assert second.parse().choices[0].message.content == "0 1 "
    # the replaced run's client is told its answer is incomplete, never given it as complete
    with pytest.raises(openai.APIStatusError) as replaced:
        async with asyncio.timeout(60):
            await first
    assert replaced.value.status_code == 502 and "did not finish" in replaced.value.message
    runs = await sdk.runs.list(second.headers[THREAD])
    assert [run["status"] for run in runs] == ["success", "success"]


@pytest.fixture(scope="module")
def keyed_proxy(langgraph_server: Server, tmp_path_factory: pytest.TempPathFactory):
    """A standalone proxy that asks for one of two API keys."""
    log = tmp_path_factory.mktemp("keyed") / "proxy.log"
    server = start_proxy(log, langgraph_server.url, env={"PROXY_API_KEYS": "key-a,key-b"})
    yield server.url + "/v1"
    server.stop()


async def test_two_keys_never_share_a_thread(keyed_proxy: str, sdk) -> None:
    alice = Chat(keyed_proxy, "counter", key="key-a")
    bob = Chat(keyed_proxy, "counter", key="key-b")
    bob.id = alice.id  # the same conversation id
    assert await alice.send([user("alice")]) == "Turn 1: alice"
    assert await bob.send([user("bob")]) == "Turn 1: bob"
    assert alice.thread and bob.thread and alice.thread != bob.thread
    assert await thread_messages(sdk, alice.thread) == [("human", "alice"), ("ai", "Turn 1: alice")]
    metadata = (await sdk.threads.get(alice.thread))["metadata"]
    assert "key-a" not in str(metadata) and metadata["conversation_id"] == alice.id

"""Conversation bookkeeping without a server: ids, callers, records and replies."""

from __future__ import annotations

from typing import Any

import pytest

from proxy.runs.interrupts import question
from proxy.threads import is_side_request
from proxy.threads.identity import ANONYMOUS, caller, conversation_id, thread_id
from proxy.threads.replies import resume_value
from proxy.threads.turns import Record, digest, match


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text}


def record(messages: list[dict[str, Any]], checkpoint: str, interrupt: bool = False) -> Record:
    return Record(len(messages), digest(messages), checkpoint, interrupt)


def test_conversation_id_sources_in_order() -> None:
    both = {"x-conversation-id": "from-header", "x-openwebui-chat-id": "from-webui"}
    assert conversation_id({"conversation_id": " c1 "}, both) == ("c1", "metadata")
    assert conversation_id({"other": 1}, both) == ("from-header", "header")
    assert conversation_id(None, {"x-openwebui-chat-id": "abc"}) == ("abc", "open-webui")
    assert conversation_id(None, {"x-openwebui-chat-id": "local:abc"}) == (None, "")
    assert conversation_id({"conversation_id": 5}, {}) == (None, "")
    assert conversation_id({"conversation_id": "x" * 9000}, {})[0] == "x" * 512


def test_callers_are_digests_and_threads_are_theirs() -> None:
    a, b = caller("Bearer key-a", keyed=True), caller("Bearer key-b", keyed=True)
    assert a != b and "key-a" not in a and len(a) == 32
    assert caller("Bearer key-a", keyed=False) == ANONYMOUS == caller(None, keyed=True)
    assert thread_id("asst", a, "c") == thread_id("asst", a, "c")
    assert len({thread_id("asst", a, "c"), thread_id("asst", b, "c"), thread_id("x", a, "c")}) == 3


def test_records_match_as_far_as_the_history_agrees() -> None:
    turn1, turn2 = [user("one"), assistant("A1")], [user("two"), assistant("A2")]
    records = [record(turn1, "c1"), record(turn2, "c2")]
    history = [{"role": "system", "content": "today is Monday"}, *turn1, *turn2, user("three")]
    found = match(records, history)
    assert (found.kept, found.new) == (2, [user("three")])
    # regenerate: the last answer is gone, so its record no longer holds
    assert match(records, [*turn1, user("two")]) == match(records[:1], [*turn1, user("two")])
    assert match(records, [*turn1, user("two")]).kept == 1
    # an edit anywhere stops the match there
    assert match(records, [user("ONE"), assistant("A1"), *turn2]).kept == 0
    # system prompts change per request (dates, RAG context): never compared
    assert match(records, [{"role": "system", "content": "Tuesday"}, *turn1, *turn2]).kept == 2


def test_what_clients_fold_into_answers_does_not_break_the_match() -> None:
    shown = (
        '<details type="reasoning" done="true">\n<summary>Thought</summary>\nhmm\n</details>\nA1'
    )
    assert digest([assistant(shown)]) == digest([assistant("A1")])
    assert digest([assistant("A1  \n")]) == digest([assistant(" A1")])
    parts = [{"type": "text", "text": "one"}]
    assert digest([{"role": "user", "content": parts}]) == digest([user("one")])
    image = [*parts, {"type": "image_url", "image_url": {"url": "data:1"}}]
    assert digest([{"role": "user", "content": image}]) != digest([user("one")])


def test_a_stored_record_round_trips_and_junk_is_dropped() -> None:
    kept = record([user("a"), assistant("b")], "ckpt", interrupt=True)
    assert Record.from_json(kept.to_json()) == kept
    assert Record.from_json({"n": "x"}) is None and Record.from_json(None) is None


@pytest.mark.parametrize(
    ("value", "asked"),
    [
        ("What is your name?", "What is your name?"),
        ({"question": "Proceed?", "amount": 10}, "Proceed?"),
        ({"description": "Check this."}, "Check this."),
        ({"a": 1}, '{\n "a": 1\n}'),
        (
            {
                "action_requests": [
                    {"name": "pay", "args": {"to": "Bob"}, "description": "Pay Bob?"},
                    {"name": "log", "args": {}},
                ],
                "review_configs": [],
            },
            "Pay Bob?\n\nRun the tool log with {}?\n\n"
            "Reply yes to approve, or no (and why) to reject.",
        ),
    ],
)
def test_interrupts_read_as_questions(value: Any, asked: str) -> None:
    assert question(value) == asked


BATCHED = {"action_requests": [{"name": "a", "args": {}}, {"name": "b", "args": {}}]}
PER_CALL = {"type": "tool_approval", "name": "a", "args": {}, "tool_call_id": "t"}


@pytest.mark.parametrize(
    ("reply", "decision"),
    [
        ("yes", {"type": "approve"}),
        ("OK!", {"type": "approve"}),
        ("👍", {"type": "approve"}),
        ("no", {"type": "reject"}),
        ("Reject.", {"type": "reject"}),
        ("no, pay Carl instead", {"type": "reject", "message": "no, pay Carl instead"}),
    ],
)
def test_replies_become_decisions(reply: str, decision: dict[str, Any]) -> None:
    assert resume_value(reply, [{"id": "i", "value": BATCHED}]) == {"decisions": [decision] * 2}
    assert resume_value(reply, [{"id": "i", "value": PER_CALL}]) == decision


def test_plain_interrupts_get_the_text_and_several_are_answered_by_id() -> None:
    assert resume_value("Ann", [{"id": "i", "value": "Name?"}]) == "Ann"
    assert resume_value("Ann", []) == "Ann"
    both = [{"id": "i1", "value": "Name?"}, {"id": "i2", "value": PER_CALL}]
    assert resume_value("yes", both) == {"i1": "yes", "i2": {"type": "approve"}}


def test_open_webui_side_requests_are_told_apart() -> None:
    title = [user("### Task:\nGenerate a concise title")]
    assert is_side_request(title, stream=False, source="open-webui")
    assert is_side_request(title, stream=True, source="open-webui")
    assert is_side_request([user("hi")], stream=False, source="open-webui")
    assert not is_side_request([user("hi")], stream=True, source="open-webui")
    assert not is_side_request(title, stream=False, source="metadata")

"""The up-down game's logic, with no delay and a fixed seed."""

from __future__ import annotations

from typing import Any

import pytest

from agent.up_down_game import WORDING, Context, graph, parse_input


async def run(number: Any, **context: Any) -> tuple[list[Any], dict[str, Any]]:
    """Stream one run; return the custom chunks and the final state."""
    chunks: list[Any] = []
    final: dict[str, Any] = {}
    async for mode, data in graph.astream(
        {"input": number},
        context=Context(**{"pace": 0, **context}),
        stream_mode=["custom", "values"],
    ):
        if mode == "custom":
            chunks.append(data)
        else:
            final = data
    return chunks, final


def texts(chunks: list[dict[str, str]], kind: str) -> list[str]:
    return [c["text"] for c in chunks if c["type"] == kind]


async def test_negative_input_answers_at_once() -> None:
    chunks, state = await run(-5, seed=1)
    assert chunks == [
        {"type": "progress", "text": "사용자의 입력 : -5\n"},
        {"type": "answer", "text": "사용자가 "},
        {"type": "answer", "text": "입력한 "},
        {"type": "answer", "text": "-5"},
        {"type": "answer", "text": "은(는) "},
        {"type": "answer", "text": "0보다"},
        {"type": "answer", "text": " "},
        {"type": "answer", "text": "작습니다."},
    ]
    assert state["response"] == "사용자가 입력한 -5은(는) 0보다 작습니다."
    assert state["count"] == 0


async def test_loop_draws_until_a_value_is_below_the_input() -> None:
    chunks, state = await run(50, seed=7)
    progress = texts(chunks, "progress")
    answer = texts(chunks, "answer")
    assert progress[0] == "사용자의 입력 : 50\n"
    draws = progress[1:]
    assert len(draws) == state["count"] >= 1
    values = [int(line.rsplit(":", 1)[1]) for line in draws]
    assert all(1 <= v <= 100 for v in values)
    assert all(v >= 50 for v in values[:-1]) and values[-1] < 50
    for index, line in enumerate(draws, start=1):
        assert line == f"임의의 숫자 생성 ({index}회차) : {values[index - 1]}\n"
    assert answer == [f"{state['count']} ", "번 ", "반복 ", "실행됐", "습니다."]
    assert state["response"] == "".join(answer)
    assert state["value"] == values[-1]
    # progress comes strictly before the answer
    kinds = [c["type"] for c in chunks]
    assert kinds == ["progress"] * len(progress) + ["answer"] * len(answer)


async def test_same_seed_same_run_other_seed_other_run() -> None:
    first, _ = await run(90, seed=123)
    again, _ = await run(90, seed=123)
    assert first == again
    runs = {str((await run(5, seed=s))[0]) for s in range(6)}
    assert len(runs) > 1


async def test_draw_limit_stops_a_run_that_cannot_end() -> None:
    chunks, state = await run(1, seed=3, max_draws=25)  # nothing drawn is below 1
    assert state["count"] == 25
    assert len(texts(chunks, "progress")) == 26
    assert state["response"] == "최대 25번 반복했지만 조건을 만족하지 못했습니다."


async def test_default_draw_limit_is_1000() -> None:
    assert Context().max_draws == 1000
    _, state = await run(0, seed=3)
    assert state["count"] == 1000


async def test_english_wording() -> None:
    chunks, state = await run(-2, locale="en")
    assert texts(chunks, "progress") == ["User input: -2\n"]
    assert state["response"] == "You entered -2, which is less than 0."
    chunks, state = await run(101, locale="en", seed=1)
    assert texts(chunks, "progress")[1] == f"Random number (draw 1): {state['value']}\n"
    assert state["response"] == f"Finished after {state['count']} draw(s)."


@pytest.mark.parametrize("bad", ["abc", 1.5, True, None, "", [1]])
async def test_non_integer_input_is_a_value_error(bad: Any) -> None:
    with pytest.raises(ValueError, match="input must be an integer"):
        await run(bad)


async def test_integer_string_is_accepted() -> None:
    assert parse_input(" 42 ") == 42
    _, state = await run("-1")
    assert state["input"] == -1


@pytest.mark.parametrize("context", [{"locale": "fr"}, {"pace": -1}, {"max_draws": 0}])
async def test_invalid_context_is_a_value_error(context: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        await run(5, **context)


async def test_pace_sleeps_without_blocking(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr("agent.up_down_game.asyncio.sleep", fake_sleep)
    await run(-1, pace=1.0, seed=4)
    # one pause before routing, then one between each of the 7 answer pieces
    assert len(slept) == 1 + 6
    assert 0.2 <= slept[0] <= 1.5
    assert all(0.1 <= s <= 1.0 for s in slept[1:])
    slept.clear()
    await run(-1, pace=0.5, seed=4)
    assert 0.1 <= slept[0] <= 0.75


def test_input_schema_for_studio_is_an_integer_form() -> None:
    schema = graph.get_input_jsonschema()
    assert schema["properties"]["input"]["type"] == "integer"
    assert schema["required"] == ["input"]
    assert set(WORDING) == {"ko", "en"}

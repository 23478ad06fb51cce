"""The graphs as `langgraph dev` serves them, through the LangGraph SDK (Studio's view too)."""

from __future__ import annotations

import subprocess
import time

import httpx

from harness.servers import BIN, OFFLINE_ENV, ROOT


async def test_assistants_search_lists_the_graphs(sdk) -> None:
    names = {a["name"] for a in await sdk.assistants.search(limit=100)}
    assert {"up-down-game", "bench"} <= names


async def test_input_schema_studio_reads_is_an_integer(sdk) -> None:
    (assistant,) = [
        a
        for a in await sdk.assistants.search(graph_id="up-down-game")
        if a["name"] == "up-down-game"
    ]
    schemas = await sdk.assistants.get_schemas(assistant["assistant_id"])
    assert schemas["input_schema"]["properties"]["input"]["type"] == "integer"
    assert "input" in schemas["input_schema"]["required"]
    context = schemas["context_schema"]["properties"]
    assert {"locale", "pace", "seed", "max_draws"} <= set(context)
    graph = await sdk.assistants.get_graph(assistant["assistant_id"])
    assert {n["id"] for n in graph["nodes"]} >= {"read_input", "generate", "terminate"}


async def test_custom_stream_arrives_incrementally(sdk) -> None:
    """Chunks come one by one while the run is still going (pace > 0), in order."""
    arrivals: list[tuple[float, object]] = []
    async for part in sdk.runs.stream(
        None,
        "up-down-game",
        input={"input": -7},
        stream_mode="custom",
        context={"pace": 0.2, "seed": 1},
    ):
        if part.event == "custom":
            arrivals.append((time.monotonic(), part.data))
    texts = [data["text"] for _, data in arrivals]
    assert texts == [
        "사용자의 입력 : -7\n",
        "사용자가 ",
        "입력한 ",
        "-7",
        "은(는) ",
        "0보다",
        " ",
        "작습니다.",
    ]
    # 7 pauses of >= 0.02 s between them: the chunks did not arrive in one lump
    assert arrivals[-1][0] - arrivals[0][0] > 0.1
    assert len({round(t, 2) for t, _ in arrivals}) > 3


async def test_runs_wait_returns_the_response(sdk) -> None:
    state = await sdk.runs.wait(
        None, "up-down-game", input={"input": 30}, context={"pace": 0, "seed": 5, "locale": "en"}
    )
    assert state["response"].startswith("Finished after ")
    assert state["response"] == f"Finished after {state['count']} draw(s)."


async def test_non_integer_input_fails_the_run_with_a_clear_message(sdk) -> None:
    events = [
        part
        async for part in sdk.runs.stream(
            None, "up-down-game", input={"input": "abc"}, stream_mode="custom", context={"pace": 0}
        )
    ]
    errors = [p.data for p in events if p.event == "error"]
    assert errors and errors[0]["error"] == "ValueError"
    assert "input must be an integer" in errors[0]["message"]


def test_studio_endpoints_answer(langgraph_server) -> None:
    """What Studio calls first: server info, assistants search, the docs."""
    info = httpx.get(langgraph_server.url + "/info", timeout=10)
    assert info.status_code == 200
    found = httpx.post(langgraph_server.url + "/assistants/search", json={"limit": 10}, timeout=10)
    assert found.status_code == 200 and found.json()


def test_langgraph_validate() -> None:
    result = subprocess.run(
        [str(BIN / "langgraph"), "validate"],
        cwd=ROOT,
        env={**OFFLINE_ENV, "PATH": str(BIN) + ":/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr

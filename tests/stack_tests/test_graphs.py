"""The up-down game, the chat graph and the agent through every proxy of the stack.

Each graph runs on the production runtime here: API-only processes take the request, a queue
worker executes the run (another process), and its stream reaches the client through Redis.
Every test runs through both standalone proxies and the proxy mounted in an API process.
"""

from __future__ import annotations

import pytest

from stack.topology import Deployment
from tests.clients import ANSWER, FAST_EN, PROGRESS
from tests.fake_openai import FakeOpenAI, ToolCall
from tests.stack_tests.chat import complete, stream

VIA = ["proxy-1", "proxy-2", "mounted"]
CALC = ToolCall("calculator", '{"expression": "2 + 3 * 4"}')
AGENT_ANSWER = ["The ", "answer ", "is ", "14."]


def base_url(deployment: Deployment, via: str) -> str:
    """The OpenAI base URL of a standalone proxy, or of the proxy mounted in ``api-1``."""
    if via == "mounted":
        return deployment.front[0].url + "/v1"
    return next(proxy.url for proxy in deployment.proxies if proxy.name == via) + "/v1"


@pytest.mark.parametrize("via", VIA)
async def test_the_up_down_game_streams(main: Deployment, via: str) -> None:
    answer = await stream(
        base_url(main, via), "up-down-game", [{"role": "user", "content": "-9"}], context=FAST_EN
    )
    assert answer.content == ANSWER
    assert answer.reasoning == PROGRESS
    assert answer.finishes == ["stop"]
    assert main.executor_of(answer.run_id) in main.executing


@pytest.mark.parametrize("via", VIA)
async def test_the_up_down_game_answers_not_streaming(main: Deployment, via: str) -> None:
    _, reply = await complete(
        base_url(main, via), "up-down-game", [{"role": "user", "content": "-9"}], context=FAST_EN
    )
    assert reply.choices[0].message.content == ANSWER
    assert reply.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("via", VIA)
async def test_the_chat_graph_streams_the_models_reply(
    main: Deployment, fake_model: FakeOpenAI, via: str
) -> None:
    answer = await stream(base_url(main, via), "chat", [{"role": "user", "content": "Hello?"}])
    assert answer.content == fake_model.reply
    assert answer.finishes == ["stop"]
    assert fake_model.requests[-1]["body"]["messages"][-1]["content"] == "Hello?"


@pytest.mark.parametrize("via", VIA)
async def test_the_agent_calls_its_tool_then_answers(
    main: Deployment, fake_model: FakeOpenAI, via: str
) -> None:
    fake_model.turns = [[CALC], AGENT_ANSWER]
    answer = await stream(
        base_url(main, via), "assistant", [{"role": "user", "content": "What is 2 + 3 * 4?"}]
    )
    assert answer.content == "".join(AGENT_ANSWER)
    assert "calculator" in answer.reasoning and "14" in answer.reasoning
    assert answer.finishes == ["stop"]

"""One ``langgraph dev`` (proxy mounted) and one standalone proxy for the whole session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langgraph_sdk import get_client

from harness.servers import Server, start_langgraph, start_proxy
from tests.fake_openai import FakeOpenAI, serve_fake_openai


@pytest.fixture(scope="session")
def langgraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_langgraph(tmp_path_factory.mktemp("langgraph") / "server.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def standalone_proxy(
    langgraph_server: Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    server = start_proxy(tmp_path_factory.mktemp("proxy") / "proxy.log", langgraph_server.url)
    yield server
    server.stop()


@pytest.fixture(params=["mounted", "standalone"])
def proxy_url(request: pytest.FixtureRequest, langgraph_server: Server) -> str:
    """The OpenAI base URL, for the proxy mounted in langgraph dev and for the standalone one."""
    if request.param == "mounted":
        return langgraph_server.url + "/v1"
    return request.getfixturevalue("standalone_proxy").url + "/v1"


@pytest.fixture
def sdk(langgraph_server: Server):
    return get_client(url=langgraph_server.url, api_key=None)


@pytest.fixture(scope="session")
def fake_upstream() -> Iterator[FakeOpenAI]:
    """A fake OpenAI-compatible model server for the graphs that call one (the session's)."""
    with serve_fake_openai() as server:
        yield server


@pytest.fixture
def fake_model(fake_upstream: FakeOpenAI) -> FakeOpenAI:
    """The session's fake model with default knobs and empty records."""
    fake_upstream.reset()
    return fake_upstream


def model_context(fake: FakeOpenAI, **overrides: Any) -> dict[str, Any]:
    """A run's context pointing ``chat`` or ``assistant`` at the fake: no retries, short timeout."""
    return {
        "model": "fake-model",
        "base_url": fake.url,
        "max_retries": 0,
        "timeout": 10,
        **overrides,
    }

"""One ``langgraph dev`` (proxy mounted) and one standalone proxy for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from langgraph_sdk import get_client

from harness.servers import Server, start_langgraph, start_proxy


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

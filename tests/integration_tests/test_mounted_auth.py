"""With PROXY_API_KEYS set, the mounted proxy guards /v1 only: Studio's API stays as it was."""

from __future__ import annotations

import httpx
import openai
import pytest

from harness.servers import start_langgraph


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory):
    server = start_langgraph(
        tmp_path_factory.mktemp("keyed") / "server.log",
        jobs=4,
        env={"PROXY_API_KEYS": "key-one,key-two"},
    )
    yield server
    server.stop()


def test_v1_needs_a_key_and_platform_routes_do_not(keyed_server) -> None:
    base = keyed_server.url
    denied = httpx.get(base + "/v1/models", timeout=10)
    assert denied.status_code == 401
    assert denied.headers["www-authenticate"].startswith("Bearer")
    assert denied.json()["error"]["code"] == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=base + "/v1", api_key="wrong", max_retries=0).models.list()
    models = openai.OpenAI(base_url=base + "/v1", api_key="key-two", max_retries=0).models.list()
    assert "up-down-game" in [m.id for m in models]
    # the platform's own routes (what Studio and the SDK call) are untouched
    assert httpx.get(base + "/ok", timeout=10).status_code == 200
    assert httpx.get(base + "/info", timeout=10).status_code == 200
    found = httpx.post(base + "/assistants/search", json={"limit": 5}, timeout=10)
    assert found.status_code == 200 and found.json()
    assert httpx.get(base + "/healthz", timeout=10).status_code == 200

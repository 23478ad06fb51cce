"""Deployments on one Postgres cluster and one Redis server share neither database nor Redis DB.

Run by hand, a queue worker of one deployment claimed another's runs: they shared a
database. Here ``other`` has an API process and no worker; ``main``'s workers, woken by every
run on the server (Redis pub/sub channels are server-wide), must never claim its run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from langgraph_sdk import get_client

from stack.topology import Deployment, Layout
from tests.stack_tests.chat import stream
from tests.stack_tests.fixtures import HEARTBEAT, Deployments

CONTEXT = {"silence": 0.0}


def where(uri: str) -> tuple[str, str]:
    """The server (host:port) and the database (name, or Redis DB number) of a URI."""
    parts = urlsplit(uri)
    return parts.netloc.rsplit("@", 1)[-1], parts.path.lstrip("/")


@pytest.fixture
def other(deployments: Deployments) -> Iterator[Deployment]:
    """A second deployment on the same servers: an API process, no worker, no proxy."""
    layout = Layout(servers=0, api_only=1, proxies=0, heartbeat=HEARTBEAT, test_graphs=True)
    deployment = deployments.new("other", layout)
    yield deployment
    deployment.stop()


async def test_no_worker_claims_another_deployments_run(
    main: Deployment, other: Deployment
) -> None:
    # the same Postgres cluster and Redis server, but a database and a Redis DB each
    assert where(other.database_uri)[0] == where(main.database_uri)[0]
    assert where(other.redis_uri)[0] == where(main.redis_uri)[0]
    assert where(other.database_uri)[1] != where(main.database_uri)[1]
    assert where(other.redis_uri)[1] != where(main.redis_uri)[1]

    sdk = get_client(url=other.front[0].url)
    thread = await sdk.threads.create()
    run = await sdk.runs.create(thread["thread_id"], "bench", input={"chunks": 3})
    try:
        # several sweeps and wake-ups of main's workers, and a run of main's own meanwhile
        answer = await stream(
            main.proxies[0].url + "/v1", "bench", [{"role": "user", "content": "3"}]
        )
        assert answer.content == "0 1 2 "
        await asyncio.sleep(3 * HEARTBEAT)
        assert (await sdk.runs.get(thread["thread_id"], run["run_id"]))["status"] == "pending"
        assert main.executor_of(run["run_id"]) is None
        # the thread is other's only
        with pytest.raises(httpx.HTTPStatusError) as missing:
            await get_client(url=main.front[0].url).threads.get(thread["thread_id"])
        assert missing.value.response.status_code == 404
    finally:
        await sdk.runs.cancel(thread["thread_id"], run["run_id"])


def test_every_deployment_of_the_session_had_its_own_database_and_redis_db(
    deployments: Deployments, other: Deployment
) -> None:
    databases = [where(d.database_uri)[1] for d in deployments.made]
    redis_dbs = [where(d.redis_uri)[1] for d in deployments.made]
    assert len(set(databases)) == len(databases) == len(set(redis_dbs))

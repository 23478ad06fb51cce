"""Fixtures of the stack tier: Postgres, Redis, deployments on them, the fake model.

One Postgres cluster and one Redis server for the session (``stack.services``); every
deployment gets a database and a Redis DB number of its own (:class:`Deployments`), so no
two deployments, and no two tests that make their own, share either. ``main`` is the
session's shared deployment, the licensed runtime's production shape: two API-only processes
(a proxy in front of each, the proxy also mounted in each), two queue workers executing runs,
a short heartbeat so that a dead worker's run is retried within seconds. Tests that stop,
kill or pause its processes leave it whole again (:func:`restore`).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from stack.services import Postgres, Redis, Unavailable
from stack.topology import Deployment, Layout
from tests.fake_openai import FakeOpenAI

HEARTBEAT = 2.0
"""``LG_BG_JOB_HEARTBEAT`` of the test deployments: a dead process's run is retried in ~4-8 s."""
MAIN_JOBS = 4
"""Runs each queue worker of ``main`` executes at once; the tests stay well below 2 x this."""


@dataclass
class Services:
    """The session's Postgres cluster and Redis server."""

    postgres: Postgres
    redis: Redis


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    """Start them, or skip the tier saying what is missing (fail if ``STACK_TESTS_REQUIRED``)."""
    try:
        postgres, redis = Postgres(), Redis()
    except Unavailable as exc:
        reason = f"the stack tier needs Postgres and Redis: {exc}"
        if os.environ.get("STACK_TESTS_REQUIRED"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    try:
        postgres.start()
        redis.start()
        yield Services(postgres, redis)
    finally:
        redis.stop()
        postgres.stop()


class Deployments:
    """Makes deployments, each with a database and a Redis DB of its own; stops them all."""

    def __init__(self, services: Services, base: Path) -> None:
        """Nothing made yet."""
        self.services = services
        self.base = base
        self.made: list[Deployment] = []

    def new(self, name: str, layout: Layout) -> Deployment:
        """Start a deployment called ``name`` laid out as ``layout``."""
        number = len(self.made) + 1  # Redis DB 0 stays unused
        database = f"{name.replace('-', '_')}_{number}"
        deployment = Deployment(
            name,
            self.services.postgres.create_database(database),
            self.services.redis.uri(number),
            layout,
            self.base / f"{number}-{name}",
        )
        self.made.append(deployment)
        return deployment.start()

    def stop_all(self) -> None:
        """Stop every deployment still running."""
        for deployment in self.made:
            deployment.stop()


@pytest.fixture(scope="session")
def deployments(
    services: Services, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployments]:
    """The session's deployment maker (their logs stay under pytest's temporary directory)."""
    made = Deployments(services, tmp_path_factory.mktemp("deployments"))
    yield made
    made.stop_all()


def model_env(fake: FakeOpenAI) -> dict[str, str]:
    """The graphs' model settings, pointing at the fake (no retries: an error is an error)."""
    return {
        "CHAT_MODEL": "fake-model",
        "CHAT_BASE_URL": fake.url,
        "CHAT_MAX_RETRIES": "0",
        "CHAT_TIMEOUT": "20",
    }


def restore(deployment: Deployment) -> None:
    """Resume paused processes, start dead ones: the deployment whole again."""
    for process in (*deployment.servers, *deployment.proxies):
        if process.running():
            process.signal(signal.SIGCONT)
        else:
            process.restart()


@pytest.fixture(scope="session")
def main_deployment(deployments: Deployments, fake_upstream: FakeOpenAI) -> Deployment:
    """The session's shared deployment (the module docstring)."""
    layout = Layout(
        servers=0,
        api_only=2,
        queue_workers=2,
        proxies=2,
        jobs=MAIN_JOBS,
        heartbeat=HEARTBEAT,
        test_graphs=True,
        env=model_env(fake_upstream),
    )
    return deployments.new("main", layout)


@pytest.fixture
def main(main_deployment: Deployment) -> Iterator[Deployment]:
    """``main``, whole when the test starts and again after it."""
    restore(main_deployment)
    yield main_deployment
    restore(main_deployment)

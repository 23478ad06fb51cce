"""The stack tier (``make test-stack``): only in the stack's own venv, never in ``make test``.

``make test`` (``.venv``) collects nothing here: this tier needs the open runtime, mirakuru
and pytest-postgresql, which live in ``.tools/stack-venv`` only, and takes minutes.
``make test-stack`` makes that venv and runs these tests in it; where Postgres or Redis cannot
be had (no binaries, no user to run Postgres as), they skip and say why (or fail, with
``STACK_TESTS_REQUIRED=1``, as CI should).
"""

from __future__ import annotations

import importlib.util

import pytest

IN_STACK_VENV = all(
    importlib.util.find_spec(name) is not None
    for name in ("langgraph_runtime_pg", "mirakuru", "pytest_postgresql", "pytest_redis")
)

if IN_STACK_VENV:
    from tests.stack_tests.fixtures import (  # noqa: F401 - fixtures, found by pytest by name
        deployments,
        main,
        main_deployment,
        services,
    )
else:
    collect_ignore_glob = ["test_*.py"]


def pytest_report_header(config: pytest.Config) -> str | None:
    """Say why nothing ran when someone points the project's pytest here."""
    if IN_STACK_VENV:
        return None
    return "tests/stack_tests: not collected outside the stack venv (run `make test-stack`)"

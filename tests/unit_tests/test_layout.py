"""The layout the README promises: who may import whom, and small files on the request path."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 250
"""No file of the proxy (the request path) is longer than this."""


def imported_packages(package: str) -> set[str]:
    names: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    ("package", "others", "uses"),
    [
        # the agent and the proxy share data (the contract), never code
        ("agent", {"proxy", "harness", "bench", "tests"}, "langgraph"),
        ("proxy", {"agent", "harness", "bench", "tests"}, "langgraph_sdk"),
        # the tests and the benchmark share the harness, never each other
        ("bench", {"tests"}, "harness"),
        ("harness", {"tests", "bench"}, "agent"),
    ],
)
def test_packages_do_not_import_each_other(package: str, others: set[str], uses: str) -> None:
    imports = imported_packages(package)
    assert uses in imports  # the walk does see the package's imports
    assert not imports & others


def test_no_proxy_file_is_long() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in (ROOT / "proxy").rglob("*.py")
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"split these files (over {MAX_LINES} lines): {long}"

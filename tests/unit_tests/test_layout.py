"""The agent and the proxy share data (the chunk contract), never code."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


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
    ("package", "other", "uses"),
    [("agent", "proxy", "langgraph"), ("proxy", "agent", "langgraph_sdk")],
)
def test_packages_do_not_import_each_other(package: str, other: str, uses: str) -> None:
    imports = imported_packages(package)
    assert uses in imports  # the walk does see the package's imports
    assert other not in imports

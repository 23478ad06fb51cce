"""The stack's own environment: its pins, and the lifespan shim it still needs.

No server here: these check ``stack/requirements.txt`` against the project and the installed
venv, and ask ``langgraph-api`` directly whether its ``http.app`` lifespan is still broken on
the open runtime (the day it is not, the shim goes: ``stack/lifespan_shim.py``).
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib.metadata import requires, version

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from harness.servers import ROOT
from stack.venv import REQUIREMENTS, VENV

PROJECT = "langgraph-openai-proxy"


def pins() -> dict[str, tuple[str, Requirement]]:
    """Every pin of ``stack/requirements.txt``: name -> (version, the requirement line)."""
    found: dict[str, tuple[str, Requirement]] = {}
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "-")):
            requirement = Requirement(line)
            (specifier,) = requirement.specifier
            found[canonicalize_name(requirement.name)] = (specifier.version, requirement)
    return found


def applies(requirement: Requirement, extras: tuple[str, ...] = ("",)) -> bool:
    """Whether ``requirement`` applies on this machine (its environment marker)."""
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({"extra": extra}) for extra in extras)


def test_the_stack_runs_in_its_own_venv() -> None:
    assert sys.prefix == str(VENV.path)


def test_langgraph_api_is_the_runtimes_exact_pin() -> None:
    runtime_wants = [
        Requirement(line)
        for line in requires("langgraph-runtime-pg") or []
        if Requirement(line).name == "langgraph-api"
    ]
    assert [str(r.specifier) for r in runtime_wants] == ["==0.11.1"]
    assert pins()["langgraph-api"][0] == version("langgraph-api") == "0.11.1"
    assert pins()["langhost"][0] == pins()["langgraph-runtime-pg"][0] == "0.11.1.post1"


def test_the_pins_satisfy_the_projects_dependencies() -> None:
    """The graphs' and the proxy's requirements (pyproject.toml) hold in the stack's venv."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["proxy"]]
    pinned = pins()
    unmet = []
    for line in wanted:
        requirement = Requirement(line)
        if requirement.name == PROJECT or not applies(requirement):
            continue
        name = canonicalize_name(requirement.name)
        if name not in pinned or not requirement.specifier.contains(pinned[name][0]):
            unmet.append(f"{line} (pinned: {pinned.get(name, ('none',))[0]})")
    assert not unmet, f"stack/requirements.txt is stale, run `make stack-lock`: {unmet}"


def test_the_venv_holds_the_pins() -> None:
    """What is installed is what is pinned (the hash stamp remade the venv when pins moved)."""
    wrong = {
        name: (pinned, version(name))
        for name, (pinned, requirement) in pins().items()
        if applies(requirement) and version(name) != pinned
    }
    assert not wrong


CHECK_LIFESPAN = """
import asyncio, os
os.environ.setdefault("LANGGRAPH_RUNTIME_EDITION", "pg")
from langgraph_api.middleware.ensure_store import EnsureStoreAccessible
if {shim}:
    import stack.lifespan_shim  # noqa
reached = []
async def inner(scope, receive, send):
    reached.append(scope["type"])
async def main():
    await EnsureStoreAccessible(inner)({{"type": "lifespan"}}, None, None)
try:
    asyncio.run(main())
    print("passed" if reached == ["lifespan"] else "not passed on")
except RuntimeError as exc:
    print("raised", exc)
"""


def lifespan_call(shim: bool) -> str:
    """What ``EnsureStoreAccessible`` does with a ``lifespan`` call before the pool exists."""
    done = subprocess.run(
        [sys.executable, "-c", CHECK_LIFESPAN.format(shim=shim)],
        cwd=ROOT,
        env={"DATABASE_URI": "postgresql://unused", "REDIS_URI": "redis://unused", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_the_lifespan_shim_is_still_needed() -> None:
    """Fails the day a release lets the lifespan through: then delete the shim."""
    outcome = lifespan_call(shim=False)
    assert outcome.startswith("raised") and "store" in outcome.lower(), (
        f"langgraph-api's EnsureStoreAccessible no longer breaks the lifespan ({outcome!r}): "
        "delete stack/lifespan_shim.py and point http.app back at the repository's app"
    )


def test_the_shim_lets_the_lifespan_through() -> None:
    assert lifespan_call(shim=True) == "passed"

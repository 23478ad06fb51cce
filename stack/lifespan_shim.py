"""The ``http.app`` the stack's servers mount: this repository's app, behind a lifespan fix.

``langgraph-api`` 0.11.1 wraps a custom ``http.app`` in ``EnsureStoreAccessible``, which asks
for the store on every ASGI call, the ``lifespan`` one included. On the open Postgres runtime
(``langgraph-runtime-pg`` 0.11.1.post1) the store exists only once the lifespan has opened the
pool, so the lifespan call raises, uvicorn reports "ASGI 'lifespan' protocol appears
unsupported", the pool never opens and every request is a 500. Here the lifespan call skips
that middleware (it only sets a context variable for requests). The fix is in langhost's
repository but in no release: delete this module, and the line of ``stack/topology.py`` that
points ``http.app`` here (``SHIM_APP``), when a release carries it
(``tests/stack_tests/test_environment.py`` says when).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
from pathlib import Path
from typing import Any

from langgraph_api.middleware import ensure_store
from starlette.types import Receive, Scope, Send

from stack import HTTP_APP_ENV

_store_aware_call = ensure_store.EnsureStoreAccessible.__call__


async def _call(self: Any, scope: Scope, receive: Receive, send: Send) -> None:
    """Let the lifespan through untouched; everything else as before."""
    if scope["type"] == "lifespan":
        await self.app(scope, receive, send)
        return
    await _store_aware_call(self, scope, receive, send)


def load(spec: str) -> Any:
    """The object ``spec`` names, the way ``langgraph-api`` loads ``http.app``."""
    path, name = spec.rsplit(":", 1)
    if path.endswith(".py"):
        module_spec = importlib.util.spec_from_file_location("stack_wrapped_http_app", path)
        if module_spec is None or module_spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(path)
    return getattr(module, name)


def wrapped_spec() -> str:
    """``STACK_HTTP_APP``, else the ``http.app`` of the ``langgraph.json`` in the cwd."""
    spec = os.environ.get(HTTP_APP_ENV)
    if spec:
        return spec
    config = json.loads(Path("langgraph.json").read_text())
    return str(config["http"]["app"])


ensure_store.EnsureStoreAccessible.__call__ = _call
app = load(wrapped_spec())

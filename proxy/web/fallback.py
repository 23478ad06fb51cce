"""Unknown ``/v1`` paths and methods: OpenAI's 404 envelope, never Starlette's ``detail``.

A catch-all route would shadow every route registered after it. This one steps aside for any
later route that fully matches the request, so routers can be added in any order.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Match, Mount
from starlette.types import Receive, Scope, Send

from proxy.web.errors import not_found


def _route_path(scope: Scope) -> str:
    """The path below the app's root path (as Starlette's router matches it)."""
    path, root = str(scope.get("path", "")), str(scope.get("root_path", ""))
    return path[len(root) :] if root and path.startswith(root) else path


class V1Fallback(BaseRoute):
    """Answers ``/v1/...`` requests that no route of the app serves."""

    def __init__(self, prefix: str = "/v1/") -> None:
        """Serve paths under ``prefix``."""
        self.prefix = prefix

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """A full match for a ``/v1`` request unless a route after this one takes it."""
        if scope["type"] != "http" or not _route_path(scope).startswith(self.prefix):
            return Match.NONE, {}
        router = scope.get("router")
        routes: list[BaseRoute] = list(getattr(router, "routes", ()))
        later = routes[routes.index(self) + 1 :] if self in routes else []
        for route in later:
            # mounted in the LangGraph server, its routes sit behind a catch-all Mount("")
            if isinstance(route, Mount) and not route.path:
                continue
            if route.matches(scope)[0] is Match.FULL:
                return Match.NONE, {}
        return Match.FULL, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the 404 envelope."""
        method, path = scope.get("method", "GET"), scope.get("path", "")
        response = not_found(f"Invalid URL ({method} {path})", code="unknown_url").response()
        await response(scope, receive, send)

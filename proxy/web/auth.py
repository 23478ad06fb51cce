"""API-key check for the proxy's routes, as a dependency (never global middleware).

Mounted in the LangGraph server through ``http.app``, the proxy's middleware would wrap every
platform route; a dependency guards only ``/v1``.
"""

from __future__ import annotations

import hmac
import logging

from fastapi import Request

from proxy.settings import Settings
from proxy.web.errors import ProxyError

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
"""Hosts whose server is reachable from this machine only (no key needed there)."""


def warn_if_open(settings: Settings, host: str | None, where: str) -> None:
    """Log a warning when ``/v1`` needs no key and ``host`` is reachable from elsewhere."""
    if not settings.api_keys and host is not None and host not in LOOPBACK:
        logging.getLogger("proxy").warning(
            "No PROXY_API_KEYS set and %s is reachable: anyone who can reach it can run "
            "your graphs.",
            where,
        )


async def check_api_key(request: Request) -> None:
    """Accept the request if no keys are configured or its Bearer token matches one.

    Async, so FastAPI runs it on the event loop instead of a worker thread.
    """
    settings: Settings = request.app.state.proxy_settings
    if not settings.api_keys:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    supplied = token.strip().encode() if scheme.lower() == "bearer" else b""
    matched = False
    for key in settings.api_keys:
        # compare against every key, so timing says nothing about which one (or whether any) matched
        matched |= hmac.compare_digest(supplied, key.get_secret_value().encode())
    if not supplied or not matched:
        raise ProxyError(
            401,
            "Invalid or missing API key: send 'Authorization: Bearer <key>'.",
            code="invalid_api_key",
            headers={"WWW-Authenticate": 'Bearer realm="openai-proxy"'},
        )

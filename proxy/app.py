"""The FastAPI app, runnable standalone (``python -m proxy``) or mounted in ``langgraph dev``.

``langgraph.json`` mounts :data:`app` through ``http.app``: its routes then sit beside the
platform's, so it adds no middleware of its own unless CORS is configured, and it uses
``lifespan=`` as the platform requires.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware

from proxy.errors import ProxyError, proxy_error_handler, validation_error_handler
from proxy.routes import RUN_ID_HEADER, router, v1
from proxy.settings import Settings, get_settings
from proxy.upstream import InlineJSONExecutor, Upstream

logger = logging.getLogger("proxy")

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
"""Hosts whose server is reachable from this machine only (no key needed there)."""


def create_app(settings: Settings | None = None, upstream: Upstream | None = None) -> FastAPI:
    """Build the app; ``upstream`` lets unit tests inject a fake LangGraph client."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.proxy_settings = settings
        if settings.langgraph_url:
            # standalone: this loop is the proxy's (mounted, it is the platform's: left alone)
            asyncio.get_running_loop().set_default_executor(InlineJSONExecutor())
        if upstream is None:
            app.state.openai_proxy = Upstream(settings)
        where = settings.langgraph_url or "this LangGraph server (in-process)"
        served = os.environ.get("LANGGRAPH_API_URL")
        logger.info(
            "OpenAI-compatible API%s -> %s",
            f" at {served}/v1" if served and not settings.langgraph_url else "",
            where,
        )
        host = urlsplit(served).hostname if served else None
        if not settings.api_keys and host is not None and host not in LOOPBACK:
            logger.warning("No PROXY_API_KEYS set and %s is reachable: /v1 is open.", served)
        try:
            yield
        finally:
            await app.state.openai_proxy.aclose()

    app = FastAPI(
        title="LangGraph OpenAI-compatible proxy",
        version="0.1.0",
        lifespan=lifespan,
        exception_handlers={
            ProxyError: proxy_error_handler,
            RequestValidationError: validation_error_handler,
        },
    )
    app.state.proxy_settings = settings
    if upstream is not None:  # injected (unit tests): usable without running the lifespan
        app.state.openai_proxy = upstream
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            # browser SDKs add their own headers (the openai JS SDK: x-stainless-*)
            allow_headers=["*"],
            expose_headers=[RUN_ID_HEADER],
        )
    app.include_router(router)
    app.include_router(v1)
    return app


app = create_app()
"""The app ``langgraph.json`` mounts (``http.app``); it talks to its host server in-process."""

"""The FastAPI app, runnable standalone (``python -m proxy``) or mounted in ``langgraph dev``.

``langgraph.json`` mounts :data:`app` through ``http.app``: its routes then sit beside the
platform's, so it adds no middleware of its own unless CORS is configured, and it uses
``lifespan=`` as the platform requires. An endpoint is a package with a ``router``, and one
line in :data:`ROUTERS`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware

from proxy import health
from proxy.chat.router import router as chat_router
from proxy.models.router import router as models_router
from proxy.responses.router import router as responses_router
from proxy.settings import Settings, get_settings
from proxy.threads.identity import THREAD_ID_HEADER
from proxy.upstream import Upstream
from proxy.upstream.client import InlineJSONExecutor
from proxy.web.auth import warn_if_open
from proxy.web.errors import ProxyError, proxy_error_handler, validation_error_handler
from proxy.web.fallback import V1Fallback
from proxy.web.respond import RUN_ID_HEADER

logger = logging.getLogger("proxy")

ROUTERS: tuple[APIRouter, ...] = (health.router, models_router, chat_router, responses_router)
"""Every endpoint the app serves."""


def create_app(settings: Settings | None = None, upstream: Upstream | None = None) -> FastAPI:
    """Build the app; ``upstream`` lets unit tests inject one (e.g. with a fake SDK client)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.langgraph_url:
            # standalone: this loop is the proxy's (mounted, it is the platform's: left alone)
            asyncio.get_running_loop().set_default_executor(InlineJSONExecutor())
        if upstream is None:
            app.state.openai_proxy = Upstream(settings)
        served = os.environ.get("LANGGRAPH_API_URL")
        mounted = not settings.langgraph_url
        logger.info(
            "OpenAI-compatible API%s -> %s",
            f" at {served}/v1" if served and mounted else "",
            settings.langgraph_url or "this LangGraph server (in-process)",
        )
        if mounted and served:
            warn_if_open(settings, urlsplit(served).hostname, served)
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
            expose_headers=[RUN_ID_HEADER, THREAD_ID_HEADER],
        )
    for router in ROUTERS:
        app.include_router(router)
    app.router.routes.append(V1Fallback())
    return app


app = create_app()
"""The app ``langgraph.json`` mounts (``http.app``); it talks to its host server in-process."""

"""Run the proxy standalone: ``python -m proxy`` or ``langgraph-openai-proxy``."""

from __future__ import annotations

import logging

import uvicorn

from proxy.app import create_app
from proxy.settings import get_settings
from proxy.web.auth import warn_if_open


def main() -> None:
    """Serve the proxy against ``LANGGRAPH_URL`` on ``PROXY_HOST:PROXY_PORT``."""
    settings = get_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    if not settings.langgraph_url:
        raise SystemExit(
            "Set LANGGRAPH_URL to the LangGraph server to serve (e.g. http://127.0.0.1:2024)."
        )
    warn_if_open(settings, settings.host, f"{settings.host}:{settings.port}")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()

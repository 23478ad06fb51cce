"""Container health check of the standalone proxy: exit 0 if it answers 200, else 1.

The proxy image runs it as its ``HEALTHCHECK`` (and ``deploy/compose.yaml`` as the proxy's
``healthcheck``). Standard library only, so it costs no import of the app. It reads the same
variables as the proxy (``PROXY_HOST``, ``PROXY_PORT``) and probes the local listener:

    python healthcheck.py            # GET /healthz: the process serves HTTP (liveness)
    python healthcheck.py /readyz    # GET /readyz: the LangGraph server is reachable too
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping

DEFAULT_PATH = "/healthz"
TIMEOUT_SECONDS = 3.0


def probe_url(path: str = DEFAULT_PATH, environ: Mapping[str, str] | None = None) -> str:
    """The URL of ``path`` on the proxy this container runs, from its environment."""
    env = os.environ if environ is None else environ
    host = env.get("PROXY_HOST", "127.0.0.1").strip()
    port = int(env.get("PROXY_PORT", "8000"))
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}{path}"


def check(url: str, timeout: float = TIMEOUT_SECONDS) -> str | None:
    """``None`` if ``url`` answers 200, else why not."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            if response.status == 200:
                return None
            return f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"


def main(argv: list[str] | None = None) -> int:
    """Probe the proxy; the exit status is what Docker reads."""
    args = sys.argv[1:] if argv is None else argv
    path = args[0] if args else DEFAULT_PATH
    if not path.startswith("/"):
        sys.stderr.write(f"usage: healthcheck.py [/path], got {path!r}\n")
        return 2
    try:
        url = probe_url(path)
    except ValueError as exc:
        sys.stderr.write(f"unhealthy: bad PROXY_PORT ({exc})\n")
        return 1
    problem = check(url)
    if problem is not None:
        sys.stderr.write(f"unhealthy: {url}: {problem}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

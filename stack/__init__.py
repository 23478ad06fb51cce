"""The production topology on one machine: ``make stack``, ``make test-stack``, ``docs/stack.md``.

Postgres and Redis of its own, the stock ``langgraph-api`` on the open runtime
(``langhost`` / ``langgraph-runtime-pg``) in several processes, standalone proxies in front.
Everything but :mod:`stack.venv` runs in the stack's own environment (``.tools/stack-venv``).
"""

HTTP_APP_ENV = "STACK_HTTP_APP"
"""Names the ``http.app`` that :mod:`stack.lifespan_shim` mounts (``path.py:name``)."""

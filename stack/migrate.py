"""Create a deployment's whole schema once, before any server process starts.

``langgraph-runtime-pg-migrate upgrade`` (Alembic) creates the runtime's tables; the
checkpointer's and the store's are created by every server process as it starts
(``AsyncPostgresSaver.setup()``, ``AsyncPostgresStore.setup()``), and two processes doing that
on an empty database at once crash (``UniqueViolation`` on ``pg_type``). This runs all three,
in that order, in one process: ``DATABASE_URI=... python -m stack.migrate`` (stack venv).
"""

from __future__ import annotations

import asyncio
import os
import sys

from langgraph_runtime_pg.checkpoint import setup_checkpointer, teardown_checkpointer
from langgraph_runtime_pg.migrate import upgrade_head
from langgraph_runtime_pg.store import setup_store, teardown_store


async def setup_tables() -> None:
    """The checkpointer's and the store's tables, as a server's start would make them."""
    try:
        await setup_checkpointer()
        await setup_store()
    finally:
        await teardown_store()
        await teardown_checkpointer()


def main() -> int:
    """Migrate ``DATABASE_URI``; print the Alembic head."""
    if not os.environ.get("DATABASE_URI"):
        sys.stderr.write("DATABASE_URI is required\n")
        return 2
    head = upgrade_head()
    asyncio.run(setup_tables())
    sys.stdout.write(f"schema at {head}, checkpointer and store tables ready\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

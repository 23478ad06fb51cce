"""The stack's own Python environment: ``.tools/stack-venv``, from ``stack/requirements.txt``.

Made when it is missing or was made from other pins (:class:`harness.venvs.PinnedVenv`).
``make stack`` and ``make test-stack`` run ``python -m stack.venv`` from ``.venv`` before
anything in the stack's own environment starts.
"""

from __future__ import annotations

import sys
from pathlib import Path

from harness.venvs import PinnedVenv

REQUIREMENTS = Path(__file__).resolve().parent / "requirements.txt"
# bytecode compiled once at install: the servers import langgraph-api on every start
VENV = PinnedVenv("stack-venv", REQUIREMENTS, ("--compile-bytecode",))


def main() -> int:
    """``python -m stack.venv``: make the venv if needed; 1 (and why) if that failed."""
    if not VENV.is_current():
        sys.stderr.write(f"making {VENV.path} from {REQUIREMENTS}\n")
    failure, _ = VENV.ensure()
    if failure is not None:
        sys.stderr.write(failure + "\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

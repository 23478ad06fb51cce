"""Environments of their own, made from pinned requirements (LiteLLM, Open WebUI, the stack).

A client or a runtime whose pins clash with the project's lives in ``.tools/<name>``, made with
``uv`` when it is missing or was made from other pins (a hash stamp in it), one maker at a
time. Standard library only: the stack's launcher uses it before its own environment exists.
"""

from __future__ import annotations

import fcntl
import hashlib
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UV = ROOT / ".tools" / "bin" / "uv"


@dataclass(frozen=True)
class PinnedVenv:
    """``.tools/<name>``, holding exactly ``requirements``."""

    name: str
    requirements: Path
    flags: tuple[str, ...] = ()
    """Extra ``uv pip install`` flags (part of the stamp: other flags remake the venv)."""
    timeout: float = 900.0
    path: Path = field(init=False)

    def __post_init__(self) -> None:
        """Where it lives."""
        object.__setattr__(self, "path", ROOT / ".tools" / self.name)

    @property
    def python(self) -> Path:
        """Its interpreter."""
        return self.path / "bin" / "python"

    @property
    def stamp(self) -> Path:
        """What it was made from."""
        return self.path / "requirements.sha256"

    def wanted(self) -> str:
        """The pins, the interpreter and the flags: another one remakes the venv."""
        digest = hashlib.sha256(self.requirements.read_bytes())
        digest.update(f"\n{sys.version}\n{sys.base_prefix}\n{list(self.flags)}".encode())
        return digest.hexdigest()

    def is_current(self) -> bool:
        """Whether it exists and holds the current pins."""
        return (
            self.python.exists()
            and self.stamp.exists()
            and self.stamp.read_text().strip() == self.wanted()
        )

    def ensure(self) -> tuple[str | None, float | None]:
        """Make it unless it is current: (what went wrong, seconds it took to make)."""
        self.path.parent.mkdir(exist_ok=True)
        with (self.path.parent / f"{self.name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one maker at a time
            if self.is_current():
                return None, None
            if not UV.exists():
                return f"{UV} is missing: `make install` puts uv there", None
            started = time.monotonic()
            create = [str(UV), "venv", "--clear", "--python", sys.executable, str(self.path)]
            install = [str(UV), "pip", "install", "--python", str(self.python), *self.flags]
            for cmd in (create, [*install, "-r", str(self.requirements)]):
                failure = self._run(cmd)
                if failure is not None:
                    return f"making {self.path} failed:\n{failure}", None
            self.stamp.write_text(self.wanted() + "\n")
            return None, time.monotonic() - started

    def _run(self, cmd: list[str]) -> str | None:
        """One step; its command and output if it failed."""
        try:
            done = subprocess.run(
                cmd, cwd=ROOT, capture_output=True, text=True, timeout=self.timeout
            )
        except subprocess.TimeoutExpired as expired:
            out = "".join(_text(part) for part in (expired.stdout, expired.stderr))
            return f"$ {' '.join(cmd)}\ntimed out after {self.timeout:g}s\n{out}"
        if done.returncode != 0:
            return f"$ {' '.join(cmd)}\n{done.stdout}{done.stderr}"
        return None


def _text(output: str | bytes | None) -> str:
    """Captured output as text (a timeout may leave bytes behind even with ``text=True``)."""
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output or ""

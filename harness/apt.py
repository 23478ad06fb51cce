"""Debian packages the test tiers need (Chromium, Redis), installed when missing.

Only as root with apt-get (as on a fresh CI machine of this project's kind); anywhere else the
caller says what to install instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess

TIMEOUT = 900


def ensure_command(command: str, package: str) -> tuple[str | None, str]:
    """``command``'s path, installing ``package`` if needed: (path or None, what happened)."""
    found = _found(command)
    if found:
        return found, ""
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        return None, f"{command} is missing: `apt-get install -y {package}`"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [apt, "install", "-y", "--no-install-recommends", package]
    log = []
    for cmd in (install, [apt, "update"], install):  # the package lists may be stale
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, env=env)
        log.append(f"$ {' '.join(cmd)}\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
        found = _found(command)
        if found:
            return found, f"installed {package} with apt"
    return None, f"installing {package} failed:\n" + "\n".join(log)


def _found(command: str) -> str | None:
    """A command on the PATH, or a path that exists."""
    if os.path.isabs(command):
        return command if os.path.exists(command) else None
    return shutil.which(command)

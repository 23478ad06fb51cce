"""Keeps Open WebUI off the internet: loaded at start-up of its venv's interpreter.

The Open WebUI fixture puts this folder on ``PYTHONPATH`` and names a file in
``OWUI_NETWORK_LOG``. Every DNS lookup and every connection that is not for loopback is then
refused (``OSError``, as an unreachable network would) and written to that file as one JSON
line, so that the tests can assert that Open WebUI asked nothing of the internet. Standard
library only; it does nothing when ``OWUI_NETWORK_LOG`` is unset.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import threading
import time
import traceback
from typing import Any

LOG = os.environ.get("OWUI_NETWORK_LOG")
_lock = threading.Lock()


def _is_loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if host in (None, "", "localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _record(kind: str, target: Any) -> None:
    stack = traceback.format_stack(limit=12)[:-2]
    line = json.dumps({"kind": kind, "target": repr(target), "time": time.time(), "stack": stack})
    with _lock, open(LOG, "a", encoding="utf-8") as handle:  # type: ignore[arg-type]
        handle.write(line + "\n")


def _install() -> None:
    getaddrinfo = socket.getaddrinfo
    connect = socket.socket.connect
    connect_ex = socket.socket.connect_ex

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_loopback(host):
            _record("dns", host)
            raise socket.gaierror(socket.EAI_NONAME, f"offline guard: no internet ({host})")
        return getaddrinfo(host, *args, **kwargs)

    def refused(address: Any) -> bool:
        if isinstance(address, tuple) and not _is_loopback(address[0]):
            _record("connect", address)
            return True
        return False

    def guarded_connect(sock: socket.socket, address: Any) -> Any:
        if refused(address):
            raise OSError(101, f"offline guard: no internet ({address})")
        return connect(sock, address)

    def guarded_connect_ex(sock: socket.socket, address: Any) -> Any:
        if refused(address):
            return 101  # ENETUNREACH
        return connect_ex(sock, address)

    socket.getaddrinfo = guarded_getaddrinfo  # type: ignore[assignment]
    socket.socket.connect = guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign]


if LOG:
    _install()

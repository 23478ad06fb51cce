"""LiteLLM against the proxy, in LiteLLM's own venv; run by test_clients_litellm.py.

    .tools/litellm-venv/bin/python tests/clients/litellm_probe.py <base_url> [scenario|all]

LiteLLM pins openai<3 while the project needs openai 3.x, so it cannot be imported by the tests:
this script runs with the interpreter of a separate venv (tests/clients/litellm-requirements.txt)
and only uses the standard library besides LiteLLM and its openai.

Before LiteLLM is imported it sets LiteLLM's offline switches and installs a guard that refuses
(and records) every DNS lookup and connection that is not for loopback. Then it runs one scenario
(or all of them: importing LiteLLM takes seconds) against ``base_url`` and writes one JSON object
to stdout, keyed by scenario, of what LiteLLM handed to the caller: content pieces, reasoning,
usage, finish reasons, exception class/status/message, and the guard's records. A scenario that
breaks reports ``{"crashed": <traceback>}`` instead. Whatever LiteLLM prints goes to stderr.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import ipaddress
import json
import os
import socket
import sys
import traceback
from collections.abc import Callable
from typing import Any

# LiteLLM fetches its model cost map (and Anthropic beta headers) from GitHub on import unless
# told not to, and loads ./.env in its default "DEV" mode.
LITELLM_OFFLINE = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
    "LITELLM_MODE": "PRODUCTION",
}
FAST_EN = {"pace": 0, "seed": 11, "locale": "en"}
MESSAGES = [{"role": "user", "content": "-9"}]
# what the offline scenario tries to reach, to show that the guard refuses it
OUTSIDE = [("raw.githubusercontent.com", 443), ("192.0.2.1", 443)]


class NetworkGuard:
    """Refuses and records every DNS lookup and connection that is not for loopback."""

    def __init__(self) -> None:
        self.attempts: list[list[Any]] = []
        self._getaddrinfo = socket.getaddrinfo
        self._connect = socket.socket.connect

    def install(self) -> None:
        socket.getaddrinfo = self.getaddrinfo
        # a plain function, so that the socket is passed as it is to socket.socket.connect
        socket.socket.connect = lambda sock, address: self.connect(sock, address)

    @staticmethod
    def is_loopback(host: Any) -> bool:
        if isinstance(host, bytes):
            host = host.decode()
        if host in (None, "", "localhost"):
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    def getaddrinfo(self, host: Any, *args: Any, **kwargs: Any) -> Any:
        if not self.is_loopback(host):
            self.attempts.append(["dns", str(host)])
            raise socket.gaierror(socket.EAI_NONAME, f"litellm_probe: no internet ({host})")
        return self._getaddrinfo(host, *args, **kwargs)

    def connect(self, sock: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and not self.is_loopback(address[0]):
            self.attempts.append(["connect", list(address)])
            raise OSError(f"litellm_probe: no internet ({address})")
        return self._connect(sock, address)

    def take(self) -> list[list[Any]]:
        """The attempts so far, forgotten."""
        attempts, self.attempts = self.attempts, []
        return attempts


# -- before LiteLLM: the offline switches, the guard, stdout kept for the JSON ------------------

os.environ.update(LITELLM_OFFLINE)
GUARD = NetworkGuard()
GUARD.install()
OUT = sys.stdout
sys.stdout = sys.stderr

import litellm  # noqa: E402
import openai  # noqa: E402

litellm.suppress_debug_info = True
IMPORT_ATTEMPTS = GUARD.take()


# -- what LiteLLM exposed, as JSON ---------------------------------------------------------------


def kwargs_for(base_url: str, **kwargs: Any) -> dict[str, Any]:
    return {
        "model": "openai/up-down-game",
        "api_base": base_url,
        "api_key": "unused",
        "max_retries": 0,
        "timeout": 60,
        "messages": MESSAGES,
        "extra_body": {"context": FAST_EN},
        **kwargs,
    }


def usage_of(usage: Any) -> dict[str, Any] | None:
    if usage is None:
        return None
    details = getattr(usage, "completion_tokens_details", None)
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "reasoning_tokens": getattr(details, "reasoning_tokens", None),
    }


def error_of(error: BaseException) -> dict[str, Any]:
    return {
        "class": type(error).__name__,
        "mro": [cls.__name__ for cls in type(error).__mro__],
        "not_found": isinstance(error, litellm.NotFoundError),
        "bad_request": isinstance(error, litellm.BadRequestError),
        "mid_stream": isinstance(error, litellm.exceptions.MidStreamFallbackError),
        "openai_api_error": isinstance(error, openai.APIError),
        "status_code": getattr(error, "status_code", None),
        "message": str(error),
    }


def chunk_of(chunk: Any) -> dict[str, Any]:
    choice = chunk.choices[0] if chunk.choices else None
    return {
        "id": chunk.id,
        "object": chunk.object,
        "choice": None
        if choice is None
        else {
            "role": choice.delta.role,
            "content": choice.delta.content,
            "reasoning_content": getattr(choice.delta, "reasoning_content", None),
            "finish_reason": choice.finish_reason,
        },
        "usage": usage_of(getattr(chunk, "usage", None)),
    }


def stream_of(chunks: list[Any]) -> dict[str, Any]:
    """The chunks as LiteLLM yielded them, and the response it builds back from them."""
    with_usage = [chunk for chunk in chunks if getattr(chunk, "usage", None)]
    built = litellm.stream_chunk_builder(chunks)
    return {
        "chunks": [chunk_of(chunk) for chunk in chunks],
        # the same usage object is on the last chunk (not a copy made by the probe)
        "usage_is_last_chunks": len(with_usage) == 1 and chunks[-1].usage is with_usage[0].usage,
        "built": {
            "content": built.choices[0].message.content,
            "reasoning_content": getattr(built.choices[0].message, "reasoning_content", None),
            "finish_reason": built.choices[0].finish_reason,
            "usage": usage_of(getattr(built, "usage", None)),
        },
    }


# -- the scenarios -------------------------------------------------------------------------------


def offline(base_url: str) -> dict[str, Any]:
    """What importing LiteLLM asked of the internet, and the guard refusing the outside."""
    refused = {}
    for address in OUTSIDE:
        try:
            socket.create_connection(address, timeout=1).close()
            refused[address[0]] = None
        except OSError as error:
            refused[address[0]] = f"{type(error).__name__}: {error}"
    # create_connection looks even an IP address up: a connection without any lookup
    with socket.socket() as sock:
        sock.settimeout(1)
        try:
            sock.connect(OUTSIDE[-1])
            refused["connect"] = None
        except OSError as error:
            refused["connect"] = f"{type(error).__name__}: {error}"
    return {
        "import_attempts": IMPORT_ATTEMPTS,
        "versions": {name: importlib.metadata.version(name) for name in ("litellm", "openai")},
        "env": {name: os.environ.get(name) for name in LITELLM_OFFLINE},
        "model_cost_entries": len(litellm.model_cost),
        "refused": refused,
        "refused_attempts": GUARD.take(),
    }


def completion(base_url: str) -> dict[str, Any]:
    reply = litellm.completion(**kwargs_for(base_url))
    choice = reply.choices[0]
    return {
        "id": reply.id,
        "object": reply.object,
        "model": reply.model,
        "finish_reason": choice.finish_reason,
        "role": choice.message.role,
        "content": choice.message.content,
        "reasoning_content": getattr(choice.message, "reasoning_content", None),
        "usage": usage_of(reply.usage),
    }


def stream(base_url: str) -> dict[str, Any]:
    chunks = litellm.completion(
        **kwargs_for(base_url, stream=True, stream_options={"include_usage": True})
    )
    return stream_of(list(chunks))


def async_stream(base_url: str) -> dict[str, Any]:
    """`acompletion` goes through LiteLLM's async HTTP stack (its aiohttp transport)."""

    async def run() -> list[Any]:
        chunks = await litellm.acompletion(
            **kwargs_for(base_url, stream=True, stream_options={"include_usage": True})
        )
        return [chunk async for chunk in chunks]

    return stream_of(asyncio.run(run()))


def errors_for(base_url: str, stream: bool) -> dict[str, Any]:
    """An unknown model and a bad input: the error `completion` raises (or None)."""
    cases = {
        "unknown_model": kwargs_for(base_url, model="openai/no-such-model", stream=stream),
        "bad_input": kwargs_for(
            base_url, messages=[{"role": "user", "content": "abc"}], stream=stream
        ),
    }
    found: dict[str, Any] = {}
    for case, kwargs in cases.items():
        try:
            litellm.completion(**kwargs)
            found[case] = None
        except Exception as error:
            found[case] = error_of(error)
    return found


def errors(base_url: str) -> dict[str, Any]:
    return errors_for(base_url, stream=False)


def errors_stream(base_url: str) -> dict[str, Any]:
    return errors_for(base_url, stream=True)


def error_mid_stream(base_url: str) -> dict[str, Any]:
    """A run that fails after 10 tokens: the text before the error, then the error."""
    pieces: list[str] = []
    error = None
    chunks = litellm.completion(
        **kwargs_for(
            base_url,
            model="openai/bench",
            messages=[{"role": "user", "content": "50"}],
            stream=True,
            extra_body={"context": {"fail_after": 10}},
        )
    )
    try:
        for chunk in chunks:
            pieces.extend(c.delta.content for c in chunk.choices if c.delta.content)
    except Exception as caught:
        error = error_of(caught)
    return {"pieces": pieces, "error": error}


SCENARIOS: dict[str, Callable[[str], dict[str, Any]]] = {
    scenario.__name__: scenario
    for scenario in (
        offline,
        completion,
        stream,
        async_stream,
        errors,
        errors_stream,
        error_mid_stream,
    )
}


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2) or (len(argv) == 2 and argv[1] not in [*SCENARIOS, "all"]):
        sys.stderr.write(f"usage: litellm_probe.py <base_url> [{'|'.join(SCENARIOS)}|all]\n")
        return 2
    base_url, name = argv[0], argv[1] if len(argv) == 2 else "all"
    results: dict[str, Any] = {}
    for scenario in SCENARIOS.values() if name == "all" else [SCENARIOS[name]]:
        try:
            results[scenario.__name__] = scenario(base_url)
        except Exception:
            results[scenario.__name__] = {"crashed": traceback.format_exc()}
        results[scenario.__name__]["guard_attempts"] = GUARD.take()
    OUT.write(json.dumps(results) + "\n")
    OUT.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Assistants as models: the list behind ``/v1/models`` and the lookup behind every ``model``."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime
from typing import Any

from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import APIStatusError

from proxy.settings import Settings
from proxy.upstream.errors import status_of, translate
from proxy.web.errors import ProxyError, not_found, upstream_failed

MODELS_PAGE = 1000
MIN_REFRESH_INTERVAL = 1.0
"""An unknown model name refreshes the model list at most this often."""

Assistant = dict[str, Any]


class Model:
    """A model as clients see it: its id, and the assistant that runs it."""

    __slots__ = ("assistant", "id")

    def __init__(self, model_id: str, assistant: Assistant) -> None:
        """Pair a model id with its assistant."""
        self.id = model_id
        self.assistant = assistant

    @property
    def assistant_id(self) -> str:
        """The assistant's UUID."""
        return str(self.assistant["assistant_id"])

    @property
    def created(self) -> int:
        """The assistant's ``created_at`` as Unix seconds (0 if unknown)."""
        value = self.assistant.get("created_at")
        if isinstance(value, datetime):
            return int(value.timestamp())
        if isinstance(value, str):
            try:
                return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
            except ValueError:
                pass
        return 0


def _name(assistant: Assistant) -> str:
    return str(assistant.get("name") or assistant["graph_id"])


class Catalog:
    """Model id -> assistant, cached for ``models_cache_ttl`` seconds.

    The first assistant with a given name names the model; an assistant UUID works too.
    """

    def __init__(self, client: LangGraphClient, settings: Settings) -> None:
        """Start empty; the first request loads the list."""
        self.client = client
        self.settings = settings
        self._models: dict[str, Assistant] = {}
        self._by_uuid: dict[str, Assistant] = {}
        self._loaded_at = float("-inf")
        self._lock = asyncio.Lock()
        self._failed: tuple[float, ProxyError] | None = None

    async def models(self, *, refresh: bool = False) -> list[Model]:
        """Every model, refreshed when stale (or, at most once a second, on ``refresh``)."""
        return [Model(name, a) for name, a in (await self._load(refresh)).items()]

    async def resolve(self, model: str) -> Model:
        """The model named ``model`` (a name, graph id or assistant UUID), or a 404."""
        for refresh in (False, True):
            models = await self._load(refresh)
            if model in models:
                return Model(model, models[model])
            if model in self._by_uuid:
                assistant = self._by_uuid[model]
                return Model(_name(assistant), assistant)
        if _is_uuid(model):
            try:
                found = await asyncio.wait_for(
                    self.client.assistants.get(model), self.settings.request_timeout
                )
            except APIStatusError as exc:
                if status_of(exc) != 404:
                    raise translate(exc) from exc
            except Exception as exc:
                raise translate(exc) from exc
            else:
                return Model(_name(dict(found)), dict(found))
        raise not_found(
            f"The model '{model}' does not exist. GET /v1/models lists the graphs served.",
            param="model",
            code="model_not_found",
        )

    async def _load(self, refresh: bool) -> dict[str, Assistant]:
        stale = time.monotonic() - self._loaded_at > self.settings.models_cache_ttl
        if not (refresh or stale):
            return self._models
        asked = time.monotonic()
        async with self._lock:
            failed = self._failed
            if failed is not None and failed[0] >= asked:
                # the load this request queued behind just failed: share its error rather
                # than wait out another connect timeout per queued request
                raise failed[1]
            age = time.monotonic() - self._loaded_at
            if (refresh and age > MIN_REFRESH_INTERVAL) or age > self.settings.models_cache_ttl:
                try:
                    await asyncio.wait_for(self._fetch(), self.settings.request_timeout)
                except Exception as exc:
                    error = _load_error(exc)
                    self._failed = (time.monotonic(), error)
                    raise error from exc
        return self._models

    async def _fetch(self) -> None:
        assistants: list[Assistant] = []
        offset = 0
        while True:
            page = await self.client.assistants.search(limit=MODELS_PAGE, offset=offset)
            assistants.extend(dict(a) for a in page)
            if len(page) < MODELS_PAGE:
                break
            offset += MODELS_PAGE
        models: dict[str, Assistant] = {}
        for assistant in sorted(assistants, key=lambda a: str(a.get("created_at", ""))):
            name = assistant.get("name") or assistant.get("graph_id")
            if name:
                models.setdefault(str(name), assistant)
        self._models = models
        self._by_uuid = {str(a["assistant_id"]): a for a in assistants}
        self._loaded_at = time.monotonic()


def _load_error(exc: BaseException) -> ProxyError:
    """A failed model-list load; a 404 there means a wrong URL, not an unknown model."""
    if status_of(exc) == 404:
        return upstream_failed(
            "The LangGraph server has no assistants API at this URL (404): check LANGGRAPH_URL."
        )
    return translate(exc)


def _is_uuid(value: str) -> bool:
    """Whether ``value`` is a UUID (the platform's assistant ids)."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True

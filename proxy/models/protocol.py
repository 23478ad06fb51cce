"""``GET /v1/models``: the ``Model`` and ``ListModelsResponse`` shapes."""

from __future__ import annotations

from typing import Any

from proxy.upstream import Model


def model_object(model: Model) -> dict[str, Any]:
    """An OpenAI ``Model``."""
    return {"id": model.id, "object": "model", "created": model.created, "owned_by": "langgraph"}


def model_list(models: list[Model]) -> dict[str, Any]:
    """An OpenAI ``ListModelsResponse``."""
    return {"object": "list", "data": [model_object(model) for model in models]}

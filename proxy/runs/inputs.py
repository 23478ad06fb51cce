"""Turn OpenAI ``messages`` into a graph's input, guided by the graph's input schema.

* A graph whose input has ``messages`` gets the conversation as sent.
* A graph with one input field gets the last user message's text, coerced to that field's
  JSON-schema type (``"10"`` -> ``{"input": 10}``). Text that does not fit is a 400 before
  any run starts.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

from proxy.runs.content import text_parts
from proxy.web.errors import bad_request

INT_MIN, INT_MAX = -(2**63), 2**63 - 1
"""Integers outside the signed 64-bit range are refused unless the schema sets bounds."""


def build_input(
    messages: list[dict[str, Any]], schema: dict[str, Any] | None, field: str | None = None
) -> dict[str, Any]:
    """The run input for ``messages``; ``field`` overrides which input field gets them."""
    properties = (schema or {}).get("properties") or {}
    if field is None:
        if not schema or "messages" in properties or not properties:
            field = "messages"
        else:
            required = list(schema.get("required") or [])
            candidates = required or list(properties)
            if len(candidates) != 1:
                raise bad_request(
                    "This graph's input has several required fields "
                    f"({', '.join(sorted(candidates))}); configure PROXY_INPUT_FIELDS for it.",
                    param="model",
                )
            field = candidates[0]
    spec = _resolve(properties.get(field) or {}, schema or {})
    if (field == "messages" and not spec.get("type")) or spec.get("type") == "array":
        return {field: messages}
    return {field: coerce(last_user_text(messages), spec, field)}


def _resolve(spec: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` and pick the non-null branch of ``anyOf``/``oneOf``."""
    ref = spec.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        node: Any = root
        for part in ref[2:].split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        spec = node if isinstance(node, dict) else {}
    for key in ("anyOf", "oneOf"):
        options = [s for s in spec.get(key) or [] if s.get("type") != "null"]
        if len(options) == 1:
            return _resolve(options[0], root)
    return spec


def last_user_text(messages: list[dict[str, Any]]) -> str:
    """The text of the last user message; non-text parts cannot go into one field."""
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        texts = list(text_parts(content))
        if None in texts:
            part = content[texts.index(None)]
            kind = part.get("type") if isinstance(part, dict) else type(part).__name__
            raise bad_request(
                f"This graph takes text only; the message has a non-text part ({kind!r}).",
                param="messages",
            )
        return "".join(text for text in texts if text is not None)
    raise bad_request("This graph needs a user message.", param="messages")


def coerce(text: str, spec: dict[str, Any], field: str) -> Any:
    """Convert ``text`` to the JSON type of the field, or raise a 400 that says why."""
    kind = spec.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    stripped = text.strip()
    if kind == "integer":
        try:
            value = int(stripped)
        except ValueError:
            raise _unfit(text, field, "an integer") from None
        low = spec.get("minimum", INT_MIN)
        high = spec.get("maximum", INT_MAX)
        if not low <= value <= high:
            raise _unfit(text, field, f"an integer from {low} to {high}")
        return value
    if kind == "number":
        try:
            number = float(stripped)
        except ValueError:
            raise _unfit(text, field, "a number") from None
        if not math.isfinite(number):
            raise _unfit(text, field, "a finite number")
        return number
    if kind == "boolean":
        lowered = stripped.lower()
        if lowered in ("true", "yes", "1"):
            return True
        if lowered in ("false", "no", "0"):
            return False
        raise _unfit(text, field, "true or false")
    if kind in ("object", "array"):
        try:
            value = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            raise _unfit(text, field, f"a JSON {kind}") from None
        if not isinstance(value, dict if kind == "object" else list):
            raise _unfit(text, field, f"a JSON {kind}")
        return value
    if not stripped:
        raise _unfit(text, field, "non-empty text")
    return text


def _unfit(text: str, field: str, expected: str) -> Exception:
    """The 400 for a message that does not fit the graph's input."""
    shown = text if len(text) <= 40 else text[:37] + "..."
    return bad_request(
        f"This graph's input '{field}' must be {expected}; got {shown!r}.",
        param="messages",
        code="invalid_input",
    )

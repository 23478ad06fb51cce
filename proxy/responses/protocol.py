"""``POST /v1/responses``: the request, as far as the proxy acts on it, and its input items.

``input`` is a string, or a list of items: messages (roles user, system, developer, assistant;
content a string or ``input_text`` / ``output_text`` parts), ``item_reference`` items naming an
output item of a stored response, and the proxy's own output items sent back whole (the OpenAI
Agents SDK sends earlier ``reasoning`` items as input). Everything else clients send (``tools``,
``temperature``, ``reasoning``, ``text``, ``include`` ...) is accepted and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, StrictBool, StrictStr

from proxy.responses.ids import response_of
from proxy.settings import ProgressMode
from proxy.web.errors import bad_request

ROLES = frozenset({"user", "system", "developer", "assistant"})
PART_TYPES = {"input_text": "text", "output_text": "text", "refusal": "refusal"}


def _input(value: Any) -> str | list[Any]:
    """One check with one message, so a 400 names ``input`` and nothing deeper."""
    if isinstance(value, str) or (isinstance(value, list) and value):
        return value
    raise ValueError("must be a string or a non-empty array of input items")


class ResponseRequest(BaseModel):
    """``POST /v1/responses`` as far as the proxy is concerned."""

    model_config = ConfigDict(extra="allow")

    model: Annotated[StrictStr, Field(min_length=1)]
    input: Annotated[
        str | list[Any],
        PlainValidator(_input, json_schema_input_type=str | list[dict[str, Any]]),
    ]
    instructions: StrictStr | None = None
    stream: StrictBool | None = False
    previous_response_id: StrictStr | None = None
    store: StrictBool | None = True
    metadata: dict[str, Any] | None = None
    progress_mode: ProgressMode | None = Field(
        default=None, description="Extension: where progress goes (reasoning, content or drop)."
    )
    context: dict[str, Any] | None = Field(
        default=None, description="Extension: the LangGraph run's context (per-run settings)."
    )


class Reference(NamedTuple):
    """Where the input points at an output item of one of the proxy's responses."""

    position: int
    """The index in ``messages`` after which the reference stands."""
    response: str
    item: str
    whole: bool
    """The item itself was sent back (a message of it is in ``messages`` already), not an
    ``item_reference``: it stands for itself when its response was not stored."""


@dataclass
class Input:
    """The input as chat-style messages, and where it points at stored responses."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)

    @property
    def last_response(self) -> str | None:
        """The stored response the input refers to last, if any."""
        return self.references[-1].response if self.references else None

    def after_last_reference(self) -> list[dict[str, Any]]:
        """The messages after the last reference: what that response's thread has not seen."""
        return self.messages[self.references[-1].position :] if self.references else self.messages


def read_input(request: ResponseRequest) -> Input:
    """``input`` as messages (``instructions`` first) and references; a 400 names the item."""
    found = Input()
    if request.instructions:
        found.messages.append({"role": "system", "content": request.instructions})
    if isinstance(request.input, str):
        found.messages.append({"role": "user", "content": request.input})
        return found
    for index, item in enumerate(request.input):
        param = f"input.{index}"
        if not isinstance(item, dict):
            raise bad_request(f"Invalid '{param}': an input item must be an object.", param=param)
        kind = item.get("type", "message")
        item_id = item.get("id")
        ours = response_of(item_id) if isinstance(item_id, str) else None
        if kind == "item_reference":
            if not isinstance(item_id, str) or ours is None:
                raise _no_such_item(item_id, f"{param}.id")
            found.references.append(Reference(len(found.messages), ours, item_id, False))
        elif kind == "reasoning":  # our own progress, sent back: it only says where we were
            if ours is not None:
                found.references.append(Reference(len(found.messages), ours, str(item_id), True))
        elif kind == "message":
            found.messages.append(_message(item, param))
            if ours is not None and item.get("role") == "assistant":
                found.references.append(Reference(len(found.messages), ours, str(item_id), True))
        else:
            raise bad_request(
                f"Invalid '{param}.type': {kind!r} items are not supported; the graph's tools "
                "run on the server. Send messages and item references.",
                param=f"{param}.type",
            )
    if not found.messages and not found.references:
        raise bad_request("The input holds no message.", param="input")
    return found


def _message(item: dict[str, Any], param: str) -> dict[str, Any]:
    role = item.get("role")
    if role not in ROLES:
        raise bad_request(
            f"Invalid '{param}.role': must be one of {', '.join(sorted(ROLES))}.",
            param=f"{param}.role",
        )
    content = item.get("content")
    if isinstance(content, str):
        return {"role": role, "content": content}
    if not isinstance(content, list):
        raise bad_request(
            f"Invalid '{param}.content': must be a string or an array of content parts.",
            param=f"{param}.content",
        )
    parts: list[dict[str, Any]] = []
    for number, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in PART_TYPES and isinstance(
            text := part.get(kind if kind == "refusal" else "text"), str
        ):
            parts.append({"type": "text", "text": text})
        elif kind == "input_image" and isinstance(url := part.get("image_url"), str):
            parts.append({"type": "image_url", "image_url": {"url": url}})
        elif isinstance(part, dict) and isinstance(kind, str):
            parts.append(part)  # a file or another part: the graph decides what it takes
        else:
            where = f"{param}.content.{number}"
            raise bad_request(f"Invalid '{where}': not a content part.", param=where)
    return {"role": role, "content": parts}


def _no_such_item(item_id: Any, param: str) -> Exception:
    return bad_request(
        f"Invalid '{param}': no stored response has an item {item_id!r}.",
        param=param,
        code="invalid_item_reference",
    )

"""``POST /v1/chat/completions``: the request, as far as the proxy acts on it.

Only the fields the proxy acts on are declared; everything else an OpenAI client may send
(temperature, tools, user, metadata, ...) is accepted and ignored, never rejected. What the
proxy writes back is :mod:`proxy.chat.render`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    StrictInt,
    StrictStr,
)

from proxy.settings import ProgressMode

Role = Literal["system", "developer", "user", "assistant", "tool", "function"]


def _content(value: Any) -> str | list[dict[str, Any]] | None:
    """One check with one message, so a 400 names ``messages.N.content`` and nothing deeper."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(part, dict) for part in value):
        return value
    raise ValueError("must be a string, an array of content parts (objects), or null")


Content = Annotated[
    str | list[dict[str, Any]] | None,
    PlainValidator(_content, json_schema_input_type=str | list[dict[str, Any]] | None),
]


class ChatMessage(BaseModel):
    """One message; content parts are kept as sent so graphs that take messages get them."""

    model_config = ConfigDict(extra="allow")

    role: Role
    content: Content = None


class StreamOptions(BaseModel):
    """``stream_options``; unknown keys are ignored."""

    model_config = ConfigDict(extra="allow")

    include_usage: StrictBool | None = None


class ChatCompletionRequest(BaseModel):
    """``POST /v1/chat/completions`` as far as the proxy is concerned."""

    model_config = ConfigDict(extra="allow")

    model: Annotated[StrictStr, Field(min_length=1)]
    messages: Annotated[list[ChatMessage], Field(min_length=1)]
    stream: StrictBool | None = False
    stream_options: StreamOptions | None = None
    n: StrictInt | None = None
    progress_mode: ProgressMode | None = Field(
        default=None,
        description="Extension: where progress chunks go (reasoning, content or drop).",
    )
    context: dict[str, Any] | None = Field(
        default=None, description="Extension: the LangGraph run's context (per-run settings)."
    )

    def input_messages(self) -> list[dict[str, Any]]:
        """The messages as plain dicts, exactly as the client sent them."""
        return [message.model_dump(exclude_unset=True) for message in self.messages]

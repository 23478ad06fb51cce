"""Conversations on LangGraph threads: which thread a request's run goes to (opt-in per request).

:func:`policy_for` reads the request: without a conversation id a run is stateless, as before;
with one, it runs on the conversation's thread (:class:`~.conversation.Conversation`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from proxy.runs.content import content_text
from proxy.runs.start import Stateless, ThreadPolicy
from proxy.settings import Settings
from proxy.threads.conversation import Conversation
from proxy.threads.identity import caller, conversation_id
from proxy.upstream import Upstream

OPEN_WEBUI_TASK = "### Task:"
"""How Open WebUI's own side requests (title, tags, follow-ups) begin."""


def is_side_request(messages: list[dict[str, Any]], stream: bool, source: str) -> bool:
    """An Open WebUI side request (title, tags, follow-ups): it never changes the thread."""
    if source != "open-webui":
        return False
    last = next((m for m in reversed(messages) if m.get("role") == "user"), None)
    text = content_text(last.get("content")) if last else ""
    return text.lstrip().startswith(OPEN_WEBUI_TASK) or not stream


def policy_for(
    upstream: Upstream,
    settings: Settings,
    *,
    metadata: Any,
    headers: Mapping[str, str],
    messages: list[dict[str, Any]],
    stream: bool,
) -> ThreadPolicy:
    """The thread policy of one request."""
    found, source = conversation_id(metadata, headers)
    if found is None or is_side_request(messages, stream, source):
        return Stateless()
    who = caller(headers.get("authorization"), keyed=bool(settings.api_keys))
    return Conversation(upstream.client, found, who, settings.request_timeout)


__all__ = ["Conversation", "is_side_request", "policy_for"]

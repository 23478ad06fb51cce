"""Which conversation a request belongs to, who asks, and the LangGraph thread that holds it.

The conversation id is the client's, the first found of: the body's ``metadata.conversation_id``
(the openai SDKs' ``metadata=``), the ``X-Conversation-Id`` header (any client), and Open
WebUI's ``X-OpenWebUI-Chat-Id`` (sent with ``ENABLE_FORWARD_USER_INFO_HEADERS=true``). The
thread id is derived from (assistant, caller, conversation id): any proxy replica finds the
same thread, two API keys never share one, and nobody reaches another caller's thread without
that caller's key.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping
from typing import Any

CONVERSATION_HEADER = "x-conversation-id"
OPEN_WEBUI_HEADER = "x-openwebui-chat-id"
THREAD_ID_HEADER = "X-LangGraph-Thread-Id"
MAX_ID_CHARS = 512
NAMESPACE = uuid.UUID("6f1e9a64-4f1f-4b7e-9d0c-0c6a3b2f9e11")
"""Of the thread ids the proxy derives (uuid5)."""
ANONYMOUS = "anonymous"
"""The one caller when the proxy asks no API key."""
_DIGEST_KEY = b"langgraph-openai-proxy/caller/v1"
OPEN_WEBUI_UNSAVED = ("local:", "temporary")
"""Open WebUI ids of chats it does not keep (a temporary chat): those stay stateless."""


def conversation_id(metadata: Any, headers: Mapping[str, str]) -> tuple[str | None, str]:
    """The request's conversation id (or None) and where it came from."""
    if isinstance(metadata, dict) and isinstance(found := metadata.get("conversation_id"), str):
        if found.strip():
            return found.strip()[:MAX_ID_CHARS], "metadata"
    found = headers.get(CONVERSATION_HEADER, "").strip()
    if found:
        return found[:MAX_ID_CHARS], "header"
    found = headers.get(OPEN_WEBUI_HEADER, "").strip()
    if found and not found.startswith(OPEN_WEBUI_UNSAVED):
        return found[:MAX_ID_CHARS], "open-webui"
    return None, ""


def caller(authorization: str | None, keyed: bool) -> str:
    """Who asks: a digest of the API key that authenticated the request, never the key."""
    if not keyed or not authorization:
        return ANONYMOUS
    _, _, token = authorization.partition(" ")
    return hmac.new(_DIGEST_KEY, token.strip().encode(), hashlib.sha256).hexdigest()[:32]


def thread_id(assistant_id: str, who: str, conversation: str) -> str:
    """The conversation's thread: one per (assistant, caller, conversation id)."""
    return str(uuid.uuid5(NAMESPACE, f"{assistant_id}\n{who}\n{conversation}"))

"""Stream mode ``messages-tuple``: what any LangGraph agent says, as answer text and progress.

Events are ``[message, metadata]`` pairs: token chunks of a chat model as they stream, and
whole messages (a model that did not stream, tool results, hand-built messages) when a node
ends. AI text is the answer; reasoning, tool calls (once their arguments are complete) and
tool results are progress. Tools ran on the server, so they are never OpenAI ``tool_calls``.
The metadata (the run's config, request headers included) is read here, never relayed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from proxy.runs import tools
from proxy.runs.content import content_text
from proxy.runs.events import NOTHING, Event, Kind, Reader
from proxy.runs.state import MESSAGES, RunState

HIDDEN = "langsmith:hidden"


def reasoning_text(message: dict[str, Any]) -> str:
    """A message's reasoning: ``reasoning_content``, or reasoning / thinking content blocks."""
    extra = message.get("additional_kwargs")
    if isinstance(extra, dict) and isinstance(text := extra.get("reasoning_content"), str):
        return text
    content = message.get("content")
    if not isinstance(content, list):
        return ""
    parts: list[str] = []
    for block in content:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "thinking" and isinstance(text := block.get("thinking"), str):
            parts.append(text)
        elif kind == "reasoning":
            if isinstance(text := block.get("reasoning"), str):
                parts.append(text)
            for item in block.get("summary") or ():
                if isinstance(item, dict) and isinstance(text := item.get("text"), str):
                    parts.append(text)
    return "".join(parts)


def usage_of(message: dict[str, Any]) -> dict[str, int] | None:
    """LangChain's ``usage_metadata`` as the proxy's counts, if the model reported any."""
    usage = message.get("usage_metadata")
    if not isinstance(usage, dict):
        return None
    details = usage.get("output_token_details")
    reasoning = details.get("reasoning") if isinstance(details, dict) else None
    counts = {
        "prompt_tokens": usage.get("input_tokens"),
        "completion_tokens": usage.get("output_tokens"),
        "reasoning_tokens": reasoning or 0,
    }
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in counts.values()):
        return None
    return counts  # type: ignore[return-value]


class MessagesReader:
    """Reads one run's ``messages`` events; :meth:`finish` shows tool calls still pending."""

    def __init__(self, state: RunState) -> None:
        """Start with nothing streamed."""
        self.state = state
        self.seen: set[str] = set()
        """Ids of the AI messages read so far (token by token, or whole)."""
        self.calls = tools.PendingCalls()

    def __call__(self, data: Any) -> Sequence[Event]:
        """The events one ``[message, metadata]`` pair means."""
        if not isinstance(data, list | tuple) or len(data) != 2:
            return NOTHING
        message, metadata = data
        if not isinstance(message, dict):
            return NOTHING
        meta = metadata if isinstance(metadata, dict) else {}
        tags = meta.get("tags")
        if isinstance(tags, list) and HIDDEN in tags:
            return NOTHING
        kind = message.get("type")
        try:
            if kind == "AIMessageChunk":
                return self._chunk(message, meta)
            if kind == "ai":
                return self._whole(message, meta)
            if kind == "tool":
                return [*self.calls.flush_all(), tools.result_line(message, self.calls)]
            return NOTHING  # human, system, remove, or a type this proxy does not know
        finally:
            self.state.message_seen()

    def finish(self) -> Sequence[Event]:
        """At the end of the run: tool calls whose arguments never got a closing chunk."""
        return self.calls.flush_all()

    def _answer_kind(self, meta: dict[str, Any]) -> Kind:
        """Answer text, unless the run names its answer nodes and this is not one of them."""
        nodes = self.state.answer_nodes
        if nodes is None:
            return Kind.ANSWER
        path = [meta.get("langgraph_node")]
        namespace = meta.get("langgraph_checkpoint_ns")
        if isinstance(namespace, str):
            path += [segment.split(":", 1)[0] for segment in namespace.split("|")]
        return Kind.ANSWER if any(node in nodes for node in path) else Kind.PROGRESS

    def _said(self, message: dict[str, Any], meta: dict[str, Any]) -> list[Event]:
        """Text, reasoning and usage of a message this mode owns."""
        events: list[Event] = []
        if reasoning := reasoning_text(message):
            events.append(Event(Kind.PROGRESS, reasoning))
        text = content_text(message.get("content"))
        if text and self.state.claim(message.get("id"), MESSAGES):
            events.append(Event(self._answer_kind(meta), text))
        if usage := usage_of(message):
            events.append(Event(Kind.USAGE, data=usage))
        return events

    def _chunk(self, message: dict[str, Any], meta: dict[str, Any]) -> Sequence[Event]:
        message_id = message.get("id")
        events: list[Event] = []
        if isinstance(message_id, str) and message_id not in self.seen:
            events += self.calls.flush_others(message_id)  # a new message: the last one is done
            self.seen.add(message_id)
        if not self.state.owned_by_other(message_id, MESSAGES):
            events += self._said(message, meta)
        self.calls.add_chunks(message_id, message.get("tool_call_chunks"))
        metadata = message.get("response_metadata")
        finished = isinstance(metadata, dict) and metadata.get("finish_reason")
        if message.get("chunk_position") == "last" or finished:
            events += self.calls.flush(message_id)
        return events

    def _whole(self, message: dict[str, Any], meta: dict[str, Any]) -> Sequence[Event]:
        message_id = message.get("id")
        if isinstance(message_id, str):
            if message_id in self.seen:
                return self.calls.flush(message_id)  # its tokens (or itself) came already
            self.seen.add(message_id)
        events: list[Event] = []
        text = content_text(message.get("content"))
        owned = self.state.owned_by_other(message_id, MESSAGES)
        if not owned and not self.state.repeats_custom(text):
            events += self._said(message, meta)
        events += self.calls.whole(message)
        return events


def messages_reader(state: RunState) -> Reader:
    """The reader of one run's ``messages`` events."""
    return MessagesReader(state)

"""In-process LangChain chat models for the test and benchmark graphs (no upstream needed).

LangGraph's ``messages`` stream mode sees them exactly as it sees ``ChatOpenAI``: through the
callbacks of a ``BaseChatModel``, token chunks while they stream, the whole message otherwise.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

PROMPT_TOKENS = 5


def _usage(output_tokens: int) -> UsageMetadata:
    return {
        "input_tokens": PROMPT_TOKENS,
        "output_tokens": output_tokens,
        "total_tokens": PROMPT_TOKENS + output_tokens,
    }


class ScriptedModel(BaseChatModel):
    """Answers ``reply`` whatever it is asked, a word at a time when streamed."""

    reply: str = "Hello from the model."

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def pieces(self, **kwargs: Any) -> list[str]:
        """The tokens of one answer."""
        return re.findall(r"\S+\s*", self.reply)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        pieces = self.pieces(**kwargs)
        message = AIMessage(content="".join(pieces), usage_metadata=_usage(len(pieces)))
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        pieces = self.pieces(**kwargs)
        for piece in pieces:
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
        yield ChatGenerationChunk(
            message=AIMessageChunk(content="", usage_metadata=_usage(len(pieces)))
        )

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        # LangChain reports each chunk to the callbacks (LangGraph's messages mode) itself
        for chunk in self._stream(messages, stop, None, **kwargs):
            yield chunk


class NumberedTokens(ScriptedModel):
    """Streams ``tokens`` numbered tokens (``"0 "``, ``"1 "``, ...): the benchmark's model."""

    def pieces(self, **kwargs: Any) -> list[str]:
        """``tokens`` numbered tokens (an argument of the call)."""
        return [f"{index} " for index in range(int(kwargs.get("tokens", 0)))]

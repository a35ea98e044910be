"""The LLM port: the only thing the engine knows about language models."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


class LLMError(Exception):
    """The model could not answer (after any retries); the engine falls back to offline."""


UsageSink = Callable[[int], None]


class LLM(ABC):
    name: str = "llm"

    @abstractmethod
    async def complete(self, messages: list[ChatMessage], *, on_usage: UsageSink | None = None) -> str:
        """Return the whole answer, or raise LLMError. `on_usage` gets the total tokens when the API reports them."""

    @abstractmethod
    def stream(self, messages: list[ChatMessage], *, on_usage: UsageSink | None = None) -> AsyncIterator[str]:
        """Yield the answer in pieces as they arrive, or raise LLMError. `on_usage` as for complete()."""

    async def close(self) -> None:
        """Release connections; models without any keep the default."""

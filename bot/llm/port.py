"""The LLM port: the only thing the engine knows about language models."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


class LLMError(Exception):
    """The model could not answer (after any retries); the engine falls back to offline."""


class LLM(ABC):
    name: str = "llm"

    @abstractmethod
    async def complete(self, messages: list[ChatMessage]) -> str:
        """Return the whole answer, or raise LLMError."""

    @abstractmethod
    def stream(self, messages: list[ChatMessage]) -> AsyncIterator[str]:
        """Yield the answer in pieces as they arrive, or raise LLMError."""

    async def close(self) -> None:
        """Release connections; models without any keep the default."""

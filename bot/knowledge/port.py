"""The retriever port and the note model it returns."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Question:
    text: str
    # The case fields or evidence this question asks about (bot.consult.vocabulary), e.g. ("pods", "pool_size").
    asks: tuple[str, ...] = ()

    @property
    def fact(self) -> str | None:
        return self.asks[0] if self.asks else None


@dataclass(frozen=True)
class Note:
    id: str
    title: str
    area: str
    problem_type: str
    summary: str
    questions: tuple[Question, ...] = ()
    tags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    # Symptom ids (bot.consult.vocabulary.SYMPTOMS) this note explains; a reported symptom makes its note lead.
    symptoms: tuple[str, ...] = ()
    updated: str = ""
    body: str = ""
    # Section heading (e.g. "How to confirm and measure") -> markdown text under it.
    sections: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    path: Path | None = None


@dataclass(frozen=True)
class ScoredNote:
    note: Note
    score: float  # higher is better


class Retriever(ABC):
    @abstractmethod
    def search(self, query: str, k: int = 5) -> list[ScoredNote]:
        """The best notes for a query, best first."""

    @abstractmethod
    def get(self, note_id: str) -> Note | None:
        ...

    @abstractmethod
    def notes(self) -> list[Note]:
        """Every note, sorted by id."""

"""The neutral message model that every adapter translates to and from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Platform = Literal["slack", "teams", "console"]
Kind = Literal["mention", "direct", "command"]
ProblemType = Literal["design", "performance", "correctness", "unknown"]
Mode = Literal["llm", "offline"]


@dataclass(frozen=True)
class Inbound:
    platform: Platform
    tenant: str
    channel: str
    thread: str
    user: str
    text: str
    kind: Kind = "mention"
    command: str | None = None
    args: str | None = None
    # Platform event id, when the caller wants the engine to log it; never part of the thread key.
    event_id: str | None = None

    @property
    def thread_key(self) -> tuple[str, str, str, str]:
        return (self.platform, self.tenant, self.channel, self.thread)


@dataclass(frozen=True)
class Source:
    id: str
    title: str


@dataclass
class Reply:
    text: str
    problem_type: ProblemType = "unknown"
    questions: list[str] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    mode: Mode = "offline"
    # Id of the stored bot turn, so feedback buttons can point at it.
    answer_id: str | None = None
    # Markdown summary an analyzer produced (e.g. the schema review headline), for adapters that show it first.
    summary: str | None = None
    # Which analyzer read the message ("schema-review", "explain", "querylog"), when one did.
    analyzer: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "mode": self.mode,
            "problem_type": self.problem_type,
            "questions": list(self.questions),
            "sources": [{"id": s.id, "title": s.title} for s in self.sources],
            "findings": list(self.findings),
        }

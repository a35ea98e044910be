"""Content routing: pasted DDL, EXPLAIN output and the like go to analyzers through this registry."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Analysis:
    analyzer: str
    # Markdown for people: `summary` is the compact headline, `report` the full result.
    summary: str
    report: str
    findings: list[dict[str, Any]] = field(default_factory=list)
    # Knowledge note ids the result links to; the engine cites them.
    notes: list[str] = field(default_factory=list)
    problem_type: str = "design"
    # What the case model learns from it: the kind of evidence (bot.consult.vocabulary.EVIDENCE, e.g. "ddl",
    # "plan", "query_log"), the team's table names in it, and facts such as {"database": "PostgreSQL"}.
    evidence: str = ""
    tables: list[str] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)
    # Where the time goes, for analyzers that measure it (plans): [{"node", "object", "share", "ms"}], largest first.
    hotspots: list[dict[str, Any]] = field(default_factory=list)
    # The input could not be read (nothing or only part of it parsed): the reply must say so first.
    unreadable: bool = False


def condensed_report(analysis: Analysis, top: int) -> str:
    """The report when it is short; otherwise the summary, the first `top` findings and the rest counted by rule."""
    findings = analysis.findings
    if len(findings) <= top:
        return analysis.report
    from collections import Counter

    head = [f"- **{f.get('severity')}** `{f.get('rule')}` ({f.get('table') or f.get('object') or ''}, line {f.get('line')}): "
            f"{f.get('message')}" for f in findings[:top]]
    rest = Counter(str(f.get("rule")) for f in findings[top:])
    counts = ", ".join(f"`{rule}` ×{n}" for rule, n in rest.most_common())
    return (f"{analysis.summary}\n\nThe first {top} of {len(findings)} findings:\n" + "\n".join(head)
            + f"\n\nThe other {len(findings) - top}, by rule: {counts}.")


class Analyzer(ABC):
    name: str = "analyzer"

    @abstractmethod
    def detect(self, text: str) -> bool:
        """Whether this text carries content the analyzer understands."""

    @abstractmethod
    def analyze(self, text: str, options: dict[str, Any] | None = None) -> Analysis:
        """Options the engine may pass: "dialect" (forced), "command" (how this surface spells the review
        command, e.g. "/schema-review" in Slack and the console, "schema-review" in Teams)."""


class AnalyzerRegistry:
    def __init__(self, analyzers: list[Analyzer] | None = None) -> None:
        self._analyzers: list[Analyzer] = list(analyzers or [])

    def register(self, analyzer: Analyzer) -> None:
        self._analyzers.append(analyzer)

    def get(self, name: str) -> Analyzer | None:
        return next((a for a in self._analyzers if a.name == name), None)

    def route(self, text: str) -> Analyzer | None:
        """The first analyzer that recognises the text, in registration order."""
        return next((a for a in self._analyzers if a.detect(text)), None)

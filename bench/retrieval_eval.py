"""Retrieval quality on tests/eval/scenarios.jsonl (or holdout.jsonl): hit@3 and problem-type accuracy, with a table of misses.

    python -m bench.retrieval_eval [--knowledge-dir DIR] [--scenarios FILE] [-k 3]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "tests" / "eval" / "scenarios.jsonl"
HOLDOUT = ROOT / "tests" / "eval" / "holdout.jsonl"  # written blind, before any tuning against it
HIT_AT = 3


@dataclass
class Outcome:
    text: str
    acceptable: list[str]
    got: list[str]
    type_expected: str
    type_got: str

    @property
    def hit(self) -> bool:
        return any(i in self.acceptable for i in self.got[:HIT_AT])

    @property
    def type_ok(self) -> bool:
        return self.type_expected == self.type_got


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def hit_at_3(self) -> float:
        return sum(o.hit for o in self.outcomes) / max(1, len(self.outcomes))

    @property
    def type_accuracy(self) -> float:
        return sum(o.type_ok for o in self.outcomes) / max(1, len(self.outcomes))


def load_scenarios(path: Path = SCENARIOS) -> list[dict]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            row = json.loads(line)
            row["line"] = n
            rows.append(row)
    return rows


def evaluate(knowledge_dir: Path | None = None, scenarios: Path = SCENARIOS, retriever=None) -> Report:
    from bot.consult.classify import classify
    from bot.config import PACKAGED_KNOWLEDGE_DIR
    from bot.knowledge.index import FTS5Retriever

    if retriever is None:
        retriever = FTS5Retriever(knowledge_dir or PACKAGED_KNOWLEDGE_DIR, None, refresh_interval=None)
    report = Report()
    for row in load_scenarios(scenarios):
        results = retriever.search(row["text"], k=5)
        report.outcomes.append(Outcome(
            text=row["text"],
            acceptable=list(row["acceptable"]),
            got=[r.note.id for r in results],
            type_expected=row["problem_type"],
            type_got=classify(row["text"], results),
        ))
    return report


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def print_report(report: Report, out=sys.stdout) -> None:
    misses = [o for o in report.outcomes if not o.hit or not o.type_ok]
    if misses:
        print(f"{'miss':6} {'text':60} {'expected':42} {'got top-3':60} type exp/got", file=out)
        for o in misses:
            kind = ("ret" if not o.hit else "") + ("+" if not o.hit and not o.type_ok else "") + ("type" if not o.type_ok else "")
            print(f"{kind:6} {_short(o.text, 60):60} {_short(', '.join(o.acceptable), 42):42} "
                  f"{_short(', '.join(o.got[:HIT_AT]), 60):60} {o.type_expected}/{o.type_got}", file=out)
        print(file=out)
    n = len(report.outcomes)
    print(f"scenarios: {n}", file=out)
    print(f"hit@{HIT_AT}: {report.hit_at_3:.3f} ({sum(o.hit for o in report.outcomes)}/{n})", file=out)
    print(f"problem-type accuracy: {report.type_accuracy:.3f} ({sum(o.type_ok for o in report.outcomes)}/{n})", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.retrieval_eval", description=__doc__.splitlines()[0])
    parser.add_argument("--knowledge-dir", type=Path, default=None)
    parser.add_argument("--scenarios", type=Path, default=SCENARIOS)
    args = parser.parse_args(argv)
    report = evaluate(args.knowledge_dir, args.scenarios)
    print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The real-world corpus (../shared/corpus/schemas, see its PROVENANCE.txt): every PostgreSQL dump and the
MySQL one must parse and review without a crash. The remaining finding counts per rule are recorded in
CORPUS_FINDINGS.md; this test keeps them from drifting silently."""

from __future__ import annotations

import collections
import functools
import re
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "schemas"
RECORD = Path(__file__).resolve().parent / "CORPUS_FINDINGS.md"


def _corpus_files() -> list[Path]:
    if not (CORPUS / "PROVENANCE.txt").exists():
        return []
    return sorted(p for p in CORPUS.glob("*.sql"))


def _recorded() -> dict[str, dict[str, int]]:
    """file -> {rule: count} from the table in CORPUS_FINDINGS.md."""
    table: dict[str, dict[str, int]] = {}
    lines = RECORD.read_text().splitlines()
    header = None
    for line in lines:
        if not line.startswith("|"):
            header = None if not line.strip() else header
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] == "rule":
            header = cells[1:]
            continue
        if header is None or set(cells[0]) <= {"-", ":"}:
            continue
        rule = cells[0].strip("`")
        if rule == "total":
            continue
        for name, value in zip(header, cells[1:]):
            if value and value != "-":
                table.setdefault(name, {})[rule] = int(value)
    return table


@functools.lru_cache(maxsize=None)
def _review(path: Path):
    from bot.review import review

    return review(path.read_text(encoding="utf-8"))


pytestmark = pytest.mark.skipif(not _corpus_files(), reason=f"real-world corpus not found at {CORPUS}")


@pytest.mark.parametrize("path", _corpus_files(), ids=lambda p: p.name)
def test_corpus_file_reviews_without_a_crash(path):
    report = _review(path)
    expected_dialect = "mysql" if "mysql" in path.name else "postgres"
    assert report.dialect == expected_dialect
    assert report.statements > 0
    assert report.errors == [], report.errors[:3]
    d = report.to_dict()
    assert sum(d["summary"].values()) == len(d["findings"])


@pytest.mark.parametrize("path", _corpus_files(), ids=lambda p: p.name)
def test_corpus_counts_match_the_record(path):
    counts = collections.Counter(f.rule for f in _review(path).findings)
    recorded = _recorded().get(re.sub(r"\.sql$", "", path.name))
    assert recorded is not None, f"{path.name} is missing from CORPUS_FINDINGS.md"
    assert dict(counts) == recorded

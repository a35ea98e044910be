"""The README's rule table lists every rule id with its catalog severity, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from bot.review.catalog import RULES

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_rule_table_matches_the_catalog():
    section = README.read_text().split("## Schema review", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| (error|warning|info) \| .+ \|$", section, re.M)
    assert dict(rows) == {rule: sev for rule, (sev, _, _) in RULES.items()}
    assert len(rows) == len(RULES) == 43

"""Fixtures for the knowledge tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge_helpers import write_note


@pytest.fixture
def notes_dir(tmp_path: Path) -> Path:
    """Three small notes about distinct topics."""
    folder = tmp_path / "notes"
    write_note(folder, "connection-pooling", title="Database connection pooling",
               aliases='["pgbouncer", "too many clients already", "HikariCP", "prepared statements"]',
               tags="[postgresql, pooling]", symptom="Connections run out when pods scale.",
               related="[n-plus-one-queries]")
    write_note(folder, "n-plus-one-queries", title="N+1 queries",
               aliases='["n+1", "select_related", "prefetch_related", "lazy loading"]',
               tags="[orm, django]", symptom="A list endpoint runs one query per row.")
    write_note(folder / "correctness", "race-conditions", subdir=None, title="Race conditions",
               area="correctness", problem_type="correctness",
               aliases='["double charge", "lost update", "check-then-act"]', tags="[concurrency]",
               symptom="Two workers process the same job and charge twice.")
    return folder

"""Issue 11: a one-shot `consultant ask` on a migrated embedded database imports no framework it does not use."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
UNUSED = {"sqlalchemy", "alembic", "aiosqlite", "aiohttp", "openai", "slack_bolt", "botbuilder"}


def ask(tmp_path: Path, *args: str) -> tuple[dict, set[str]]:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "DATABASE_URL", "KNOWLEDGE_DIR")}
    env.update(PYTHONPATH=str(REPO), CONSULTANT_DATA_DIR=str(tmp_path / "data"))
    p = subprocess.run([sys.executable, "-X", "importtime", "-m", "adapters.cli", "ask", "--json", *args],
                       capture_output=True, cwd=str(tmp_path), env=env, timeout=120)
    assert p.returncode == 0, p.stderr.decode()[-800:]
    names = {line.rsplit("|", 1)[1].strip().split(".")[0] for line in p.stderr.decode().splitlines()
             if line.startswith("import time:") and "|" in line}
    return json.loads(p.stdout), names


def test_asking_on_a_migrated_database_imports_no_sqlalchemy_and_still_stores_the_turn(tmp_path):
    first, first_names = ask(tmp_path, "our orders query is slow on postgres 15")
    assert "sqlalchemy" in first_names  # the first start migrates the new file through Alembic
    second, names = ask(tmp_path, "--thread", first["thread"], "it is a seq scan on 2 million rows")
    assert "bot" in names  # the import log was read
    assert not names & UNUSED, sorted(names & UNUSED)

    with sqlite3.connect(tmp_path / "data" / "consultant.sqlite3") as db:
        rows = db.execute("SELECT m.role, m.text FROM messages m JOIN threads t ON t.id = m.thread_id "
                          "WHERE t.thread = ? ORDER BY m.created_at, m.id", (first["thread"],)).fetchall()
        facts = dict(db.execute("SELECT f.name, f.value FROM case_facts f JOIN threads t ON t.id = f.thread_id "
                                "WHERE t.thread = ?", (first["thread"],)).fetchall())
    assert [role for role, _ in rows] == ["user", "assistant", "user", "assistant"]
    assert rows[2][1] == "it is a seq scan on 2 million rows"
    assert "PostgreSQL" in facts.get("database", "")  # the first turn's case carried into the second

"""Issue 11: the `consultant review` path imports only what it needs (checked with -X importtime)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("sqlalchemy", "aiohttp", "alembic", "openai", "sqlglot", "pglast", "logging", "yaml", "rich")


def imported_modules(*args: str, tmp_path: Path) -> set[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    p = subprocess.run([sys.executable, "-X", "importtime", "-m", "adapters.cli", "review", *args],
                       capture_output=True, cwd=str(tmp_path), env=env, timeout=60)
    assert p.returncode in (0, 1), p.stderr.decode()[-500:]
    names = set()
    for line in p.stderr.decode().splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_a_postgres_review_imports_no_framework_nor_the_other_parsers(tmp_path):
    sql = tmp_path / "m.sql"
    sql.write_text("ALTER TABLE orders ADD COLUMN note text;\n")
    names = imported_modules("--format", "json", str(sql), tmp_path=tmp_path)
    assert "bot" in names  # the import log was read
    assert not names & set(HEAVY), sorted(names & set(HEAVY))


def test_a_mysql_review_adds_sqlglot_only(tmp_path):
    sql = tmp_path / "m.sql"
    sql.write_text("ALTER TABLE orders ADD COLUMN note TEXT;\n")
    names = imported_modules("--dialect", "mysql", str(sql), tmp_path=tmp_path)
    assert "sqlglot" in names
    assert not names & {"sqlalchemy", "aiohttp", "alembic", "openai", "pglast", "yaml", "rich"}

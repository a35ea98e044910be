"""`consultant knowledge list|search|check`, run as a subprocess like a curator would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge_helpers import write_note

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, env: dict[str, str] | None = None, tmp_path: Path) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in ("KNOWLEDGE_DIR", "LOG_LEVEL")}
    full_env.update({"PYTHONPATH": str(ROOT), "CONSULTANT_DATA_DIR": str(tmp_path / "data")})
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "adapters.cli", "knowledge", *args], cwd=tmp_path, env=full_env,
                          capture_output=True, text=True, timeout=60)


def test_list_json_has_the_documented_shape(tmp_path):
    proc = run("list", "--json", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert rows and all(set(row) == {"id", "title", "area", "problem_type"} for row in rows)
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)


def test_list_text_includes_team_notes(tmp_path):
    write_note(tmp_path / "team", "our-runbook", subdir=None, title="Our runbook", area="operations")
    proc = run("list", env={"KNOWLEDGE_DIR": str(tmp_path / "team")}, tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert any(line.startswith("our-runbook ") and "Our runbook" in line for line in proc.stdout.splitlines())
    assert proc.stdout.rstrip().endswith("notes")


def test_search_shows_a_ranking_with_scores(tmp_path):
    proc = run("search", "pgbouncer transaction mode breaks prepared statements", "-k", "3", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    ranked = [line for line in proc.stdout.splitlines() if line.lstrip()[:2].rstrip(".").isdigit()]
    assert len(ranked) == 3
    assert "connection-pooling" in ranked[0]
    assert proc.stdout.startswith("query: ")


def test_search_json(tmp_path):
    proc = run("search", "workers double charge customers", "--json", "-k", "2", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["problem_type"] == "correctness"
    assert [r["rank"] for r in data["results"]] == [1, 2]
    assert all({"id", "title", "area", "problem_type", "score"} <= set(r) for r in data["results"])
    assert data["results"][0]["score"] >= data["results"][1]["score"]
    assert (tmp_path / "data").glob("knowledge-index-*.sqlite3")


def test_search_with_nothing_searchable(tmp_path):
    proc = run("search", "hi", tmp_path=tmp_path)
    assert proc.returncode == 0
    assert "no matching notes" in proc.stdout


def test_check_ok(tmp_path):
    write_note(tmp_path / "team", "our-runbook", related="[connection-pooling]")
    proc = run("check", str(tmp_path / "team"), tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("OK: 1 note(s)")


def test_check_reports_one_line_per_problem_and_fails(tmp_path):
    team = tmp_path / "team"
    write_note(team, "bad-area", area="frontend")
    write_note(team, "bad-sql", fix="```sql\nSELEC 1;\n```")
    proc = run("check", str(team), tmp_path=tmp_path)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{team / 'performance' / 'bad-area.md'}:4: area must be one of")
    assert lines[1].startswith(f"{team / 'performance' / 'bad-sql.md'}:")
    assert "```sql block does not parse" in lines[1]
    assert "2 problem(s)" in proc.stderr


def test_check_defaults_to_knowledge_dir(tmp_path):
    write_note(tmp_path / "team", "bad-type", problem_type="speed")
    proc = run("check", env={"KNOWLEDGE_DIR": str(tmp_path / "team")}, tmp_path=tmp_path)
    assert proc.returncode == 1
    assert "problem_type must be one of" in proc.stdout


def test_check_missing_folder_is_a_clean_error(tmp_path):
    proc = run("check", str(tmp_path / "nope"), tmp_path=tmp_path)
    assert proc.returncode == 1
    assert "is not a folder" in proc.stderr and "Traceback" not in proc.stderr


def test_bare_knowledge_prints_usage(tmp_path):
    proc = run(tmp_path=tmp_path)
    assert proc.returncode == 2
    assert "list" in proc.stdout and "search" in proc.stdout and "check" in proc.stdout


@pytest.mark.parametrize("module", ["adapters.knowledge_cli"])
def test_module_imports_nothing_heavy(module):
    code = (f"import sys, {module}; heavy = [m for m in ('sqlite3', 'yaml', 'bot.knowledge.index', 'pglast', 'sqlglot') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"

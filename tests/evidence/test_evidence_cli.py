"""`consultant explain` and `consultant querylog` through a real process: JSON shape, exit codes, stdin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def consultant(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""), NO_COLOR="1")
    return subprocess.run([sys.executable, "-m", "adapters.cli", *args], input=stdin, capture_output=True,
                          cwd=str(REPO), env=env, timeout=120)


def fx(kind: str, name: str) -> str:
    return str(FIXTURES / kind / name)


def test_explain_json_one_object_per_file_and_exit_codes():
    p = consultant("explain", "--format", "json", fx("plans", "fk_delete.txt"), fx("plans", "pk_lookup.json"))
    assert p.returncode == 1, p.stderr  # the FK trigger is an error; --fail-on defaults to error
    first, second = (json.loads(line) for line in p.stdout.decode().strip().splitlines())
    assert list(first) == ["findings", "hotspots", "summary", "errors"]
    assert first["findings"][0]["rule"] == "plan-slow-trigger" and first["errors"] == []
    assert first["hotspots"][0]["object"] == "events_account_id_fkey"
    assert first["summary"]["format"] == "text" and first["summary"]["error"] == 1
    assert second["findings"] == [] and second["summary"]["format"] == "json"
    assert consultant("explain", fx("plans", "pk_lookup.txt")).returncode == 0


def test_explain_fail_on_levels_and_stdin():
    plan = (FIXTURES / "plans" / "index_filter.txt").read_bytes()  # one warning
    assert consultant("explain", "-", stdin=plan).returncode == 0
    warned = consultant("explain", "--fail-on", "warning", "-", stdin=plan)
    assert warned.returncode == 1 and b"plan-index-filter" in warned.stdout and warned.stdout.startswith(b"<stdin>")
    assert consultant("explain", "--fail-on", "never", fx("plans", "fk_delete.txt")).returncode == 0


def test_explain_unreadable_input_and_usage_errors():
    p = consultant("explain", "--format", "json", fx("plans", "seq_scan_filter.xml.txt"))
    assert p.returncode == 1
    out = json.loads(p.stdout)
    assert out["findings"] == [] and "XML" in out["errors"][0] and p.stderr == b""
    missing = consultant("explain", "no-such-plan.txt")
    assert missing.returncode == 2 and b"no such file" in missing.stderr
    assert consultant("explain", "--format", "yaml", fx("plans", "pk_lookup.txt")).returncode == 2
    binary = consultant("explain", "-", stdin=b"\x00\x01\x02 binary")
    assert binary.returncode == 1 and b"binary" in binary.stdout


def test_querylog_text_and_json():
    p = consultant("querylog", fx("logs", "django_n_plus_one.log"))
    assert p.returncode == 0 and b"n-plus-one" in p.stdout and b"prefetch_related" in p.stdout
    j = consultant("querylog", "--format", "json", "--fail-on", "warning", fx("logs", "server_simple.log"),
                   fx("logs", "django_prefetch.log"))
    assert j.returncode == 1
    noisy, clean = (json.loads(line) for line in j.stdout.decode().strip().splitlines())
    assert sorted(f["rule"] for f in noisy["findings"]) == ["n-plus-one", "repeated-query", "slow-query"]
    assert noisy["summary"]["statements"] == 21 and noisy["summary"]["format"] == "postgres"
    assert clean["findings"] == [] and clean["errors"] == []
    slow = consultant("querylog", "--format", "json", "--slow-ms", "5000", fx("logs", "server_simple.log"))
    assert "slow-query" not in {f["rule"] for f in json.loads(slow.stdout)["findings"]}


def test_querylog_unreadable_and_missing():
    p = consultant("querylog", "-", stdin=b"just some words\nnothing like a log\n")
    assert p.returncode == 1 and b"cannot read the log" in p.stdout
    assert consultant("querylog", "missing.log").returncode == 2

"""`consultant review` through a real process: output formats, exit codes, --schema, stdin, configuration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
FINDING_KEYS = ["rule", "severity", "table", "column", "object", "line", "message", "why", "fix", "note"]


def consultant(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""), NO_COLOR="1")
    return subprocess.run([sys.executable, "-m", "adapters.cli", "review", *args], input=stdin, capture_output=True,
                          cwd=str(cwd or REPO), env=env, timeout=120)


def fx(name: str) -> str:
    return str(FIXTURES / name)


def test_json_output_is_exactly_one_object_of_the_documented_shape():
    p = consultant("--format", "json", fx("pg_migration_columns.sql"))
    assert p.returncode == 1  # it has an error-level finding and --fail-on defaults to error
    lines = p.stdout.decode().strip().splitlines()
    assert len(lines) == 1
    d = json.loads(lines[0])
    assert list(d) == ["dialect", "statements", "errors", "findings", "summary", "detected", "assume_in_transaction"]
    assert d["summary"] == {"error": 1, "warning": 9, "info": 0, "unparsed": 0}
    assert all(list(f) == FINDING_KEYS for f in d["findings"])
    assert p.stderr == b""


def test_json_matches_the_api():
    from bot.review import review

    text = (FIXTURES / "pg_design_keys.sql").read_text()
    p = consultant("--format", "json", fx("pg_design_keys.sql"))
    assert json.loads(p.stdout) == review(text).to_dict()


def test_exit_codes_follow_fail_on():
    clean = fx("pg_clean_schema.sql")
    warn = fx("pg_design_antipatterns.sql")  # warnings only
    assert consultant(clean).returncode == 0
    assert consultant(warn).returncode == 0
    assert consultant("--fail-on", "warning", warn).returncode == 1
    assert consultant("--fail-on", "info", fx("pg_wide_table.sql")).returncode == 1
    assert consultant("--fail-on", "warning", fx("pg_wide_table.sql")).returncode == 0
    assert consultant("--fail-on", "never", fx("pg_migration_columns.sql")).returncode == 0


def test_usage_errors_exit_2():
    assert consultant().returncode == 2
    assert consultant("--format", "xml", fx("pg_clean_schema.sql")).returncode == 2
    assert consultant("--fail-on", "sometimes", fx("pg_clean_schema.sql")).returncode == 2
    assert consultant("--pg-version", "banana", fx("pg_clean_schema.sql")).returncode == 2
    missing = consultant("does/not/exist.sql")
    assert missing.returncode == 2 and b"no such file" in missing.stderr
    assert consultant("--schema", "nope.sql", fx("pg_clean_schema.sql")).returncode == 2
    assert consultant(str(FIXTURES)).returncode == 2  # a directory


def test_expected_failures_print_one_line_and_exit_1(tmp_path):
    big = tmp_path / "big.sql"
    big.write_bytes(b"-- " + b"x" * (5 * 1024 * 1024 + 10) + b"\n")
    p = consultant(str(big))
    assert p.returncode == 1
    err = p.stderr.decode().strip().splitlines()
    assert len(err) == 1 and "5 MB" in err[0] and "Traceback" not in p.stderr.decode()
    binary = tmp_path / "dump.bin"
    binary.write_bytes(bytes(range(256)) * 10)
    p = consultant(str(binary))
    assert p.returncode == 1 and b"binary" in p.stderr


def test_sarif_is_2_1_0():
    p = consultant("--format", "sarif", fx("pg_migration_locking.sql"))
    log = json.loads(p.stdout)
    assert log["version"] == "2.1.0" and "sarif-2.1.0" in log["$schema"]
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    rule_ids = [r["id"] for r in driver["rules"]]
    assert "create-index-non-concurrently" in rule_ids
    assert all({"id", "shortDescription", "fullDescription", "defaultConfiguration"} <= set(r) for r in driver["rules"])
    assert len(run["results"]) == 9
    for res in run["results"]:
        assert res["level"] in ("error", "warning", "note")
        assert driver["rules"][res["ruleIndex"]]["id"] == res["ruleId"]
        loc = res["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"].endswith("pg_migration_locking.sql")
        assert loc["region"]["startLine"] >= 1
    assert any(r["level"] == "note" for r in run["results"])  # info -> note


def test_sarif_lists_parse_errors_as_error_results():
    p = consultant("--format", "sarif", fx("pg_parse_errors.sql"))
    results = [r for r in json.loads(p.stdout)["runs"][0]["results"] if r["ruleId"] == "parse-error"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results] == [6, 17]
    assert {r["level"] for r in results} == {"error"} and p.returncode == 1


def test_github_annotations():
    p = consultant("--format", "github", fx("pg_migration_locking.sql"))
    lines = p.stdout.decode().splitlines()
    assert len(lines) == 9
    for line in lines:
        assert line.startswith(("::warning file=", "::error file=", "::notice file="))
        assert ",line=" in line and ",title=" in line and "::" in line[2:]
        assert "\n" not in line
    assert any(line.startswith("::notice ") and "missing-lock-timeout" in line for line in lines)
    assert "%0A" in lines[0]  # the fix is on the annotation, newlines escaped


def test_text_output_is_grouped_by_table_without_colour_when_not_a_tty():
    out = consultant(fx("pg_design_keys.sql")).stdout.decode()
    assert "\033[" not in out
    assert "\naccounts\n" in out and "\ntasks\n" in out
    assert "why:" in out and "fix:" in out


def test_schema_flag_reviews_the_migration_against_the_current_schema():
    p = consultant("--format", "json", "--schema", fx("pg_migration_with_schema.schema.sql"),
                   fx("pg_migration_with_schema.sql"))
    d = json.loads(p.stdout)
    assert {f["rule"] for f in d["findings"]} >= {"create-index-non-concurrently", "drop-index-non-concurrently",
                                                  "fk-type-mismatch"}
    assert not any(f["table"] == "legacy" for f in d["findings"])


def test_pg_version_flag_and_stdin():
    sql = b"ALTER TABLE t ADD COLUMN c integer NOT NULL DEFAULT 0;\n"
    d = json.loads(consultant("--format", "json", "-", stdin=sql).stdout)
    assert [f["rule"] for f in d["findings"]] == ["missing-lock-timeout"]
    d = json.loads(consultant("--format", "json", "--pg-version", "10", "-", stdin=sql).stdout)
    assert "add-column-volatile-default" in [f["rule"] for f in d["findings"]]


def test_dialect_flag():
    sql = b"ALTER TABLE t CHANGE COLUMN a b INT;\n"
    d = json.loads(consultant("--format", "json", "--dialect", "mysql", "-", stdin=sql).stdout)
    assert d["dialect"] == "mysql" and [f["rule"] for f in d["findings"]] == ["rename-column"]


def test_several_paths_give_one_json_object_per_line():
    p = consultant("--format", "json", fx("pg_clean_schema.sql"), fx("pg_wide_table.sql"))
    objs = [json.loads(line) for line in p.stdout.decode().strip().splitlines()]
    assert len(objs) == 2 and objs[1]["summary"]["info"] == 1


def test_suppression_by_consultant_toml_in_the_file_tree(tmp_path):
    mig = tmp_path / "db" / "001.sql"
    mig.parent.mkdir()
    mig.write_text("ALTER TABLE users ADD COLUMN status text NOT NULL;\nDROP TABLE legacy;\n")
    rules = lambda p: [f["rule"] for f in json.loads(p.stdout)["findings"]]  # noqa: E731
    assert rules(consultant("--format", "json", str(mig), cwd=tmp_path)) == [
        "add-column-not-null-no-default", "missing-lock-timeout", "drop-table"]
    (tmp_path / ".consultant.toml").write_text(
        'disable = ["missing-lock-timeout"]\n[severity]\n"add-column-not-null-no-default" = "warning"\n')
    p = consultant("--format", "json", str(mig), cwd=tmp_path)
    assert rules(p) == ["add-column-not-null-no-default", "drop-table"]
    assert json.loads(p.stdout)["summary"]["error"] == 0 and p.returncode == 0


def test_suppression_by_pyproject_and_bad_config(tmp_path):
    mig = tmp_path / "m.sql"
    mig.write_text("DROP TABLE legacy;\n")
    (tmp_path / "pyproject.toml").write_text('[tool.consultant.review]\ndisable = ["drop-table", "missing-lock-timeout"]\n')
    assert json.loads(consultant("--format", "json", str(mig)).stdout)["findings"] == []
    (tmp_path / "pyproject.toml").write_text('[tool.consultant.review]\ndisable = ["no-such-rule"]\n')
    p = consultant(str(mig))
    assert p.returncode == 1 and b"unknown review rule" in p.stderr


@pytest.mark.parametrize("name", ["mysql_design.sql", "sqlite_design.sql", "pg_parse_errors.sql"])
def test_every_format_runs_on_each_dialect(name):
    for fmt in ("text", "json", "sarif", "github"):
        p = consultant("--format", fmt, fx(name))
        assert p.returncode in (0, 1) and p.stderr == b"", (fmt, p.stderr)


def test_help_lists_review_and_does_not_import_the_parsers():
    env = dict(os.environ, PYTHONPATH=str(REPO))
    code = ("import sys; from adapters.cli import build_parser; build_parser(); "
            "print(any(m.startswith(('pglast', 'sqlglot')) for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env, cwd=str(REPO), timeout=60)
    assert out.stdout.strip() == b"False"
    help_out = subprocess.run([sys.executable, "-m", "adapters.cli", "review", "--help"], capture_output=True,
                              env=env, cwd=str(REPO), timeout=60)
    assert b"--fail-on" in help_out.stdout and help_out.returncode == 0

"""Whole-process timing of `consultant review --format json` against squawk, side by side, in one run.

    python -m bench.review [--runs 15] [--file ../shared/corpus/schemas/lago.sql] [--pglast]

Rows (each tool runs as a fresh process, interpreter start-up and imports included, alternating with the
other, after one warm-up each; best and median wall times):
- dump: the PostgreSQL dump (lago.sql by default), ours vs squawk; target ratio <= 2.0x squawk;
- one statement: a one-statement PostgreSQL migration, ours vs squawk; target <= 60 ms for ours;
- MySQL and SQLite through sqlglot: the same one-statement migration with --dialect mysql / sqlite (squawk
  cannot read them, so its PostgreSQL time is the baseline), and the sakila MySQL dump against squawk on
  sakila's PostgreSQL version of the same schema (same target ratio);
- peak RSS of one review of the dump (target < 250 MB), measured by a wrapper that waits for that child only.

Python processes get a bytecode cache (PYTHONPYCACHEPREFIX in a temporary directory) even when the
environment sets PYTHONDONTWRITEBYTECODE: an installed package ships compiled bytecode, and recompiling
every module on every run would measure the compiler, not the review.

--pglast times the fallback binding (pglast.parser.parse_sql_json after importing the pglast package)
instead of the direct libpg_query call the review uses by default (see bot/review/pg_native.py).

Rows that need the shared corpus are skipped with a message when it is absent; everything is skipped
(exit 0) when the squawk binary is absent.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "schemas"
DEFAULT_FILE = CORPUS / "lago.sql"
TARGET_RATIO = 2.0
TARGET_ONE_MS = 60.0
TARGET_MB = 250
ONE_STATEMENT = "ALTER TABLE orders ADD COLUMN note text;\n"


def find_squawk() -> str | None:
    found = shutil.which("squawk")
    if found:
        return found
    beside = Path(sys.executable).with_name("squawk")
    return str(beside) if beside.exists() else None


def _time(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=str(ROOT), env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):  # 1 means "findings at or above --fail-on" (or squawk's violations)
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[:500]}")
    return elapsed


def pair(ours: list[str], theirs: list[str], env: dict, runs: int) -> tuple[list[float], list[float]]:
    """Alternating timed runs of both commands, after one warm-up each (bytecode and page caches)."""
    _time(ours, env)
    _time(theirs, env)
    t_ours, t_theirs = [], []
    for _ in range(runs):
        t_ours.append(_time(ours, env))
        t_theirs.append(_time(theirs, env))
    return t_ours, t_theirs


def peak_rss_mb(cmd: list[str], env: dict) -> float:
    """ru_maxrss of one child, from a wrapper process that runs nothing else."""
    code = ("import resource, subprocess, sys; "
            "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, cwd=str(ROOT), env=env, check=True)
    kb = int(out.stdout.decode().strip())
    return kb / 1024 if sys.platform != "darwin" else kb / 1048576


def _ms(xs: list[float]) -> str:
    return f"best {min(xs) * 1000:7.1f} ms  median {statistics.median(xs) * 1000:7.1f} ms"


def report_ratio(label: str, ours: list[float], theirs: list[float], baseline: str) -> bool:
    ratio = statistics.median(ours) / statistics.median(theirs)
    best = min(ours) / min(theirs)
    ok = ratio <= TARGET_RATIO
    print(f"  {label:<34} {_ms(ours)}")
    print(f"  {baseline:<34} {_ms(theirs)}")
    print(f"  {'ratio (ours / squawk)':<34} best {best:7.2f} x     median {ratio:7.2f} x     "
          f"(target <= {TARGET_RATIO} x) {'met' if ok else 'MISSED'}")
    return ok


def report_one(label: str, ours: list[float], theirs: list[float], baseline: str) -> bool:
    ok = statistics.median(ours) * 1000 <= TARGET_ONE_MS
    print(f"  {label:<34} {_ms(ours)}   (target <= {TARGET_ONE_MS:.0f} ms) {'met' if ok else 'MISSED'}")
    print(f"  {baseline:<34} {_ms(theirs)}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per tool and row (default 15)")
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="PostgreSQL dump (default: the corpus lago.sql)")
    parser.add_argument("--pglast", action="store_true", help="time the pglast.parser.parse_sql_json fallback")
    args = parser.parse_args(argv)

    squawk = find_squawk()
    if squawk is None:
        print("skipped: squawk not found on PATH or next to the Python interpreter (pip install squawk-cli)")
        return 0

    tmp = Path(tempfile.mkdtemp(prefix="consultant-bench-"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPYCACHEPREFIX=str(tmp / "pycache"), PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    env.pop("CONSULTANT_REVIEW_PGLAST", None)
    if args.pglast:
        env["CONSULTANT_REVIEW_PGLAST"] = "1"
    review = [sys.executable, "-m", "adapters.cli", "review", "--format", "json"]
    lint = [squawk, "--reporter", "json"]
    one = tmp / "0001_add_note.sql"
    one.write_text(ONE_STATEMENT)
    binding = "pglast.parser.parse_sql_json" if args.pglast else "libpg_query via pglast's library"
    print(f"{args.runs} runs per tool and row; PostgreSQL parser binding: {binding}")
    results: list[bool] = []
    try:
        if args.file.exists():
            lines = sum(1 for _ in args.file.open(encoding="utf-8", errors="replace"))
            print(f"\ndump: {args.file.name} ({lines} lines, {args.file.stat().st_size / 1024:.0f} KiB)")
            ours, theirs = pair(review + [str(args.file)], lint + [str(args.file)], env, args.runs)
            results.append(report_ratio("consultant review --format json", ours, theirs, "squawk --reporter json"))
            rss = peak_rss_mb(review + [str(args.file)], env)
            print(f"  {'peak RSS of one review process':<34} {rss:.1f} MB   (target < {TARGET_MB} MB)")
            results.append(rss < TARGET_MB)
        else:
            print(f"\ndump: skipped, {args.file} not found (the shared corpus is not checked out here)")

        print(f"\none statement: {ONE_STATEMENT.strip()}")
        ours, theirs = pair(review + [str(one)], lint + [str(one)], env, args.runs)
        results.append(report_one("consultant review (postgres)", ours, theirs, "squawk (postgres)"))
        squawk_one = theirs
        bare = [_time([sys.executable, "-c", "pass"], env) for _ in range(args.runs)]
        print(f"  {'python -c pass (interpreter alone)':<34} {_ms(bare)}")

        print("\nMySQL and SQLite through sqlglot (squawk reads PostgreSQL only: its figures are the baseline)")
        for dialect in ("mysql", "sqlite"):
            ours = [_time(review + ["--dialect", dialect, str(one)], env) for _ in range(args.runs + 1)][1:]
            results.append(report_one(f"consultant review --dialect {dialect}", ours, squawk_one, "squawk (postgres)"))
        # The floor of any review that parses with sqlglot: the interpreter plus sqlglot's own import.
        floor = [_time([sys.executable, "-c", "import sqlglot"], env) for _ in range(args.runs + 1)][1:]
        label = 'python -c "import sqlglot" (floor)'
        print(f"  {label:<34} {_ms(floor)}")
        mysql_dump, pg_twin = CORPUS / "sakila-mysql.sql", CORPUS / "sakila-postgres.sql"
        if mysql_dump.exists() and pg_twin.exists():
            ours, theirs = pair(review + [str(mysql_dump)], lint + [str(pg_twin)], env, args.runs)
            results.append(report_ratio("consultant review sakila-mysql.sql", ours, theirs,
                                        "squawk sakila-postgres.sql"))
        else:
            print("  sakila dumps: skipped, not found (the shared corpus is not checked out here)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\nall targets met" if all(results) else "\nSOME TARGETS MISSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Whole-process timing of `consultant review --format json` against squawk, on the same file, in the same run.

    python -m bench.review [--runs 15] [--file ../shared/corpus/schemas/lago.sql] [--pglast]

Both tools run as fresh processes (interpreter start-up and imports included), alternating, after one
warm-up each; best and median wall times are printed with their ratio (target: <= 2.5x squawk), then the
peak RSS of one review process (target: < 250 MB), measured by a wrapper that waits for that child only.

Python processes get a bytecode cache (PYTHONPYCACHEPREFIX in a temporary directory) even when the
environment sets PYTHONDONTWRITEBYTECODE: an installed package ships compiled bytecode, and recompiling
every module on every run would measure the compiler, not the review.

--pglast times the fallback binding (pglast.parser.parse_sql_json after importing the pglast package)
instead of the direct libpg_query call the review uses by default (see bot/review/pg_native.py).

Skips with a message (exit 0) when the corpus file or the squawk binary is absent.
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
DEFAULT_FILE = ROOT.parent / "shared" / "corpus" / "schemas" / "lago.sql"
TARGET_RATIO = 2.5
TARGET_MB = 250


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


def peak_rss_mb(cmd: list[str], env: dict) -> float:
    """ru_maxrss of one child, from a wrapper process that runs nothing else."""
    code = ("import resource, subprocess, sys; "
            "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, cwd=str(ROOT), env=env, check=True)
    kb = int(out.stdout.decode().strip())
    return kb / 1024 if sys.platform != "darwin" else kb / 1048576


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per tool (default 15)")
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="SQL file (default: the corpus lago.sql)")
    parser.add_argument("--pglast", action="store_true", help="time the pglast.parser.parse_sql_json fallback")
    args = parser.parse_args(argv)

    if not args.file.exists():
        print(f"skipped: {args.file} not found (the shared corpus is not checked out here)")
        return 0
    squawk = find_squawk()
    if squawk is None:
        print("skipped: squawk not found on PATH or next to the Python interpreter (pip install squawk-cli)")
        return 0

    cache = tempfile.mkdtemp(prefix="consultant-bench-pycache-")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPYCACHEPREFIX=cache, PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    env.pop("CONSULTANT_REVIEW_PGLAST", None)
    if args.pglast:
        env["CONSULTANT_REVIEW_PGLAST"] = "1"
    ours = [sys.executable, "-m", "adapters.cli", "review", "--format", "json", str(args.file)]
    theirs = [squawk, "--reporter", "json", str(args.file)]

    try:
        _time(ours, env)  # warm-up: fills the bytecode cache and the page cache
        _time(theirs, env)
        t_ours, t_theirs = [], []
        for _ in range(args.runs):
            t_ours.append(_time(ours, env))
            t_theirs.append(_time(theirs, env))
        rss = peak_rss_mb(ours, env)
    finally:
        shutil.rmtree(cache, ignore_errors=True)

    lines = sum(1 for _ in args.file.open(encoding="utf-8", errors="replace"))
    best_o, med_o = min(t_ours), statistics.median(t_ours)
    best_s, med_s = min(t_theirs), statistics.median(t_theirs)
    binding = "pglast.parser.parse_sql_json" if args.pglast else "libpg_query via pglast's library"
    print(f"file: {args.file.name} ({lines} lines, {args.file.stat().st_size / 1024:.0f} KiB), {args.runs} runs each, "
          f"parser binding: {binding}")
    print(f"consultant review --format json: best {best_o * 1000:7.1f} ms   median {med_o * 1000:7.1f} ms")
    print(f"squawk --reporter json:          best {best_s * 1000:7.1f} ms   median {med_s * 1000:7.1f} ms")
    ratio_best, ratio_med = best_o / best_s, med_o / med_s
    print(f"ratio (consultant / squawk):     best {ratio_best:7.2f} x    median {ratio_med:7.2f} x   "
          f"(target <= {TARGET_RATIO} x)")
    print(f"peak RSS of one review process:  {rss:.1f} MB   (target < {TARGET_MB} MB)")
    ok = ratio_med <= TARGET_RATIO and rss < TARGET_MB
    print("target met" if ok else "TARGET MISSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())

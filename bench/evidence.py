"""Whole-process timing of `consultant explain` on a 1,000-node JSON plan and `consultant querylog` on a
50,000-line PostgreSQL server log, against the floor and a public analyzer, side by side in one run.

    python -m bench.evidence [--runs 7] [--nodes 1000] [--lines 50000]

The inputs are built from the recorded fixtures (tests/evidence/fixtures): real plan nodes copied until the tree has
--nodes nodes, real server-log lines repeated (each copy in its own backend pid, with its own literal values) until
the log has --lines lines. Every command runs as a fresh process, interpreter start-up and imports included;
best and median wall times are printed.

Baselines:
- the floor: a fresh Python that only json.loads the plan, or only reads the log's lines;
- dataxplan (a public EXPLAIN analyzer, PyPI) for the plan and pgbadger (Debian) for the log, when installed:
  `--dataxplan PATH` (default: on PATH or /tmp/scratch-bench/bin/dataxplan), pgbadger from PATH. Neither is a
  project dependency; they are skipped with a note when absent.

Targets: the plan in <= 0.5 s, the log at >= 50,000 lines per second.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "evidence" / "fixtures"
PLAN_TARGET_S = 0.5
LOG_TARGET_LPS = 50_000


def _count(node: dict) -> int:
    return 1 + sum(_count(c) for c in node.get("Plans") or [])


def build_plan(nodes: int) -> list:
    """A real root whose children are copies of real subtrees from every recorded JSON plan."""
    subtrees = []
    for path in sorted((FIXTURES / "plans").glob("*.json")):
        top = json.loads(path.read_text())[0]
        subtrees.append(top["Plan"])
    root_doc = json.loads((FIXTURES / "plans" / "hash_spill.json").read_text())[0]
    root = copy.deepcopy(root_doc["Plan"])
    root["Plans"] = []
    total, i = 1, 0
    while total < nodes:
        piece = copy.deepcopy(subtrees[i % len(subtrees)])
        if total + _count(piece) > nodes:
            piece = copy.deepcopy(next(s for s in subtrees if _count(s) <= nodes - total))
        piece["Parent Relationship"] = "Member"
        root["Plans"].append(piece)
        total += _count(piece)
        i += 1
    root_doc["Plan"] = root
    root_doc["Execution Time"] = sum(float(p.get("Actual Total Time") or 0) for p in root["Plans"]) + 1.0
    return [root_doc]


def build_log(lines: int) -> str:
    """Recorded server-log lines, repeated: each copy gets its own pid and its own literal numbers."""
    source = []
    for name in ("server_simple.log", "server_extended.log", "server_interleaved.log"):
        source += (FIXTURES / "logs" / name).read_text().splitlines()
    out: list[str] = []
    copy_no = 0
    while len(out) < lines:
        copy_no += 1
        for line in source:
            line = re.sub(r"\[(\d+)\]", lambda m: f"[{int(m.group(1)) + copy_no}]", line, count=1)
            line = re.sub(r"(= )(\d+)\b", lambda m: f"{m.group(1)}{int(m.group(2)) + copy_no}", line)
            out.append(line)
            if len(out) == lines:
                break
    return "\n".join(out) + "\n"


def _env() -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "bench-evidence-pycache")
    return env


def _time(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=str(ROOT), env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[:500]}")
    return elapsed


def measure(commands: dict[str, list[str]], runs: int) -> dict[str, list[float]]:
    env = _env()
    for cmd in commands.values():  # warm-up: bytecode caches, page cache
        _time(cmd, env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, cmd in commands.items():
            times[name].append(_time(cmd, env))
    return times


def report(title: str, times: dict[str, list[float]], unit: int | None = None) -> None:
    print(title)
    for name, values in times.items():
        best, median = min(values), statistics.median(values)
        rate = f"  {unit / median:>12,.0f} lines/s" if unit else ""
        print(f"  {name:<34} best {best:7.3f} s   median {median:7.3f} s{rate}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--dataxplan", default=shutil.which("dataxplan") or "/tmp/scratch-bench/bin/dataxplan")
    args = parser.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        plan_path, log_path = Path(tmp) / "plan.json", Path(tmp) / "server.log"
        plan = build_plan(args.nodes)
        plan_path.write_text(json.dumps(plan, indent=2))
        log_path.write_text(build_log(args.lines))
        print(f"plan: {_count(plan[0]['Plan'])} nodes, {plan_path.stat().st_size / 1024:,.0f} KB; "
              f"log: {args.lines:,} lines, {log_path.stat().st_size / 1048576:,.1f} MB; {args.runs} runs each\n")

        plan_cmds = {
            "consultant explain --format json": [py, "-m", "adapters.cli", "explain", "--format", "json",
                                                 str(plan_path)],
            "floor: python + json.load": [py, "-c", "import json,sys; json.load(open(sys.argv[1]))", str(plan_path)],
        }
        if Path(args.dataxplan).exists():
            plan_cmds["dataxplan --json (public analyzer)"] = [args.dataxplan, "--json", str(plan_path)]
        else:
            print("  (dataxplan not installed: pip install dataxplan in a scratch venv to compare)")
        plan_times = measure(plan_cmds, args.runs)
        report(f"1,000-node JSON plan (target <= {PLAN_TARGET_S} s)", plan_times)
        ours = statistics.median(plan_times["consultant explain --format json"])
        print(f"  -> {'OK' if ours <= PLAN_TARGET_S else 'MISSED'}: median {ours:.3f} s\n")

        log_cmds = {
            "consultant querylog --format json": [py, "-m", "adapters.cli", "querylog", "--format", "json",
                                                  str(log_path)],
            "floor: python + read lines": [py, "-c", "import sys; sum(1 for _ in open(sys.argv[1]))", str(log_path)],
        }
        if shutil.which("pgbadger"):
            log_cmds["pgbadger -x json (public analyzer)"] = [
                "pgbadger", "-q", "-f", "stderr", "--prefix", "%m [%p] %q%u@%d ", "-x", "json",
                "-o", str(Path(tmp) / "pgbadger.json"), str(log_path)]
        else:
            print("  (pgbadger not installed: apt-get install pgbadger to compare)")
        log_times = measure(log_cmds, args.runs)
        report(f"{args.lines:,}-line server log (target >= {LOG_TARGET_LPS:,} lines/s)", log_times, args.lines)
        rate = args.lines / statistics.median(log_times["consultant querylog --format json"])
        print(f"  -> {'OK' if rate >= LOG_TARGET_LPS else 'MISSED'}: {rate:,.0f} lines/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

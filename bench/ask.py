"""Whole-process time of a one-shot offline `consultant ask` on a warm index, against the 0.4 s target.

    python -m bench.ask [--runs 9]

Runs `consultant ask --json QUESTION` and `consultant ask QUESTION` (rendered by rich) as fresh processes, in
turn (no LLM configured, the embedded SQLite store and the knowledge index in a temporary CONSULTANT_DATA_DIR),
after warm-up runs that build the index and migrate the database. Then one more process reports where the time goes, stage by stage, so a regression
points at its stage. Bytecode is cached in the temporary directory (see bench/review.py for why).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 0.4
QUESTION = "why is my query slow with a seq scan on orders"

# Runs in the child: the same steps as `consultant ask`, timed one by one.
STAGES = r"""
import json, sys, time
marks = []
t = time.perf_counter()
def lap(name):
    global t
    now = time.perf_counter(); marks.append((name, now - t)); t = now
import asyncio
from adapters.console.ask import local_inbound
lap("import the ask path (bootstrap, engine, store)")
from bot.bootstrap import build_app, build_retriever, open_store
from bot.config import Settings

async def main():
    settings = Settings.from_env()
    store = await open_store(settings)
    lap("open the store (schema revision check)")
    retriever = build_retriever(settings)
    lap("knowledge index load (notes from its snapshot, index opened)")
    app = await build_app(settings, store=store, retriever=retriever, migrate=False)
    lap("analyzers and engine")
    await app.engine.handle(local_inbound("bench-ask", sys.argv[1]))
    lap("the turn (engine.handle)")
    await app.close()
    lap("close")

asyncio.run(main())
print(json.dumps(marks))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="timed runs (default 9)")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="consultant-bench-ask-"))
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONDONTWRITEBYTECODE", "OPENAI_API_KEY", "DATABASE_URL", "KNOWLEDGE_DIR")}
    env.update(PYTHONPYCACHEPREFIX=str(tmp / "pycache"), CONSULTANT_DATA_DIR=str(tmp / "data"),
               PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    commands = {"consultant ask --json": [sys.executable, "-m", "adapters.cli", "ask", "--json", QUESTION],
                # The answer rendered as Markdown by rich, as a person reads it (to a pipe here).
                "consultant ask": [sys.executable, "-m", "adapters.cli", "ask", QUESTION]}
    try:
        for cmd in commands.values():  # the first builds the index and the database
            subprocess.run(cmd, check=True, capture_output=True, cwd=str(ROOT), env=env)
        times: dict[str, list[float]] = {label: [] for label in commands}
        for _ in range(args.runs):
            for label, cmd in commands.items():  # alternating, so machine noise hits both alike
                start = time.perf_counter()
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               cwd=str(ROOT), env=env)
                times[label].append(time.perf_counter() - start)
        out = subprocess.run([sys.executable, "-c", STAGES, QUESTION], check=True, capture_output=True,
                             cwd=str(ROOT), env=env)
        stages = json.loads(out.stdout.decode().strip().splitlines()[-1])
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, cwd=str(ROOT), env=env)
        bare = time.perf_counter() - start
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"one-shot ask, offline, warm index, {args.runs} runs each (target: median <= {TARGET_S:.3f} s)")
    for label, runs in times.items():
        median = statistics.median(runs)
        print(f"  {label:<22} best {min(runs):6.3f} s   median {median:6.3f} s   "
              f"{'met' if median <= TARGET_S else 'MISSED'}")
    print(f"where the time of `ask --json` goes (one process; the interpreter alone starts in {bare:.3f} s):")
    for name, seconds in stages:
        print(f"  {seconds:6.3f} s  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Search latency: FTS5Retriever vs rank_bm25.BM25Okapi on the same corpus and queries, in the same run.

Two corpora: the real notes in knowledge/, and a synthetic corpus of N generated notes (default 10,000)
whose text is sampled (Zipf-like) from the real notes' vocabulary mixed with generated pseudo-words, with the
same structure as a real note (title, aliases, tags, summary, questions, six sections). The queries are the
evaluation scenarios (tests/eval/scenarios.jsonl). Latency is per query, index build excluded; rank_bm25
scores every document and takes the top k, FTS5Retriever runs its full pipeline (normalisation, MATCH,
bm25(), type re-ranking).

    python -m bench.retrieval [--notes 10000] [--seed 7] [-k 5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import itertools
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("When this applies", "How to confirm and measure", "Patterns and fixes", "Tradeoffs", "Pitfalls",
            "Further reading")
_TOKEN = re.compile(r"[a-z0-9]+")
_BASELINE_STOP = frozenset(
    "a an and are as at be but by for from has have how i if in into is it its of on or our so that the their this "
    "to was we what when where which while who why will with you your".split()
)


def tokenize(text: str) -> list[str]:
    """The baseline's tokenizer: lowercase words minus common stop words (no stemming)."""
    return [t for t in _TOKEN.findall(text.lower()) if t not in _BASELINE_STOP]


def note_text(note) -> str:
    return " ".join([note.title, " ".join(note.aliases), " ".join(note.tags), note.summary,
                     " ".join(q.text for q in note.questions), note.body])


def synthetic_notes(count: int, vocabulary: list[str], seed: int = 7):
    """`count` generated notes with the structure of real ones."""
    from bot.knowledge.notes import split_sections
    from bot.knowledge.port import Note, Question

    rng = random.Random(seed)
    pseudo = ["".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(rng.randint(2, 4)))
              for _ in range(20_000)]
    words = vocabulary + pseudo
    # Zipf-like weights: a few very common words, a long tail of rare ones.
    rng.shuffle(words)
    cumulative = list(itertools.accumulate(1.0 / (rank + 10) for rank in range(len(words))))

    def text(n: int) -> str:
        return " ".join(rng.choices(words, cum_weights=cumulative, k=n))

    areas = ["api", "architecture", "auth", "async", "data-modeling", "performance", "correctness", "migrations",
             "operations"]
    notes = []
    for i in range(count):
        body = "\n\n".join(f"## {title}\n\n" + "\n".join(f"- {text(rng.randint(8, 20))}" for _ in range(rng.randint(4, 9)))
                           for title in SECTIONS)
        notes.append(Note(
            id=f"synthetic-{i:05d}",
            title=text(rng.randint(3, 7)).capitalize(),
            area=rng.choice(areas),
            problem_type=rng.choice(("design", "performance", "correctness")),
            summary=text(rng.randint(30, 60)),
            questions=tuple(Question(text(rng.randint(8, 16)) + "?") for _ in range(rng.randint(3, 8))),
            tags=tuple(text(1) for _ in range(rng.randint(3, 8))),
            aliases=tuple(text(rng.randint(1, 4)) for _ in range(rng.randint(10, 30))),
            body=body,
            sections=split_sections(body),
        ))
    return notes


def _stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.fmean(ordered) * 1000, p95 * 1000


def measure(notes, queries: list[str], k: int, repeat: int) -> dict:
    import numpy as np
    from rank_bm25 import BM25Okapi

    from bot.knowledge.index import FTS5Retriever

    started = time.perf_counter()
    fts = FTS5Retriever.from_notes(notes)
    fts_build = time.perf_counter() - started
    started = time.perf_counter()
    bm25 = BM25Okapi([tokenize(note_text(n)) for n in notes])
    bm25_build = time.perf_counter() - started

    def run_fts(q: str):
        return fts.search(q, k)

    def run_bm25(q: str):
        scores = bm25.get_scores(tokenize(q))
        return np.argsort(scores)[::-1][:k]

    for q in queries[:5]:  # warm up caches on both sides
        run_fts(q)
        run_bm25(q)
    timings: dict[str, list[float]] = {"fts5": [], "rank_bm25": []}
    for _ in range(repeat):
        for q in queries:
            for name, fn in (("fts5", run_fts), ("rank_bm25", run_bm25)):
                t0 = time.perf_counter()
                fn(q)
                timings[name].append(time.perf_counter() - t0)
    return {"notes": len(notes), "build": {"fts5": fts_build, "rank_bm25": bm25_build},
            **{name: _stats(samples) for name, samples in timings.items()}}


def print_rows(rows: list[tuple[str, dict]], out=sys.stdout) -> None:
    print(f"{'corpus':<22} {'notes':>6}  {'engine':<10} {'mean ms':>9} {'p95 ms':>9} {'build s':>8}", file=out)
    for label, result in rows:
        for engine in ("fts5", "rank_bm25"):
            mean, p95 = result[engine]
            print(f"{label:<22} {result['notes']:>6}  {engine:<10} {mean:>9.3f} {p95:>9.3f} {result['build'][engine]:>8.2f}",
                  file=out)
        ratio_mean = result["rank_bm25"][0] / result["fts5"][0]
        ratio_p95 = result["rank_bm25"][1] / result["fts5"][1]
        print(f"{label:<22} {'':>6}  speed-up: {ratio_mean:.1f}x mean, {ratio_p95:.1f}x p95 (fts5 vs rank_bm25)", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.retrieval", description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=10_000, help="synthetic corpus size (default 10000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3, help="passes over the query set (default 3)")
    args = parser.parse_args(argv)

    from bench.retrieval_eval import load_scenarios
    from bot.config import PACKAGED_KNOWLEDGE_DIR
    from bot.knowledge.notes import load_notes

    queries = [row["text"] for row in load_scenarios()]
    real = load_notes(PACKAGED_KNOWLEDGE_DIR)
    vocabulary = sorted({t for n in real for t in _TOKEN.findall(note_text(n).lower()) if t.isalpha() and len(t) > 2})
    print(f"{len(queries)} queries x {args.repeat} passes, k={args.k}; python {sys.version.split()[0]}, "
          f"sqlite {__import__('sqlite3').sqlite_version}")
    rows = [("real notes", measure(real, queries, args.k, args.repeat))]
    synthetic = synthetic_notes(args.notes, vocabulary, args.seed)
    rows.append((f"synthetic ({args.notes})", measure(synthetic, queries, args.k, args.repeat)))
    print_rows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())

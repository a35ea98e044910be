"""`consultant knowledge list|search|check`: the curators' view of the knowledge base.

Nothing heavy is imported at module level, so `consultant --help` stays fast.
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "knowledge",
        help="list, search and check the knowledge notes",
        description="List, search and validate the knowledge notes (the packaged notes plus KNOWLEDGE_DIR).",
    )
    sub = parser.add_subparsers(dest="knowledge_command", metavar="SUBCOMMAND")
    parser.set_defaults(run=_usage(parser))

    p_list = sub.add_parser("list", help="every note: id, area, problem type, title")
    p_list.add_argument("--json", action="store_true", help='print a JSON list of {"id", "title", "area", "problem_type"}')
    p_list.set_defaults(run=run_list)

    p_search = sub.add_parser("search", help="rank the notes for a query, with scores (for debugging retrieval)")
    p_search.add_argument("query", metavar="QUERY", help="the question, as a user would type it")
    p_search.add_argument("-k", type=int, default=5, metavar="N", help="how many notes to show (default 5)")
    p_search.add_argument("--json", action="store_true", help="print JSON")
    p_search.set_defaults(run=run_search)

    p_check = sub.add_parser("check", help="validate notes; exits 1 with one 'file:line: problem' line per problem")
    p_check.add_argument("dir", nargs="?", metavar="DIR", help="notes folder (default: KNOWLEDGE_DIR or the packaged notes)")
    p_check.set_defaults(run=run_check)


def _usage(parser: argparse.ArgumentParser):
    def run(args) -> int:
        parser.print_help()
        return 2

    return run


def _settings():
    from bot.config import Settings

    return Settings.from_env()


def run_list(args) -> int:
    import json

    from bot.knowledge.notes import knowledge_dirs, load_notes

    notes = load_notes(knowledge_dirs(_settings().knowledge_dir))
    if args.json:
        print(json.dumps([{"id": n.id, "title": n.title, "area": n.area, "problem_type": n.problem_type} for n in notes], indent=2))
        return 0
    width = max((len(n.id) for n in notes), default=2)
    for n in notes:
        print(f"{n.id:<{width}}  {n.area:<13} {n.problem_type:<11} {n.title}")
    print(f"{len(notes)} notes")
    return 0


def run_search(args) -> int:
    import json

    from bot.consult.classify import classify
    from bot.knowledge.index import FTS5Retriever

    retriever = FTS5Retriever.from_settings(_settings(), refresh_interval=None)
    results = retriever.search(args.query, k=max(1, args.k))
    problem_type = classify(args.query, results)
    if args.json:
        print(json.dumps({
            "query": args.query,
            "fts_query": retriever.fts_query(args.query),
            "problem_type": problem_type,
            "results": [
                {"rank": i, "id": r.note.id, "title": r.note.title, "area": r.note.area,
                 "problem_type": r.note.problem_type, "score": round(r.score, 4)}
                for i, r in enumerate(results, 1)
            ],
        }, indent=2))
        return 0
    print(f"query: {retriever.fts_query(args.query) or '(no searchable terms)'}")
    print(f"problem type: {problem_type}")
    if not results:
        print("no matching notes")
        return 0
    width = max(len(r.note.id) for r in results)
    for i, r in enumerate(results, 1):
        print(f"{i:>2}. {r.score:8.3f}  {r.note.id:<{width}}  {r.note.area}/{r.note.problem_type}  {r.note.title}")
    return 0


def run_check(args) -> int:
    import sys
    from pathlib import Path

    from bot.errors import ConfigError
    from bot.knowledge.check import check_notes
    from bot.knowledge.notes import note_files

    directory = Path(args.dir).expanduser() if args.dir else _settings().knowledge_dir
    if not directory.is_dir():
        raise ConfigError(f"knowledge check: {directory} is not a folder")
    problems = check_notes(directory)
    for problem in problems:
        print(problem)
    count = len(note_files(directory))
    if problems:
        files = len({p.path for p in problems})
        print(f"{len(problems)} problem(s) in {files} of {count} note(s) under {directory}", file=sys.stderr)
        return 1
    print(f"OK: {count} note(s) under {directory}, no problems")
    return 0

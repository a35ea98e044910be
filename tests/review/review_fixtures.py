"""Fixture helpers for the review tests: which fixtures exist, how to review them, what is expected.

`python tests/review/review_fixtures.py [NAME...]` rewrites expected/*.json from the current
output. Only do that for a new fixture or a deliberate rule change, and read the diff: every
expected tuple was checked by hand against its fixture.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
EXPECTED = HERE / "expected"
DIALECT_PREFIX = {"pg": "postgres", "mysql": "mysql", "sqlite": "sqlite"}


def fixture_names() -> list[str]:
    return sorted(p.stem for p in FIXTURES.glob("*.sql") if not p.name.endswith(".schema.sql"))


def dialect_of(name: str) -> str:
    return DIALECT_PREFIX[name.split("_", 1)[0]]


def run_fixture(name: str):
    from bot.review import review

    path = FIXTURES / f"{name}.sql"
    schema_path = FIXTURES / f"{name}.schema.sql"
    schema = schema_path.read_text() if schema_path.exists() else None
    # `_assume_tx` fixtures are reviewed as a migration tool runs them: inside a transaction.
    return review(path.read_text(), dialect=dialect_of(name), schema=schema,
                  assume_in_transaction="_assume_tx" in name)


def _key(t: list) -> tuple:
    return tuple("" if x is None else x for x in t)


def as_expected(report) -> dict:
    return {
        "dialect": report.dialect,
        "errors": sorted(line for line, _ in report.errors),
        "findings": sorted(([f.rule, f.line, f.table, f.column] for f in report.findings), key=_key),
    }


def load_expected(name: str) -> dict:
    return json.loads((EXPECTED / f"{name}.json").read_text())


def main(names: list[str]) -> None:
    EXPECTED.mkdir(exist_ok=True)
    for name in names or fixture_names():
        data = as_expected(run_fixture(name))
        lines = ",\n".join("    " + json.dumps(f) for f in data["findings"])
        text = (f'{{\n  "dialect": {json.dumps(data["dialect"])},\n  "errors": {json.dumps(data["errors"])},\n'
                f'  "findings": [\n{lines}\n  ]\n}}\n') if lines else (
                f'{{\n  "dialect": {json.dumps(data["dialect"])},\n  "errors": {json.dumps(data["errors"])},\n'
                f'  "findings": []\n}}\n')
        (EXPECTED / f"{name}.json").write_text(text)
        print(f"{name}: {len(data['findings'])} findings")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parents[1]))
    main(sys.argv[1:])

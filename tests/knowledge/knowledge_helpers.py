"""Helpers for the knowledge tests: small, valid notes written into tmp folders."""

from __future__ import annotations

import textwrap
from pathlib import Path

BODY = """\
## When this applies

- {symptom}

## How to confirm and measure

- Run EXPLAIN (ANALYZE, BUFFERS) on the slow statement.

```sql
EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM orders WHERE id = $1;
```

## Patterns and fixes

### Fix it

{fix}

```python
def fix(rows):
    return [r for r in rows if r]
```

## Tradeoffs

- It costs something.

## Pitfalls

- Watch out.

## Further reading

- https://www.postgresql.org/docs/current/using-explain.html
"""


def note_text(
    note_id: str,
    *,
    title: str | None = None,
    area: str = "performance",
    problem_type: str = "performance",
    tags: str = "[postgresql, latency]",
    aliases: str = '["slow query", "seq scan"]',
    summary: str = "A short summary of the problem and the fix.",
    questions: str | None = None,
    related: str = "[]",
    symptom: str = "Requests get slow under load.",
    fix: str = "Do the right thing.",
    extra_front: str = "",
    body: str | None = None,
) -> str:
    questions = questions or textwrap.dedent("""\
        questions:
          - text: "Which database and version?"
            fact: database
          - "How many rows does the table hold?"
          - "Is this a list endpoint or a job?"
        """)
    front = (
        f"id: {note_id}\n"
        f"title: {title or note_id.replace('-', ' ').capitalize()}\n"
        f"area: {area}\n"
        f"problem_type: {problem_type}\n"
        f"tags: {tags}\n"
        f"aliases: {aliases}\n"
        f"summary: {summary}\n"
        f"{questions}"
        f"related: {related}\n"
        f"updated: 2026-11-26\n"
        f"{extra_front}"
    )
    return f"---\n{front}---\n\n" + (body if body is not None else BODY.format(symptom=symptom, fix=fix))


def write_note(folder: Path, note_id: str, subdir: str | None = "performance", **kwargs) -> Path:
    path = folder / subdir / f"{note_id}.md" if subdir else folder / f"{note_id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(note_text(note_id, **kwargs), encoding="utf-8")
    return path

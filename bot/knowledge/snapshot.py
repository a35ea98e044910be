"""The parsed notes and their vocabulary, stored as JSON in the index file they were indexed with.

A warm start (the index file for these exact note files exists) loads them from there instead of parsing YAML and
markdown and rebuilding the vocabulary: about 0.1 s of every `consultant ask`. JSON, not pickle, because the data
directory may be shared and a tampered file must not be able to run code. Note paths are stored relative to their
notes folder and resolved against the folders this process loaded, so an index built from another checkout of the
same notes still points at this one's files.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from bot.knowledge.notes import SourceFile
from bot.knowledge.port import Note, Question
from bot.knowledge.query import Vocabulary


def dump(notes: Sequence[Note], vocabulary: Vocabulary, sources: Sequence[SourceFile]) -> str:
    where = {source.path: (source.folder, source.relpath) for source in sources}
    return json.dumps({
        "notes": [{
            "id": n.id, "title": n.title, "area": n.area, "problem_type": n.problem_type, "summary": n.summary,
            "questions": [[q.text, list(q.asks)] for q in n.questions], "tags": list(n.tags),
            "aliases": list(n.aliases), "related": list(n.related), "symptoms": list(n.symptoms),
            "updated": n.updated, "body": n.body, "sections": list(n.sections.items()),
            "source": where.get(n.path) if n.path is not None else None,
        } for n in notes],
        "vocabulary": vocabulary.to_json(),
    }, ensure_ascii=False, separators=(",", ":"))


def load(text: str, directories: Sequence[Path]) -> tuple[list[Note], Vocabulary]:
    """The notes and vocabulary of `dump`; raises ValueError (or KeyError/TypeError) when the text is not one."""
    data = json.loads(text)
    notes = []
    for n in data["notes"]:
        source = n["source"]
        notes.append(Note(
            id=n["id"], title=n["title"], area=n["area"], problem_type=n["problem_type"], summary=n["summary"],
            questions=tuple(Question(text, tuple(asks)) for text, asks in n["questions"]), tags=tuple(n["tags"]),
            aliases=tuple(n["aliases"]), related=tuple(n["related"]), symptoms=tuple(n["symptoms"]),
            updated=n["updated"], body=n["body"], sections=dict(n["sections"]),
            path=directories[source[0]] / source[1] if source is not None else None,
        ))
    return notes, Vocabulary.from_json(data["vocabulary"])

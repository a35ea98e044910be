"""`consultant knowledge check`: validate a folder of notes, one `file:line: what is wrong` per problem.

What is checked: the front matter (required fields, their types, allowed areas / problem types / fact
tags, 3-8 questions, id equal to the file stem, no unknown fields), unique ids, that every `related` id
resolves, the six required sections in order (and not empty), and that every fenced code block parses
(```sql with pglast as PostgreSQL unless the fence says ```sql mysql or ```sql sqlite, which use sqlglot
with that dialect; ```python with ast.parse; ```json and ```yaml with their parsers).

Related ids resolve against the notes in the folder being checked. When that folder is not the packaged
`knowledge/` folder (a team's KNOWLEDGE_DIR), they may also point at packaged notes, because the bot
loads both: team notes are layered on top of the packaged ones.
"""

from __future__ import annotations

import ast
import datetime as _dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.knowledge.notes import (
    AREAS,
    FACTS,
    SYMPTOM_IDS,
    PROBLEM_TYPES,
    SECTIONS,
    NoteError,
    iter_code_blocks,
    iter_headings,
    note_files,
    split_front_matter,
    split_sections,
)

REQUIRED_FIELDS = ("id", "title", "area", "problem_type", "tags", "aliases", "summary", "questions", "related", "updated")
OPTIONAL_FIELDS = ("symptoms",)
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_SQL_DIALECTS = {"": "postgres", "postgres": "postgres", "postgresql": "postgres", "pg": "postgres", "mysql": "mysql", "sqlite": "sqlite"}


@dataclass(frozen=True, order=True)
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class _Lines:
    """Line numbers of front-matter keys and list items, from the YAML node tree."""

    def __init__(self, fm_text: str, first_line: int) -> None:
        self.keys: dict[str, int] = {}
        self.items: dict[str, list[int]] = {}
        self.first_line = first_line
        try:
            root = yaml.compose(fm_text)
        except yaml.YAMLError:
            return
        if not isinstance(root, yaml.MappingNode):
            return
        for key, value in root.value:
            if isinstance(key, yaml.ScalarNode):
                self.keys[str(key.value)] = first_line + key.start_mark.line
                if isinstance(value, yaml.SequenceNode):
                    self.items[str(key.value)] = [first_line + item.start_mark.line for item in value.value]

    def key(self, name: str) -> int:
        return self.keys.get(name, self.first_line - 1)

    def item(self, name: str, index: int) -> int:
        items = self.items.get(name, [])
        return items[index] if index < len(items) else self.key(name)


@dataclass
class _Checked:
    path: Path
    id: str | None
    id_line: int
    related: list[tuple[str, int]]


def check_notes(directory: Path | str, *, extra_ids: set[str] | None = None) -> list[Problem]:
    """Every problem in the notes under `directory`, sorted by file and line.

    `extra_ids` are ids that `related` may also point at; by default, when `directory` is not the packaged
    notes folder, the packaged notes' ids.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return [Problem(directory, 0, "not a folder")]
    if extra_ids is None:
        extra_ids = _packaged_ids(directory)
    problems: list[Problem] = []
    checked: list[_Checked] = []
    for path in note_files(directory):
        found, info = _check_file(path)
        problems.extend(found)
        checked.append(info)

    first_by_id: dict[str, _Checked] = {}
    for info in checked:
        if not info.id:
            continue
        if info.id in first_by_id:
            other = first_by_id[info.id]
            problems.append(Problem(info.path, info.id_line, f"duplicate id '{info.id}' (also in {other.path}:{other.id_line})"))
        else:
            first_by_id[info.id] = info
    known = set(first_by_id) | set(extra_ids)
    for info in checked:
        for rid, line in info.related:
            if rid == info.id:
                problems.append(Problem(info.path, line, f"related id '{rid}' is the note itself"))
            elif rid not in known:
                problems.append(Problem(info.path, line, f"related id '{rid}' does not resolve to any note"))
    return sorted(problems)


def _packaged_ids(directory: Path) -> set[str]:
    from bot.config import PACKAGED_KNOWLEDGE_DIR

    try:
        if directory.resolve() == PACKAGED_KNOWLEDGE_DIR.resolve():
            return set()
    except OSError:
        pass
    from bot.knowledge.notes import load_notes

    return {note.id for note in load_notes(PACKAGED_KNOWLEDGE_DIR)}


def _check_file(path: Path) -> tuple[list[Problem], _Checked]:
    info = _Checked(path=path, id=None, id_line=1, related=[])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return [Problem(path, 1, f"not valid UTF-8: {exc.reason}")], info
    except OSError as exc:
        return [Problem(path, 1, f"cannot read: {exc.strerror or exc}")], info
    try:
        fm = split_front_matter(text, path)
    except NoteError as exc:
        return [Problem(path, exc.line, exc.message)], info
    problems: list[Problem] = []
    if isinstance(fm.data, dict):
        problems.extend(_check_front_matter(path, fm.data, _Lines(fm.text, fm.first_line), info))
    else:
        problems.append(Problem(path, fm.first_line, "front matter must be a YAML mapping of fields"))
    problems.extend(_check_sections(path, fm.body, fm.body_line))
    problems.extend(_check_code(path, fm.body, fm.body_line))
    return problems, info


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def _check_front_matter(path: Path, data: dict, lines: _Lines, info: _Checked) -> list[Problem]:
    problems: list[Problem] = []

    def bad(field: str, message: str, item: int | None = None) -> None:
        line = lines.key(field) if item is None else lines.item(field, item)
        problems.append(Problem(path, line, message))

    for name in REQUIRED_FIELDS:
        if name not in data:
            problems.append(Problem(path, 1, f"missing required field '{name}'"))
    for name in data:
        if str(name) not in REQUIRED_FIELDS + OPTIONAL_FIELDS:
            bad(str(name), f"unknown field '{name}' (allowed: {', '.join(REQUIRED_FIELDS + OPTIONAL_FIELDS)})")

    note_id = data.get("id")
    if "id" in data:
        if not isinstance(note_id, str) or not _SLUG.match(note_id):
            bad("id", f"id must be a lowercase slug like 'n-plus-one-queries', got {note_id!r}")
        else:
            info.id, info.id_line = note_id, lines.key("id")
            if note_id != path.stem:
                bad("id", f"id '{note_id}' does not match the file name '{path.name}' (expected id '{path.stem}')")
    for name in ("title", "summary"):
        if name in data and not (isinstance(data[name], str) and data[name].strip()):
            bad(name, f"'{name}' must be a non-empty string")
    area = data.get("area")
    if "area" in data:
        if area not in AREAS:
            bad("area", f"area must be one of {', '.join(AREAS)}, got {area!r}")
        elif path.parent.name in AREAS and path.parent.name != area:
            bad("area", f"area '{area}' but the file is in the '{path.parent.name}/' folder")
    if "problem_type" in data and data["problem_type"] not in PROBLEM_TYPES:
        bad("problem_type", f"problem_type must be one of {', '.join(PROBLEM_TYPES)}, got {data['problem_type']!r}")
    for name in ("tags", "aliases", "related", "symptoms"):
        if name in data and not _is_str_list(data[name]):
            bad(name, f"'{name}' must be a list of non-empty strings")
    for index, symptom in enumerate(data.get("symptoms") or []):
        if isinstance(symptom, str) and symptom not in SYMPTOM_IDS:
            bad("symptoms", f"unknown symptom {symptom!r} (see bot/consult/vocabulary.py)", index)
    if "aliases" in data and data["aliases"] == []:
        bad("aliases", "'aliases' is empty: list the words users type for this topic")
    if "updated" in data:
        updated = data["updated"]
        if isinstance(updated, str):
            try:
                _dt.date.fromisoformat(updated)
            except ValueError:
                bad("updated", f"'updated' must be a date (YYYY-MM-DD), got {updated!r}")
        elif not isinstance(updated, _dt.date):
            bad("updated", f"'updated' must be a date (YYYY-MM-DD), got {updated!r}")
    if "questions" in data:
        problems.extend(_check_questions(path, data["questions"], lines))
    related = data.get("related")
    if isinstance(related, list):
        for index, rid in enumerate(related):
            if isinstance(rid, str) and rid.strip():
                info.related.append((rid.strip(), lines.item("related", index)))
    return problems


def _check_questions(path: Path, questions: object, lines: _Lines) -> list[Problem]:
    if not isinstance(questions, list):
        return [Problem(path, lines.key("questions"), "'questions' must be a list")]
    problems = []
    if not 3 <= len(questions) <= 8:
        problems.append(Problem(path, lines.key("questions"), f"need 3-8 questions, found {len(questions)}"))
    for index, question in enumerate(questions):
        line = lines.item("questions", index)
        if isinstance(question, str):
            if not question.strip():
                problems.append(Problem(path, line, "empty question"))
            continue
        if not isinstance(question, dict):
            problems.append(Problem(path, line, "a question must be a string or a mapping with 'text' (and optional 'fact')"))
            continue
        if not (isinstance(question.get("text"), str) and question["text"].strip()):
            problems.append(Problem(path, line, "question has no 'text'"))
        extra = set(map(str, question)) - {"text", "fact", "asks"}
        if extra:
            problems.append(Problem(path, line, f"question has unknown keys: {', '.join(sorted(extra))}"))
        raw = question.get("asks", question.get("fact"))
        names = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else None
        if ("asks" in question or "fact" in question) and names is None:
            problems.append(Problem(path, line, "'asks' must be a case field name or a list of them"))
        for name in names or []:
            if name not in FACTS:
                problems.append(Problem(path, line, f"question asks about unknown case field {name!r} "
                                                    "(see bot/consult/vocabulary.py)"))
    return problems


def _check_sections(path: Path, body: str, body_line: int) -> list[Problem]:
    problems = []
    headings = list(iter_headings(body, body_line))
    positions: dict[str, int] = {}
    for line, title in headings:
        if title in SECTIONS:
            if title in positions:
                problems.append(Problem(path, line, f"section '## {title}' appears twice"))
            else:
                positions[title] = line
    last_line, last_title = 0, None
    for title in SECTIONS:
        if title not in positions:
            problems.append(Problem(path, body_line, f"missing section '## {title}'"))
            continue
        if positions[title] < last_line:
            problems.append(Problem(path, positions[title], f"section '## {title}' must come after '## {last_title}'"))
        else:
            last_line, last_title = positions[title], title
    sections = split_sections(body)
    for title, line in positions.items():
        if not sections.get(title, "").strip():
            problems.append(Problem(path, line, f"section '## {title}' is empty"))
    return problems


def _check_code(path: Path, body: str, body_line: int) -> list[Problem]:
    problems = []
    for block in iter_code_blocks(body, body_line):
        if not block.closed:
            problems.append(Problem(path, block.line, "code fence is never closed"))
            continue
        error = parse_error(block.language, block.dialect, block.code)
        if error is not None:
            offset, message = error
            line = block.line + 1 + offset if offset is not None else block.line
            label = f"{block.language} {block.dialect}".strip()
            problems.append(Problem(path, line, f"```{label} block does not parse: {message}"))
    return problems


def parse_error(language: str, dialect: str, code: str) -> tuple[int | None, str] | None:
    """None when the code parses (or its language is not checked); else (0-based line in the block or None, message)."""
    language = language.lower()
    if language == "sql":
        if dialect not in _SQL_DIALECTS:
            return None, f"unknown SQL dialect '{dialect}' (use ```sql for PostgreSQL, ```sql mysql or ```sql sqlite)"
        return _sql_error(_SQL_DIALECTS[dialect], code)
    if language in ("python", "py", "python3"):
        try:
            ast.parse(code)
        except SyntaxError as exc:
            return (exc.lineno - 1 if exc.lineno else None), f"{exc.msg}"
        return None
    if language == "json":
        try:
            json.loads(code)
        except json.JSONDecodeError as exc:
            return exc.lineno - 1, exc.msg
        return None
    if language in ("yaml", "yml"):
        try:
            yaml.safe_load(code)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            return (mark.line if mark else None), str(exc.problem or exc).splitlines()[0]
        except yaml.YAMLError as exc:
            return None, str(exc).splitlines()[0]
        return None
    return None


def _sql_error(dialect: str, code: str) -> tuple[int | None, str] | None:
    if not code.strip():
        return 0, "empty SQL block"
    if dialect == "postgres":
        from pglast import parser

        try:
            parser.parse_sql(code)
        except parser.ParseError as exc:
            message = str(exc.args[0]) if exc.args else str(exc)
            location = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None
            line = _line_at(code, location) if location is not None else None
            return line, f"{message} (PostgreSQL)"
        return None
    import sqlglot
    from sqlglot.errors import ErrorLevel, ParseError, TokenError

    try:
        sqlglot.parse(code, read=dialect, error_level=ErrorLevel.RAISE)
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        line = first.get("line")
        description = first.get("description") or str(exc).splitlines()[0]
        return (line - 1 if isinstance(line, int) and line > 0 else None), f"{description[:160]} ({dialect})"
    except TokenError as exc:
        return None, f"{str(exc).splitlines()[0][:160]} ({dialect})"
    return None


def _line_at(code: str, offset: int) -> int:
    # pglast reports a character offset (of the UTF-8 text); close enough for ASCII-heavy SQL.
    return code[: max(0, offset)].count("\n")

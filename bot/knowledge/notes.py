"""Reading knowledge notes: one markdown file with YAML front matter per note.

`parse_note` turns one file into a `Note` and raises `NoteError` when the file is too broken to use.
`load_notes` reads a whole folder and skips broken notes with a logged warning, so one bad team note
never takes the bot down; `consultant knowledge check` (bot.knowledge.check) reports them in detail.

Note folders: the packaged `knowledge/` folder always loads; a team's `KNOWLEDGE_DIR` (when it points
elsewhere) is layered on top of it, and a team note with the same id as a packaged one replaces it.
"""

from __future__ import annotations

import datetime as _dt
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.consult.vocabulary import CASE_FIELDS, SYMPTOMS
from bot.knowledge.port import Note, Question

log = logging.getLogger(__name__)

AREAS: tuple[str, ...] = (
    "api", "architecture", "auth", "async", "data-modeling",
    "performance", "correctness", "migrations", "operations",
)
PROBLEM_TYPES: tuple[str, ...] = ("design", "performance", "correctness")
# A question names the case fields (or evidence) it asks about; a note names the symptoms it explains.
FACTS: tuple[str, ...] = tuple(CASE_FIELDS)
SYMPTOM_IDS: tuple[str, ...] = tuple(SYMPTOMS)
SECTIONS: tuple[str, ...] = (
    "When this applies",
    "How to confirm and measure",
    "Patterns and fixes",
    "Tradeoffs",
    "Pitfalls",
    "Further reading",
)
SKIPPED_FILES = frozenset({"readme.md"})

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


class NoteError(ValueError):
    """A note file that cannot be turned into a Note; `line` is 1-based."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message


@dataclass(frozen=True)
class FrontMatter:
    """The raw front matter of a note and where things are in the file."""

    data: object  # whatever yaml.safe_load returned (a dict for a well-formed note)
    text: str  # the YAML text between the --- lines
    first_line: int  # 1-based line number of the first YAML line (the line after the opening ---)
    body_line: int  # 1-based line number of the first body line (the line after the closing ---)
    body: str


@dataclass(frozen=True)
class CodeBlock:
    info: str  # the fence's info string, e.g. "sql mysql"
    code: str
    line: int  # 1-based line of the opening fence in the file
    end_line: int  # line of the closing fence (or the last line, when the fence is never closed)
    closed: bool = True

    @property
    def language(self) -> str:
        return self.info.split()[0].lower() if self.info.split() else ""

    @property
    def dialect(self) -> str:
        parts = self.info.split()
        return parts[1].lower().strip("{}") if len(parts) > 1 else ""


def note_files(directory: Path) -> list[Path]:
    """Every note file under a folder (recursive `*.md`, README.md excluded), sorted."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(
        p for p in directory.rglob("*.md")
        if p.is_file() and p.name.lower() not in SKIPPED_FILES and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    )


def split_front_matter(text: str, path: Path) -> FrontMatter:
    """Split `---` YAML front matter from the markdown body; raises NoteError when it is missing or unparsable."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise NoteError(path, 1, "no front matter: the file must start with a '---' line")
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        raise NoteError(path, 1, "front matter is not closed by a '---' line")
    fm_text = "\n".join(lines[1:end])
    # Imported here: a warm start reads the notes from the index's snapshot and never parses YAML.
    import yaml

    try:
        try:
            # libyaml's safe loader when PyYAML was built with it: the same documents, parsed ten times faster.
            data = yaml.load(fm_text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError:
            data = yaml.safe_load(fm_text)  # broken YAML: the pure-Python parser reports the clearer position
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = 2 + (mark.line if mark else 0)
        raise NoteError(path, line, f"front matter is not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise NoteError(path, 2, f"front matter is not valid YAML: {exc}") from None
    body = "\n".join(lines[end + 1:])
    return FrontMatter(data=data, text=fm_text, first_line=2, body_line=end + 2, body=body)


def iter_code_blocks(body: str, first_line: int = 1) -> Iterator[CodeBlock]:
    """Fenced code blocks in markdown (``` or ~~~, indented ones in list items included)."""
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m or (m.group("fence")[0] == "`" and "`" in m.group("info")):
            i += 1
            continue
        indent, fence, info = len(m.group("indent").expandtabs(4)), m.group("fence"), m.group("info").strip()
        start = i
        content: list[str] = []
        i += 1
        closed = False
        while i < len(lines):
            close = _FENCE.match(lines[i])
            if close and close.group("fence")[0] == fence[0] and len(close.group("fence")) >= len(fence) and not close.group("info").strip():
                closed = True
                break
            content.append(_dedent(lines[i], indent))
            i += 1
        end = i if closed else len(lines) - 1
        yield CodeBlock(info=info, code="\n".join(content), line=first_line + start, end_line=first_line + end, closed=closed)
        i += 1


def _dedent(line: str, indent: int) -> str:
    removed = 0
    while removed < indent and line[:1] in (" ", "\t"):
        line = line[1:]
        removed += 1
    return line


def iter_headings(body: str, first_line: int = 1, level: int = 2) -> Iterator[tuple[int, str]]:
    """(line, heading text) of each heading of exactly `level`, ignoring lines inside code fences."""
    marker = "#" * level + " "
    fenced_lines = set()
    for block in iter_code_blocks(body, 0):
        fenced_lines.update(range(block.line, block.end_line + 1))
    for idx, line in enumerate(body.splitlines()):
        if idx in fenced_lines:
            continue
        if line.startswith(marker):
            yield first_line + idx, line[len(marker):].strip().rstrip("#").strip()


def split_sections(body: str) -> dict[str, str]:
    """Map each `## ` heading to the markdown under it (up to the next `## ` heading)."""
    lines = body.splitlines()
    heads = list(iter_headings(body, 0))
    sections: dict[str, str] = {}
    for n, (idx, title) in enumerate(heads):
        end = heads[n + 1][0] if n + 1 < len(heads) else len(lines)
        text = "\n".join(lines[idx + 1:end]).strip("\n")
        if title in sections:  # a repeated heading: keep both parts rather than losing one
            sections[title] = sections[title] + "\n\n" + text
        else:
            sections[title] = text
    return sections


def _str(value: object, field: str, path: Path) -> str:
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value).strip()
    raise NoteError(path, 1, f"'{field}' must be a string")


def _str_list(value: object, field: str, path: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value.strip(),) if value.strip() else ()
    if not isinstance(value, list):
        raise NoteError(path, 1, f"'{field}' must be a list of strings")
    out = []
    for item in value:
        if not isinstance(item, (str, int, float)) or isinstance(item, bool):
            raise NoteError(path, 1, f"'{field}' must be a list of strings")
        if str(item).strip():
            out.append(str(item).strip())
    return tuple(out)


def _questions(value: object, path: Path) -> tuple[Question, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise NoteError(path, 1, "'questions' must be a list")
    out = []
    for item in value:
        if isinstance(item, str):
            if item.strip():
                out.append(Question(item.strip()))
        elif isinstance(item, dict) and isinstance(item.get("text"), str) and item["text"].strip():
            out.append(Question(item["text"].strip(), question_fields(item)))
        else:
            raise NoteError(path, 1, "each question must be a string or a mapping with 'text'")
    return tuple(out)


def question_fields(item: dict) -> tuple[str, ...]:
    """The known case fields a question mapping declares: `asks: [a, b]` (or the older single `fact: a`)."""
    raw = item.get("asks", item.get("fact"))
    names = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    return tuple(n for n in names if isinstance(n, str) and n in FACTS)


def note_from_text(text: str, path: Path) -> Note:
    """Build a Note from a file's text. Lenient about optional fields; strict about what the bot relies on."""
    fm = split_front_matter(text, path)
    data = fm.data
    if not isinstance(data, dict):
        raise NoteError(path, fm.first_line, "front matter must be a YAML mapping")
    for required in ("id", "title", "problem_type"):
        if data.get(required) in (None, ""):
            raise NoteError(path, 1, f"missing required field '{required}'")
    problem_type = _str(data["problem_type"], "problem_type", path)
    if problem_type not in PROBLEM_TYPES:
        raise NoteError(path, 1, f"problem_type must be one of {', '.join(PROBLEM_TYPES)}, got {problem_type!r}")
    return Note(
        id=_str(data["id"], "id", path),
        title=_str(data["title"], "title", path),
        area=_str(data.get("area") or "", "area", path),
        problem_type=problem_type,
        summary=" ".join(_str(data.get("summary") or "", "summary", path).split()),
        questions=_questions(data.get("questions"), path),
        tags=_str_list(data.get("tags"), "tags", path),
        aliases=_str_list(data.get("aliases"), "aliases", path),
        related=_str_list(data.get("related"), "related", path),
        symptoms=tuple(s for s in _str_list(data.get("symptoms"), "symptoms", path) if s in SYMPTOM_IDS),
        updated=_str(data.get("updated") or "", "updated", path),
        body=fm.body.strip("\n"),
        sections=split_sections(fm.body),
        path=path,
    )


def parse_note(path: Path | str) -> Note:
    """Parse one note file; raises NoteError (with file and line) when it is unusable."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise NoteError(path, 1, f"not valid UTF-8: {exc.reason}") from None
    except OSError as exc:
        raise NoteError(path, 1, f"cannot read: {exc.strerror or exc}") from None
    return note_from_text(text, path)


@dataclass(frozen=True)
class SourceFile:
    """One note file's raw text, and which of the loaded folders it came from (later folders win)."""

    folder: int
    path: Path
    relpath: str
    text: str | None  # None when the file could not be read as UTF-8


def _as_dirs(directory: Path | str | Iterable[Path | str]) -> list[Path]:
    return [Path(directory)] if isinstance(directory, (str, Path)) else [Path(d) for d in directory]


def read_sources(directory: Path | str | Iterable[Path | str]) -> list[SourceFile]:
    """The raw text of every note file under one folder or several (in order)."""
    sources = []
    for n, folder in enumerate(_as_dirs(directory)):
        if not folder.is_dir():
            log.warning("knowledge folder missing", extra={"dir": str(folder)})
            continue
        for path in note_files(folder):
            try:
                text: str | None = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                text = None
            sources.append(SourceFile(n, path, path.relative_to(folder).as_posix(), text))
    return sources


def notes_from_sources(sources: Iterable[SourceFile]) -> list[Note]:
    """Parse source files into notes, skipping broken ones with a warning; later folders override earlier ids."""
    by_id: dict[str, Note] = {}
    seen: set[tuple[int, str]] = set()
    for source in sources:
        try:
            if source.text is None:
                raise NoteError(source.path, 1, "cannot read the file as UTF-8 text")
            note = note_from_text(source.text, source.path)
        except NoteError as exc:
            log.warning("skipping malformed note", extra={"path": str(source.path), "line": exc.line, "problem": exc.message})
            continue
        if (source.folder, note.id) in seen:
            log.warning("skipping note with duplicate id", extra={"path": str(source.path), "id": note.id})
            continue
        seen.add((source.folder, note.id))
        by_id[note.id] = note
    return sorted(by_id.values(), key=lambda n: n.id)


def load_notes(directory: Path | str | Iterable[Path | str]) -> list[Note]:
    """Every usable note under one folder (or several, later folders overriding earlier ones by id), sorted by id.

    Broken notes are skipped with a warning; within one folder the first file (by path) wins a duplicate id.
    """
    return notes_from_sources(read_sources(directory))


def knowledge_dirs(knowledge_dir: Path | str | None) -> list[Path]:
    """The folders the bot reads: the packaged notes, then a team's KNOWLEDGE_DIR on top when it is elsewhere."""
    from bot.config import PACKAGED_KNOWLEDGE_DIR

    dirs = [PACKAGED_KNOWLEDGE_DIR]
    if knowledge_dir is not None:
        team = Path(knowledge_dir).expanduser()
        if _resolved(team) != _resolved(PACKAGED_KNOWLEDGE_DIR):
            dirs.append(team)
    return dirs


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()

"""`check_notes`: every kind of problem is reported as `file:line: what is wrong`."""

from __future__ import annotations

import pytest

from bot.knowledge.check import check_notes
from bot.knowledge.notes import SECTIONS

from knowledge_helpers import BODY, note_text, write_note


def problems_of(folder, **kwargs):
    return [str(p) for p in check_notes(folder, extra_ids=kwargs.pop("extra_ids", set()))]


def single(tmp_path, note_id="a-note", text=None, **kwargs):
    path = tmp_path / "performance" / f"{note_id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text is not None else note_text(note_id, **kwargs))
    return path


def line_of(path, needle):
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_valid_notes_have_no_problems(notes_dir):
    assert problems_of(notes_dir) == []


def test_missing_folder_is_a_problem(tmp_path):
    assert problems_of(tmp_path / "nope") == [f"{tmp_path / 'nope'}:0: not a folder"]


@pytest.mark.parametrize("field", ["title", "tags", "aliases", "summary", "related", "updated"])
def test_missing_required_field(tmp_path, field):
    text = "\n".join(line for line in note_text("a-note").splitlines() if not line.startswith(f"{field}:")) + "\n"
    path = single(tmp_path, text=text)
    assert problems_of(tmp_path) == [f"{path}:1: missing required field '{field}'"]


def test_missing_questions_field(tmp_path):
    text = note_text("a-note").replace('questions:\n  - text: "Which database and version?"\n    fact: database\n'
                                       '  - "How many rows does the table hold?"\n  - "Is this a list endpoint or a job?"\n', "")
    path = single(tmp_path, text=text)
    assert problems_of(tmp_path) == [f"{path}:1: missing required field 'questions'"]


@pytest.mark.parametrize("kwargs, needle, message", [
    ({"area": "frontend"}, "area:", "area must be one of"),
    ({"problem_type": "speed"}, "problem_type:", "problem_type must be one of design, performance, correctness"),
    ({"tags": "postgresql"}, "tags:", "'tags' must be a list of non-empty strings"),
    ({"aliases": "[]"}, "aliases:", "'aliases' is empty"),
    ({"aliases": "[1, {a: b}]"}, "aliases:", "'aliases' must be a list of non-empty strings"),
    ({"summary": "''"}, "summary:", "'summary' must be a non-empty string"),
    ({"extra_front": "updated_by: me\n"}, "updated_by:", "unknown field 'updated_by'"),
    ({"area": "correctness"}, "area:", "area 'correctness' but the file is in the 'performance/' folder"),
])
def test_front_matter_field_problems_point_at_the_field(tmp_path, kwargs, needle, message):
    path = single(tmp_path, **kwargs)
    problems = problems_of(tmp_path)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:{line_of(path, needle)}: {message}")


def test_updated_must_be_a_date(tmp_path):
    path = single(tmp_path, text=note_text("a-note").replace("updated: 2026-11-26", "updated: last tuesday"))
    assert problems_of(tmp_path) == [f"{path}:{line_of(path, 'updated:')}: 'updated' must be a date (YYYY-MM-DD), got 'last tuesday'"]


def test_id_must_equal_the_file_stem_and_be_a_slug(tmp_path):
    path = single(tmp_path, text=note_text("other-id"))
    assert problems_of(tmp_path) == [
        f"{path}:2: id 'other-id' does not match the file name 'a-note.md' (expected id 'a-note')"]
    path.write_text(note_text("Bad Id"))
    assert problems_of(tmp_path) == [f"{path}:2: id must be a lowercase slug like 'n-plus-one-queries', got 'Bad Id'"]


@pytest.mark.parametrize("questions, problem", [
    ('questions:\n  - "one?"\n  - "two?"\n', "need 3-8 questions, found 2"),
    ("questions:\n" + "".join(f'  - "q{i}?"\n' for i in range(9)), "need 3-8 questions, found 9"),
])
def test_question_count(tmp_path, questions, problem):
    path = single(tmp_path, questions=questions)
    assert problems_of(tmp_path) == [f"{path}:{line_of(path, 'questions:')}: {problem}"]


def test_question_items(tmp_path):
    questions = ('questions:\n  - text: "Which ORM?"\n    fact: orm\n  - text: "Which cloud?"\n    fact: cloud\n'
                 '  - fact: database\n  - text: "Scale?"\n    hint: rows\n  - 42\n')
    path = single(tmp_path, questions=questions)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(path, 'Which cloud?')}: question asks about unknown case field 'cloud' "
        "(see bot/consult/vocabulary.py)",
        f"{path}:{line_of(path, '- fact: database')}: question has no 'text'",
        f"{path}:{line_of(path, 'Scale?')}: question has unknown keys: hint",
        f"{path}:{line_of(path, '- 42')}: a question must be a string or a mapping with 'text' (and optional 'fact')",
    ]


def test_duplicate_ids_are_reported_with_both_places(notes_dir):
    first = notes_dir / "performance" / "n-plus-one-queries.md"
    dup = notes_dir / "other" / "n-plus-one-queries.md"
    dup.parent.mkdir()
    dup.write_text(note_text("n-plus-one-queries"))
    # files are checked in path order, so the later path is the duplicate
    assert problems_of(notes_dir) == [f"{first}:2: duplicate id 'n-plus-one-queries' (also in {dup}:2)"]


def test_related_ids_must_resolve(notes_dir):
    path = notes_dir / "performance" / "n-plus-one-queries.md"
    path.write_text(note_text("n-plus-one-queries", related="\n  - connection-pooling\n  - no-such-note\n  - n-plus-one-queries"))
    assert problems_of(notes_dir) == [
        f"{path}:{line_of(path, '- no-such-note')}: related id 'no-such-note' does not resolve to any note",
        f"{path}:{line_of(path, '- n-plus-one-queries')}: related id 'n-plus-one-queries' is the note itself",
    ]


def test_team_notes_may_relate_to_packaged_notes(tmp_path):
    write_note(tmp_path, "our-deploys", related="[zero-downtime-migrations, connection-pooling, not-a-note]")
    problems = [str(p) for p in check_notes(tmp_path)]  # default: packaged ids resolve too
    assert len(problems) == 1 and "related id 'not-a-note' does not resolve" in problems[0]


def test_missing_and_misordered_sections(tmp_path):
    body = BODY.format(symptom="x", fix="y")
    no_pitfalls = body.replace("## Pitfalls\n\n- Watch out.\n\n", "")
    path = single(tmp_path, body=no_pitfalls)
    first_body_line = line_of(path, "## When this applies") - 1
    assert problems_of(tmp_path) == [f"{path}:{first_body_line}: missing section '## Pitfalls'"]

    swapped = body.replace("## Tradeoffs\n\n- It costs something.\n\n## Pitfalls\n\n- Watch out.\n",
                           "## Pitfalls\n\n- Watch out.\n\n## Tradeoffs\n\n- It costs something.\n")
    path.write_text(note_text("a-note", body=swapped))
    assert problems_of(tmp_path) == [f"{path}:{line_of(path, '## Pitfalls')}: section '## Pitfalls' must come after '## Tradeoffs'"]


def test_empty_and_repeated_sections(tmp_path):
    body = BODY.format(symptom="x", fix="y").replace("- It costs something.\n", "") + "\n## Pitfalls\n\n- again\n"
    path = single(tmp_path, body=body)
    lines = path.read_text().splitlines()
    pitfalls = [i for i, line in enumerate(lines, 1) if line == "## Pitfalls"]
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(path, '## Tradeoffs')}: section '## Tradeoffs' is empty",
        f"{path}:{pitfalls[1]}: section '## Pitfalls' appears twice",
    ]


def test_extra_sections_are_allowed():
    assert "Further reading" in SECTIONS


def _with_block(tmp_path, fence: str, code: str):
    path = single(tmp_path, fix=f"{fence}\n{code}\n```")
    lines = path.read_text().splitlines()
    fix = lines.index("### Fix it")
    return path, next(i for i, line in enumerate(lines, 1) if i > fix and line == fence)


@pytest.mark.parametrize("fence, code, bad_line, message", [
    ("```sql", "SELECT 1;\nSELEC * FROM t;", 2, "```sql block does not parse: syntax error at or near \"SELEC\" (PostgreSQL)"),
    ("```sql", "SELECT `id` FROM t;", 1, "```sql block does not parse"),
    ("```sql mysql", "SELECT * FROM t WHERE;", 1, "```sql mysql block does not parse"),
    ("```sql sqlite", "SELECT (1;", None, "```sql sqlite block does not parse"),
    ("```sql oracle", "SELECT 1 FROM dual;", None, "unknown SQL dialect 'oracle'"),
    ("```sql", "", 1, "empty SQL block"),
    ("```python", "def f():\n    return 1\nif x\n    pass", 3, "```python block does not parse"),
    ("```json", '{"a": 1,\n "b": [1, 2,]}', 2, "```json block does not parse"),
    ("```yaml", "a: 1\nb: [1, 2\nc: 3", None, "```yaml block does not parse"),
])
def test_code_blocks_must_parse(tmp_path, fence, code, bad_line, message):
    path, fence_line = _with_block(tmp_path, fence, code)
    problems = problems_of(tmp_path)
    assert len(problems) == 1, problems
    expected_line = fence_line + bad_line if bad_line else None
    where, _, text = problems[0].partition(": ")
    assert where.startswith(f"{path}:")
    if expected_line:
        assert where == f"{path}:{expected_line}"
    else:
        assert fence_line <= int(where.rsplit(":", 1)[1]) <= fence_line + code.count("\n") + 1
    assert message in problems[0]


@pytest.mark.parametrize("fence, code", [
    ("```sql mysql", "SELECT `id` FROM t LIMIT 5, 10;"),
    ("```sql sqlite", "INSERT OR IGNORE INTO t (a) VALUES (1);"),
    ("```sql", "CREATE INDEX CONCURRENTLY idx ON t (a) WHERE b IS NULL;\nSELECT * FROM t WHERE id = $1;"),
    ("```go", "this is not checked {{{"),
    ("```text", "\\d+ psql meta"),
    ("```json", '{"a": [1, 2]}'),
    ("```yml", "a: [1, 2]"),
])
def test_valid_or_unchecked_blocks_pass(tmp_path, fence, code):
    _with_block(tmp_path, fence, code)
    assert problems_of(tmp_path) == []


def test_indented_code_block_in_a_list_item_is_checked(tmp_path):
    path = single(tmp_path, fix="- Step one:\n\n  ```python\n  def ok():\n      return 1\n  ```\n\n- Step two:\n\n  ```python\n  def broken(:\n  ```")
    assert problems_of(tmp_path) == [f"{path}:{line_of(path, 'def broken')}: ```python block does not parse: invalid syntax"]


def test_unclosed_fence(tmp_path):
    path = single(tmp_path, body=BODY.format(symptom="x", fix="y") + "\n```python\nx = 1\n")
    assert problems_of(tmp_path) == [f"{path}:{len(path.read_text().splitlines()) - 1}: code fence is never closed"]


@pytest.mark.parametrize("text, line, message", [
    ("# Just markdown\n", 1, "no front matter"),
    ("---\nid: a-note\n", 1, "front matter is not closed"),
    ("---\nid: a-note\ntags: [x\n---\n", 3, "front matter is not valid YAML"),
    ("---\n- a\n- b\n---\n", 2, "front matter must be a YAML mapping"),
])
def test_front_matter_structure(tmp_path, text, line, message):
    path = single(tmp_path, text=text)
    problems = problems_of(tmp_path)
    assert problems[0].startswith(f"{path}:{line}: {message}")


def test_non_utf8_file(tmp_path):
    path = tmp_path / "a-note.md"
    path.write_bytes(b"---\nid: caf\xe9\n---\n")
    assert problems_of(tmp_path)[0].startswith(f"{path}:1: not valid UTF-8")


def test_readme_is_not_a_note(notes_dir):
    (notes_dir / "README.md").write_text("# Team notes\nNo front matter here.\n")
    assert problems_of(notes_dir) == []

"""Parsing note files into Note objects, and loading folders of them."""

from __future__ import annotations

import logging

import pytest

from bot.config import PACKAGED_KNOWLEDGE_DIR, Settings
from bot.knowledge.notes import SECTIONS, NoteError, knowledge_dirs, load_notes, parse_note
from bot.knowledge.port import Question

from knowledge_helpers import note_text, write_note


def test_parse_note_reads_front_matter_and_sections(tmp_path):
    path = write_note(tmp_path, "connection-pooling", title="Database connection pooling",
                      aliases='["pgbouncer", "too many clients already"]', related="[n-plus-one-queries]")
    note = parse_note(path)
    assert note.id == "connection-pooling"
    assert note.title == "Database connection pooling"
    assert (note.area, note.problem_type) == ("performance", "performance")
    assert note.tags == ("postgresql", "latency")
    assert note.aliases == ("pgbouncer", "too many clients already")
    assert note.related == ("n-plus-one-queries",)
    assert note.updated == "2026-11-26"
    assert note.summary.startswith("A short summary")
    assert note.questions == (
        Question("Which database and version?", ("database",)),
        Question("How many rows does the table hold?"),
        Question("Is this a list endpoint or a job?"),
    )
    assert list(note.sections) == list(SECTIONS)
    assert note.sections["When this applies"] == "- Requests get slow under load."
    assert note.sections["Patterns and fixes"].startswith("### Fix it")
    assert "```python" in note.sections["Patterns and fixes"]
    assert note.body.startswith("## When this applies")
    assert note.path == path


def test_headings_inside_code_fences_are_not_sections(tmp_path):
    fix = "```python\n## not a heading, a comment\nx = 1\n```"
    note = parse_note(write_note(tmp_path, "a-note", fix=fix))
    assert list(note.sections) == list(SECTIONS)
    assert "## not a heading" in note.sections["Patterns and fixes"]


def test_folded_summary_is_one_line(tmp_path):
    path = write_note(tmp_path, "a-note", summary=">-\n  first line\n  second line")
    assert parse_note(path).summary == "first line second line"


@pytest.mark.parametrize("text, line, message", [
    ("no front matter here\n", 1, "no front matter"),
    ("---\nid: x\ntitle: y\n", 1, "not closed"),
    ("---\nid: x\ntitle: [unclosed\n---\n", 3, "not valid YAML"),
    ("---\n- a list\n---\n", 2, "must be a YAML mapping"),
    ("---\nid: x\nproblem_type: design\n---\n", 1, "missing required field 'title'"),
    ("---\nid: x\ntitle: y\nproblem_type: speed\n---\n", 1, "problem_type must be one of"),
])
def test_parse_note_rejects_unusable_files(tmp_path, text, line, message):
    path = tmp_path / "x.md"
    path.write_text(text)
    with pytest.raises(NoteError) as info:
        parse_note(path)
    assert info.value.line == line
    assert message in info.value.message
    assert str(info.value).startswith(f"{path}:{line}: ")


def test_load_notes_is_recursive_sorted_and_skips_readme(notes_dir):
    (notes_dir / "README.md").write_text("# Our notes\n")
    notes = load_notes(notes_dir)
    assert [n.id for n in notes] == ["connection-pooling", "n-plus-one-queries", "race-conditions"]


def test_load_notes_skips_malformed_notes_with_a_warning(notes_dir, caplog):
    (notes_dir / "broken.md").write_text("---\nid: broken\ntitle: [oops\n---\n")
    (notes_dir / "latin1.md").write_bytes(b"---\nid: caf\xe9\n---\n")
    with caplog.at_level(logging.WARNING, logger="bot.knowledge.notes"):
        notes = load_notes(notes_dir)
    assert "broken" not in {n.id for n in notes}
    assert len(notes) == 3
    skipped = [r for r in caplog.records if r.getMessage() == "skipping malformed note"]
    assert {r.path.rsplit("/", 1)[-1] for r in skipped} == {"broken.md", "latin1.md"}


def test_duplicate_id_in_one_folder_keeps_the_first(notes_dir, caplog):
    write_note(notes_dir, "n-plus-one-queries", subdir="zzz", title="Second copy")
    with caplog.at_level(logging.WARNING, logger="bot.knowledge.notes"):
        notes = {n.id: n for n in load_notes(notes_dir)}
    assert notes["n-plus-one-queries"].title == "N+1 queries"
    assert any(r.getMessage() == "skipping note with duplicate id" for r in caplog.records)


def test_later_folders_override_earlier_ones(notes_dir, tmp_path):
    team = tmp_path / "team"
    write_note(team, "n-plus-one-queries", subdir=None, title="Our own N+1 guide")
    write_note(team, "our-deploys", subdir=None, title="How we deploy", area="operations", problem_type="design")
    notes = {n.id: n for n in load_notes([notes_dir, team])}
    assert notes["n-plus-one-queries"].title == "Our own N+1 guide"
    assert notes["our-deploys"].area == "operations"
    assert "race-conditions" in notes


def test_missing_folder_loads_nothing(tmp_path):
    assert load_notes(tmp_path / "nope") == []


def test_knowledge_dirs_layers_a_team_folder_on_the_packaged_notes(tmp_path):
    assert knowledge_dirs(PACKAGED_KNOWLEDGE_DIR) == [PACKAGED_KNOWLEDGE_DIR]
    assert knowledge_dirs(None) == [PACKAGED_KNOWLEDGE_DIR]
    settings = Settings.from_env({"KNOWLEDGE_DIR": str(tmp_path), "CONSULTANT_DATA_DIR": str(tmp_path / "d")})
    assert knowledge_dirs(settings.knowledge_dir) == [PACKAGED_KNOWLEDGE_DIR, tmp_path]


def test_note_text_helper_produces_a_valid_note():
    assert note_text("x").startswith("---\nid: x\n")

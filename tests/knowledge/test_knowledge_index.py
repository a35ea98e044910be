"""FTS5Retriever: ranking, the persisted content-hashed index, refresh, fallbacks and team notes."""

from __future__ import annotations

import os
import sqlite3
import time

import pytest

from bot.config import PACKAGED_KNOWLEDGE_DIR, Settings
from bot.knowledge.index import FTS5Retriever
from bot.knowledge.port import Retriever

from knowledge_helpers import write_note


def ids(results):
    return [r.note.id for r in results]


def test_it_implements_the_retriever_port(notes_dir):
    r = FTS5Retriever(notes_dir)
    assert isinstance(r, Retriever)
    assert [n.id for n in r.notes()] == ["connection-pooling", "n-plus-one-queries", "race-conditions"]
    assert r.get("race-conditions").area == "correctness"
    assert r.get("nope") is None


def test_search_ranks_by_relevance_with_higher_is_better_scores(notes_dir):
    r = FTS5Retriever(notes_dir)
    results = r.search("pgbouncer says too many clients already", k=3)
    assert ids(results)[0] == "connection-pooling"
    assert all(a.score >= b.score for a, b in zip(results, results[1:]))
    assert results[0].score > 0
    assert ids(r.search("workers double charge the customer", k=1)) == ["race-conditions"]
    assert len(r.search("slow", k=2)) <= 2


def test_identifiers_and_stemming(notes_dir):
    r = FTS5Retriever(notes_dir)
    assert ids(r.search("should I use select_related here?", k=1)) == ["n-plus-one-queries"]
    assert '"select related"' in r.fts_query("select_related")
    assert ids(r.search("charges", k=1)) == ["race-conditions"]  # porter: charges ~ charge


def test_stop_words_only_and_empty_queries_return_nothing(notes_dir):
    r = FTS5Retriever(notes_dir)
    assert r.search("hi") == []
    assert r.search("hey, can you help me?") == []
    assert r.search("") == []
    assert r.search("pgbouncer", k=0) == []
    assert r.search('"; DROP TABLE notes; -- AND OR NOT NEAR( * ^') is not None  # FTS5 syntax never leaks


def test_typos_are_corrected_against_the_notes_vocabulary(notes_dir):
    r = FTS5Retriever(notes_dir)
    assert "pgbouncer" in r.fts_query("pgbounser keeps dropping connections")
    assert ids(r.search("pgbounser", k=1)) == ["connection-pooling"]


def test_pasted_code_does_not_drown_the_question(notes_dir):
    r = FTS5Retriever(notes_dir)
    code = "\n".join(f"    row_{i} = session.execute(select(Charge).where(Charge.id == {i})).scalar_one()" for i in range(40))
    message = f"two workers double charge the same invoice, here is our worker:\n```python\n{code}\n```"
    assert ids(r.search(message, k=1)) == ["race-conditions"]
    terms = r.terms(message)
    assert not any(t.text.startswith("row") for t in terms if not t.body_only)


def test_error_lines_in_a_traceback_are_kept(notes_dir):
    r = FTS5Retriever(notes_dir)
    message = (
        "Traceback (most recent call last):\n"
        '  File "/app/db.py", line 12, in connect\n'
        "    conn = psycopg2.connect(dsn)\n"
        'psycopg2.OperationalError: FATAL:  sorry, too many clients already\n'
    )
    q = r.fts_query(message)
    assert '"clients"' in q and '"too many clients already"' in q
    assert '"app"' not in q and '"dsn"' not in q
    assert ids(r.search(message, k=1)) == ["connection-pooling"]


def test_index_is_persisted_and_reused_when_nothing_changed(notes_dir, tmp_path):
    data = tmp_path / "data"
    first = FTS5Retriever(notes_dir, data)
    assert first.builds == 1
    assert first.index_path.parent == data
    assert first.index_path.name == f"knowledge-index-{first.hash[:16]}.sqlite3"
    second = FTS5Retriever(notes_dir, data)
    assert second.builds == 0  # same content hash: the stored index is reused
    assert second.index_path == first.index_path
    assert ids(second.search("pgbouncer", k=1)) == ["connection-pooling"]


def _everything(note):  # noqa: ANN001, ANN202 - Note equality leaves sections out
    return (note, list(note.sections.items()), note.path)


def test_a_warm_start_takes_the_parsed_notes_from_the_index_file_unchanged(notes_dir, tmp_path):
    import shutil

    data = tmp_path / "data"
    cold = FTS5Retriever(notes_dir, data)
    warm = FTS5Retriever(notes_dir, data)
    assert warm.builds == 0
    assert [_everything(n) for n in warm.notes()] == [_everything(n) for n in cold.notes()]
    assert warm._vocab == cold._vocab  # spelling correction and phrases behave exactly as after parsing
    assert warm.terms("conection poolng pgbouncer") == cold.terms("conection poolng pgbouncer")
    # Another checkout of the same notes shares the index file, and its notes point at its own files.
    copy = tmp_path / "checkout-2"
    shutil.copytree(notes_dir, copy)
    other = FTS5Retriever(copy, data)
    assert other.builds == 0 and other.index_path == cold.index_path
    assert all(n.path.is_relative_to(copy) and n.path.is_file() for n in other.notes())


def test_an_index_file_with_a_damaged_snapshot_is_rebuilt(notes_dir, tmp_path):
    data = tmp_path / "data"
    path = FTS5Retriever(notes_dir, data).index_path
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '{\"notes\": 3}' WHERE key = 'snapshot'")
    again = FTS5Retriever(notes_dir, data)
    assert again.builds == 1 and ids(again.search("pgbouncer", k=1)) == ["connection-pooling"]


def test_index_is_rebuilt_when_a_note_changes(notes_dir, tmp_path):
    data = tmp_path / "data"
    old = FTS5Retriever(notes_dir, data)
    write_note(notes_dir, "n-plus-one-queries", title="N+1 queries", aliases='["n+1", "graphql resolvers dataloader"]')
    new = FTS5Retriever(notes_dir, data)
    assert new.builds == 1
    assert new.hash != old.hash and new.index_path != old.index_path
    assert ids(new.search("dataloader", k=1)) == ["n-plus-one-queries"]
    assert old.search("dataloader") == []  # the old instance keeps its snapshot until it refreshes


def test_a_new_or_deleted_note_changes_the_hash(notes_dir, tmp_path):
    base = FTS5Retriever(notes_dir, tmp_path / "d").hash
    extra = write_note(notes_dir, "caching", title="Caching strategies")
    added = FTS5Retriever(notes_dir, tmp_path / "d").hash
    extra.unlink()
    assert len({base, added, FTS5Retriever(notes_dir, tmp_path / "d").hash}) == 2
    assert base != added


def test_never_rebuilt_per_query(notes_dir, tmp_path):
    r = FTS5Retriever(notes_dir, tmp_path / "data", refresh_interval=0)  # checks the files on every call
    for _ in range(25):
        r.search("pgbouncer too many clients")
    assert r.builds == 1


def test_auto_refresh_picks_up_edits_without_a_restart(notes_dir, tmp_path):
    r = FTS5Retriever(notes_dir, tmp_path / "data", refresh_interval=0)
    assert r.search("dataloader") == []
    path = write_note(notes_dir, "n-plus-one-queries", title="N+1 queries", aliases='["dataloader"]')
    os.utime(path, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    assert ids(r.search("dataloader", k=1)) == ["n-plus-one-queries"]
    assert r.builds == 2
    r.search("dataloader")
    assert r.builds == 2


def test_refresh_interval_limits_how_often_files_are_checked(notes_dir, tmp_path):
    r = FTS5Retriever(notes_dir, tmp_path / "data", refresh_interval=3600)
    write_note(notes_dir, "n-plus-one-queries", title="N+1 queries", aliases='["dataloader"]')
    assert r.search("dataloader") == []  # not re-checked yet
    assert r.refresh() is True
    assert ids(r.search("dataloader", k=1)) == ["n-plus-one-queries"]
    assert r.refresh() is False


def test_touching_a_file_without_changing_it_does_not_rebuild(notes_dir, tmp_path):
    r = FTS5Retriever(notes_dir, tmp_path / "data", refresh_interval=None)
    os.utime(notes_dir / "performance" / "n-plus-one-queries.md", ns=(time.time_ns() + 10**9,) * 2)
    assert r.refresh() is False
    assert r.builds == 1


def test_no_data_dir_means_an_in_memory_index(notes_dir):
    r = FTS5Retriever(notes_dir, None)
    assert r.index_path is None and r.builds == 1
    assert ids(r.search("pgbouncer", k=1)) == ["connection-pooling"]


def test_unwritable_data_dir_falls_back_to_memory(notes_dir, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    r = FTS5Retriever(notes_dir, blocker / "data")
    assert r.index_path is None
    assert ids(r.search("pgbouncer", k=1)) == ["connection-pooling"]


def test_a_corrupt_index_file_is_rebuilt(notes_dir, tmp_path):
    data = tmp_path / "data"
    path = FTS5Retriever(notes_dir, data).index_path
    path.write_bytes(b"garbage" * 100)
    r = FTS5Retriever(notes_dir, data)
    assert r.builds == 1
    assert ids(r.search("pgbouncer", k=1)) == ["connection-pooling"]
    with sqlite3.connect(path) as conn:
        assert dict(conn.execute("SELECT key, value FROM meta"))["hash"] == r.hash


def test_old_index_files_are_pruned(notes_dir, tmp_path):
    data = tmp_path / "data"
    for i in range(7):
        write_note(notes_dir, "extra", title=f"Extra note {i}")
        FTS5Retriever(notes_dir, data)
    assert len(list(data.glob("knowledge-index-*.sqlite3"))) <= 4


def test_empty_folder_searches_return_nothing(tmp_path):
    r = FTS5Retriever(tmp_path / "empty", tmp_path / "data")
    assert r.notes() == [] and r.search("pgbouncer") == []


def test_malformed_notes_are_skipped_not_fatal(notes_dir):
    (notes_dir / "broken.md").write_text("---\nid: [\n---\n")
    r = FTS5Retriever(notes_dir)
    assert len(r.notes()) == 3


def test_team_knowledge_dir_adds_and_overrides_notes(tmp_path):
    team = tmp_path / "team"
    write_note(team, "our-kafka-runbook", subdir=None, title="Our Kafka runbook", area="operations",
               problem_type="design", aliases='["zorblax consumer lag"]')
    write_note(team, "connection-pooling", subdir=None, title="Our pooling rules", aliases='["pgbouncer"]')
    settings = Settings.from_env({"KNOWLEDGE_DIR": str(team), "CONSULTANT_DATA_DIR": str(tmp_path / "data")})
    r = FTS5Retriever.from_settings(settings)
    assert ids(r.search("zorblax consumer lag", k=1)) == ["our-kafka-runbook"]
    assert r.get("connection-pooling").title == "Our pooling rules"
    packaged = {n.id for n in FTS5Retriever(PACKAGED_KNOWLEDGE_DIR).notes()}
    assert packaged - {"connection-pooling"} <= {n.id for n in r.notes()}
    assert r.index_path.parent == tmp_path / "data"


def test_from_notes_builds_in_memory(notes_dir):
    r = FTS5Retriever.from_notes(FTS5Retriever(notes_dir).notes())
    assert ids(r.search("pgbouncer", k=1)) == ["connection-pooling"]


@pytest.mark.parametrize("query, expected", [
    ("pgbouncer transaction mode breaks prepared statements", "connection-pooling"),
])
def test_done_means_on_the_packaged_notes(query, expected):
    r = FTS5Retriever(PACKAGED_KNOWLEDGE_DIR, None)
    if r.get(expected) is None:
        pytest.fail(f"packaged note {expected} is missing")
    assert ids(r.search(query, k=3))[0] == expected


def test_identifiers_in_pasted_code_can_find_a_note_by_its_code_examples(notes_dir):
    write_note(notes_dir, "widget-sync", title="Widget synchronisation", aliases='["widget drift"]',
               fix="```python\ndef sync():\n    zorbify_widgets(batch_size=500)\n```")
    r = FTS5Retriever(notes_dir)
    message = "this blows up in prod:\n```python\nfor shop in shops:\n    zorbify_widgets(shop.id)\n```"
    terms = r.terms(message)
    assert {t.text for t in terms if t.body_only} >= {"zorbify", "widgets"}
    assert ids(r.search(message, k=1)) == ["widget-sync"]


def test_body_scores_only_add_to_key_scores(notes_dir):
    r = FTS5Retriever(notes_dir)
    # "explain" appears only in the bodies (the shared template): every note matches with a small score.
    results = r.search("explain buffers", k=5)
    assert len(results) == 3 and all(0 < x.score < 5 for x in results)


def test_data_dir_with_uri_special_characters(notes_dir, tmp_path):
    data = tmp_path / "we?ird #data %20dir"
    first = FTS5Retriever(notes_dir, data)
    assert first.index_path.parent == data
    second = FTS5Retriever(notes_dir, data)
    assert second.builds == 0 and ids(second.search("pgbouncer", k=1)) == ["connection-pooling"]


def test_prefix_matching_for_long_words(notes_dir):
    write_note(notes_dir, "search-engines", title="Elasticsearch relevance", aliases='["opensearch"]')
    r = FTS5Retriever(notes_dir)
    assert '"elastic" *' in r.fts_query("elastic is slow")
    assert ids(r.search("elastic", k=1)) == ["search-engines"]


def test_call_syntax_keeps_method_names_that_are_stop_words(notes_dir):
    r = FTS5Retriever(notes_dir)
    assert '"only"' in r.fts_query("should I use .only() here")
    assert '"only"' not in r.fts_query("should I use only this")


def test_inline_sql_keeps_keyword_pairs_and_the_rest_of_the_sentence(notes_dir):
    r = FTS5Retriever(notes_dir)
    q = r.fts_query("CREATE INDEX on the orders table blocked writes for 10 minutes")
    assert '"create index"' in q and '"blocked"' in q and '"writes"' in q
    assert '"create"' not in q and '"on"' not in q

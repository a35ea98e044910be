"""Every plan rule on real PostgreSQL 15 plans (tests/evidence/record_fixtures.py): where it fires, on which node and
table, with which fix; and the near misses where it must stay quiet."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.plans import read_plan

PLANS = Path(__file__).resolve().parents[1] / "evidence" / "fixtures" / "plans"


def plan(name: str):
    result = read_plan((PLANS / name).read_text())
    assert result.error is None, result.error
    return result


def rules(name: str) -> set[str]:
    return {f["rule"] for f in plan(name).findings}


def one(name: str, rule: str) -> dict:
    found = [f for f in plan(name).findings if f["rule"] == rule]
    assert len(found) == 1, (rule, [f["rule"] for f in plan(name).findings])
    return found[0]


@pytest.mark.parametrize("fmt", ["txt", "json"])
def test_fk_trigger_delete_names_the_referencing_column(fmt):
    f = one(f"fk_delete.{fmt}", "plan-slow-trigger")
    assert (f["severity"], f["node"], f["table"], f["column"]) == ("error", "Trigger", "events", "account_id")
    assert f["object"] == "events_account_id_fkey" and f["share"] > 0.99
    assert f["fix"] == "CREATE INDEX CONCURRENTLY events_account_id_idx ON events (account_id);"
    assert f["note"] == "indexing-strategies"


def test_indexed_fk_delete_has_no_trigger_finding():
    assert "plan-slow-trigger" not in rules("fk_delete_indexed.txt")
    assert plan("fk_delete_indexed.txt").plan.triggers  # the trigger is there, it is just cheap


def test_seq_scan_filter_on_a_selective_predicate():
    f = one("seq_scan_filter.txt", "plan-seq-scan-filter")
    assert (f["node"], f["table"], f["column"]) == ("Parallel Seq Scan", "events", "kind")
    assert f["fix"].startswith("CREATE INDEX CONCURRENTLY events_kind_idx ON events (kind);")
    assert "299,400" in f["message"]


def test_a_filter_that_keeps_a_third_of_the_rows_is_not_an_index_problem():
    # hash_spill reads events WHERE kind = 'view': a third of the table.
    assert "plan-seq-scan-filter" not in rules("hash_spill.txt")


def test_index_filter_suggests_the_composite_index_equality_first():
    f = one("index_filter.txt", "plan-index-filter")
    assert (f["node"], f["table"]) == ("Bitmap Heap Scan", "orders")
    assert "ON orders (customer_id, status)" in f["fix"]


def test_index_scans_without_a_wasteful_filter_are_quiet():
    for name in ("pk_lookup.txt", "many_loops.txt", "cte_subplan.txt", "heap_fetches.txt"):
        assert "plan-index-filter" not in rules(name), name


def test_join_filter_discarding_most_pairs():
    f = one("join_filter.txt", "plan-join-filter")
    assert f["node"] == "Nested Loop" and "159,787" in f["message"] and "UNION" in f["why"]


def test_hash_joins_on_a_key_have_no_join_filter_finding():
    assert "plan-join-filter" not in rules("hash_spill.txt") | rules("cte_subplan.txt")


def test_misestimate_on_correlated_columns_suggests_extended_statistics():
    f = one("misestimate.txt", "plan-misestimate")
    assert (f["node"], f["table"]) == ("Parallel Seq Scan", "visits")
    assert "CREATE STATISTICS visits_city_zone_stats (dependencies, mcv) ON city, zone FROM visits;" in f["fix"]


def test_misestimates_under_a_limit_or_at_the_root_do_not_count():
    assert "plan-misestimate" not in rules("cte_subplan.txt")  # a top-N sort under LIMIT 20
    assert "plan-misestimate" not in rules("hashagg_spill.txt")  # a HAVING estimate at the root feeds nothing


def test_sort_spill_sizes_work_mem_from_the_spill():
    f = one("sort_spill.txt", "plan-sort-spill")
    assert f["node"] == "Sort" and f["object"] == "payload"
    assert f["fix"].startswith("SET LOCAL work_mem = '") and "MB'" in f["fix"]


def test_in_memory_sorts_are_quiet():
    assert "plan-sort-spill" not in rules("cte_subplan.txt") | rules("workers_short.txt")


@pytest.mark.parametrize("name,node", [("hash_spill.txt", "Hash"), ("hashagg_spill.txt", "HashAggregate")])
def test_hash_and_hashaggregate_spills(name, node):
    f = one(name, "plan-hash-spill")
    assert f["node"] == node and f["table"] in ("events", None)
    assert "SET LOCAL work_mem" in f["fix"]


def test_single_batch_hashes_are_quiet():
    assert "plan-hash-spill" not in rules("cte_subplan.txt") | rules("jit.txt") | rules("join_filter.txt")


def test_lossy_bitmap():
    f = one("lossy_bitmap.txt", "plan-lossy-bitmap")
    assert f["node"] == "Parallel Bitmap Heap Scan" and f["table"] == "events" and "lossy" in f["message"]


def test_exact_bitmaps_are_quiet():
    assert "plan-lossy-bitmap" not in rules("index_filter.txt") | rules("cte_subplan.txt")


def test_heap_fetches_ask_for_vacuum():
    f = one("heap_fetches.txt", "plan-heap-fetches")
    assert f["node"] == "Index Only Scan" and f["fix"].startswith("VACUUM (ANALYZE) line_items;")


def test_index_only_scans_with_a_current_visibility_map_are_quiet():
    assert "plan-heap-fetches" not in rules("misestimate.txt") | rules("slow_planning.txt")


def test_many_loops_on_the_inner_side():
    f = one("many_loops.txt", "plan-many-loops")
    assert f["node"] == "Index Scan" and f["table"] == "accounts" and "12,9" in f["message"]


def test_few_loops_and_cheap_rescans_are_quiet():
    # join_filter: a Materialize rescanned 400 times; cte_subplan: a SubPlan run 20 times.
    assert "plan-many-loops" not in rules("join_filter.txt") | rules("cte_subplan.txt")


def test_workers_short():
    f = one("workers_short.txt", "plan-workers-short")
    assert f["node"] == "Gather Merge" and "planned 2" in f["message"] and "launched 1" in f["message"]
    assert "plan-workers-short" not in rules("parallel_ok.txt")


def test_jit_overhead_on_a_short_query():
    f = one("jit.txt", "plan-jit-overhead")
    assert f["node"] == "JIT" and "jit = off" in f["fix"]
    assert "plan-jit-overhead" not in rules("hashagg_spill.txt")


def test_slow_planning_on_a_many_way_join_but_not_on_a_trivial_lookup():
    f = one("slow_planning.txt", "plan-slow-planning")
    assert f["severity"] == "warning" and "prepared statement" in f["fix"]
    pk = plan("pk_lookup.txt").plan
    assert pk.planning_ms > pk.execution_ms  # planning is longer there too, but the query is trivial
    assert "plan-slow-planning" not in rules("pk_lookup.txt")


def test_clean_plans_get_no_finding_at_all():
    for name in ("pk_lookup.txt", "pk_lookup.json", "expression_index.txt", "expression_index.json"):
        assert plan(name).findings == [], name


def test_severity_follows_the_share_of_time():
    for name in ("misestimate.txt", "many_loops.txt", "seq_scan_filter.txt", "sort_spill.txt", "fk_delete.txt"):
        for f in plan(name).findings:
            if f["share"] < 0.1:
                assert f["severity"] == "info", (name, f["rule"], f["share"])


def test_every_finding_has_the_review_shape_plus_node_and_share():
    keys = {"rule", "severity", "table", "column", "object", "line", "message", "why", "fix", "note", "node", "share"}
    for path in PLANS.glob("*.txt"):
        if "yaml" in path.name or "xml" in path.name:
            continue
        for f in read_plan(path.read_text()).findings:
            assert set(f) == keys, path.name
            assert f["severity"] in ("error", "warning", "info") and 0 <= f["share"] <= 1

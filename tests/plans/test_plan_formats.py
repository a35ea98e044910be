"""Reading plans as teams paste them: psql decorations, GUI copies, FORMAT JSON equal to text, estimates only,
and unreadable input with a one-line error."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.plans import PlanAnalyzer, read_plan
from bot.plans.model import compute_times

PLANS = Path(__file__).resolve().parents[1] / "evidence" / "fixtures" / "plans"
PAIRS = sorted(p.stem for p in PLANS.glob("*.json"))


def text(name: str) -> str:
    return (PLANS / name).read_text()


def shape(result) -> list[tuple]:
    return sorted((f["rule"], f["node"], f["table"], f["column"], f["object"]) for f in result.findings)


@pytest.mark.parametrize("stem", PAIRS)
def test_json_gives_the_same_findings_as_text(stem):
    as_text, as_json = read_plan(text(f"{stem}.txt")), read_plan(text(f"{stem}.json"))
    assert as_text.error is None and as_json.error is None
    assert shape(as_text) == shape(as_json)
    assert [n.name for n in as_text.plan.nodes()] == [n.name for n in as_json.plan.nodes()]
    assert [n.relation for n in as_text.plan.nodes()] == [n.relation for n in as_json.plan.nodes()]
    json_lines = text(f"{stem}.json").splitlines()
    for node in as_json.plan.nodes():  # JSON findings point at their node's line too
        assert '"Node Type"' in json_lines[node.line - 1]


@pytest.mark.parametrize("stem", ["fk_delete", "seq_scan_filter", "hash_spill"])
@pytest.mark.parametrize("variant", ["txt", "unaligned.txt", "quoted.txt", "aligned-json.txt"])
def test_psql_and_gui_decorations(stem, variant):
    """psql aligned (header, rule, footer), psql -A, pgAdmin/DBeaver quoted rows, aligned JSON with `+` marks."""
    result = read_plan(text(f"{stem}.{variant}"))
    assert result.error is None
    assert shape(result) == shape(read_plan(text(f"{stem}.json")))


def test_prose_and_fences_around_the_plan_and_no_arrows():
    plan = text("seq_scan_filter.txt")
    pasted = f"Our refunds page is slow, here is the plan:\n```\n{plan}```\nAny idea? Thanks!"
    assert shape(read_plan(pasted)) == shape(read_plan(plan))
    no_arrows = plan.replace("->  ", "    ")
    assert shape(read_plan(no_arrows)) == shape(read_plan(plan))
    assert PlanAnalyzer().detect(pasted)


def test_estimates_only_says_so_once_and_claims_nothing_else():
    for name in ("estimates_only.txt", "estimates_only.json"):
        result = read_plan(text(name))
        assert [f["rule"] for f in result.findings] == ["plan-estimates-only"]
        assert result.findings[0]["severity"] == "info" and result.hotspots == []
        analysis = PlanAnalyzer().analyze(text(name))
        assert "estimates only" in analysis.summary and "%" not in analysis.summary.split("\n\n")[0]


@pytest.mark.parametrize("name,reason", [("seq_scan_filter.yaml.txt", "YAML"), ("seq_scan_filter.xml.txt", "XML")])
def test_yaml_and_xml_get_a_one_line_error_naming_the_formats_read(name, reason):
    analyzer = PlanAnalyzer()
    assert analyzer.detect(text(name))
    analysis = analyzer.analyze(text(name))
    assert analysis.unreadable and analysis.findings == [] and "\n" not in analysis.summary
    assert reason in analysis.summary and "FORMAT JSON" in analysis.summary and "text format" in analysis.summary


def test_truncated_json_and_text_plans_are_errors_not_partial_reports():
    json_plan = text("misestimate.json")
    cut_json = read_plan(json_plan[: len(json_plan) // 2])
    assert cut_json.plan is None and "cut off" in cut_json.error
    lines = text("misestimate.txt").splitlines()
    node_line = next(i for i, line in enumerate(lines) if "Nested Loop" in line)
    cut_text = "\n".join(lines[:node_line] + [lines[node_line][:45]])
    result = read_plan(cut_text)
    assert result.plan is None and "truncated" in result.error


def test_garbage_and_prose_about_plans():
    analyzer = PlanAnalyzer()
    prose = ("Why does EXPLAIN show a Seq Scan with cost=0.00..431.00 when I have an index? "
             "The Seq Scan on orders is slow.")
    assert not analyzer.detect(prose)
    assert not analyzer.detect("SELECT * FROM orders WHERE id = 1;")
    garbage = "QUERY PLAN\n---------\n Seq Scan on orders  (cost=garbage\n ->  Hash  (cost=\n"
    assert analyzer.detect(garbage)
    analysis = analyzer.analyze(garbage)
    assert analysis.unreadable and "EXPLAIN" in analysis.summary


def test_exclusive_times_add_up_to_the_execution_time():
    for path in PLANS.glob("*.txt"):
        if any(k in path.name for k in ("yaml", "xml", "estimates")):
            continue
        plan = read_plan(path.read_text()).plan
        compute_times(plan)
        accounted = (sum(n.exclusive_ms for n in plan.nodes()) + sum(t.time_ms for t in plan.triggers)
                     + plan.jit_outside_nodes_ms)
        assert accounted <= plan.execution_ms * 1.02, path.name  # nothing counted twice
        if not plan.jit:  # JIT set-up on a busy machine can add time that no node or JIT timing reports
            # Executor start-up and shutdown (about a millisecond) belong to no node.
            assert accounted == pytest.approx(plan.execution_ms, rel=0.1, abs=1.5), path.name


def test_hotspots_lead_the_summary_like_pev2():
    analysis = PlanAnalyzer().analyze(text("fk_delete.txt"))
    top = analysis.hotspots[0]
    assert (top["node"], top["object"]) == ("Trigger", "events_account_id_fkey") and top["share"] > 0.99
    assert analysis.summary.startswith("**Query plan:** 99.9% of the ")
    assert "is the trigger for `events_account_id_fkey`" in analysis.summary.split("\n\n")[0]
    assert list(top) == ["node", "object", "share", "ms"]
    shares = [h["share"] for h in analysis.hotspots]
    assert shares == sorted(shares, reverse=True) and len(shares) <= 3


def test_analysis_fields_for_the_case_model():
    analysis = PlanAnalyzer().analyze(text("index_filter.txt"))
    assert analysis.analyzer == "explain" and analysis.problem_type == "performance" and analysis.evidence == "plan"
    assert analysis.facts == {"database": "PostgreSQL"} and analysis.tables == ["orders"]
    assert analysis.notes[0] == "indexing-strategies" and "explain-analyze" in analysis.notes
    assert not analysis.unreadable and "## Query plan" in analysis.report


def test_the_fk_fix_reads_the_schema_when_one_is_given():
    from tests.evidence.record_fixtures import DATASET

    # A constraint name that does not follow <table>_<column>_fkey: only the schema can tell.
    renamed = text("fk_delete.txt").replace("events_account_id_fkey", "fk_owner")
    schema = DATASET.replace("events_account_id_fkey", "fk_owner")
    f = PlanAnalyzer().analyze(renamed, {"schema": schema}).findings[0]
    assert (f["table"], f["column"]) == ("events", "account_id")


def test_a_garbled_text_plan_is_unreadable_not_a_crash():
    broken = text("index_filter.txt").replace("Rows Removed by Filter: ", "Rows Removed by Filter: 12x", 1)
    analysis = PlanAnalyzer().analyze(broken)  # before the fix: ValueError / OverflowError out of the parser
    assert analysis.unreadable and "I could not read" in analysis.summary


def test_a_json_plan_with_an_absurd_number_is_unreadable_not_a_crash():
    broken = text("index_filter.json").replace('"Actual Loops": 1', '"Actual Loops": 1e309', 1)
    assert '1e309' in broken
    analysis = PlanAnalyzer().analyze(broken)
    assert analysis.unreadable and "garbled" in analysis.summary

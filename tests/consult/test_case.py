"""The case model: what is extracted from a thread, and the numbers derived from it."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.consult.case import build_case
from bot.consult.derive import connection_budget, lock_queue, offset_cost, queries_per_row
from bot.consult.facts import extract_facts
from bot.consult.nouns import team_nouns
from bot.consult.symptoms import change_before, reported
from bot.store.port import Turn


def turn(role: str, text: str, **meta) -> Turn:
    return Turn(text[:8], role, text, datetime.now(timezone.utc), meta)


@pytest.mark.parametrize("text, expected", [
    ("our Go order service talks to Postgres through pgx", {"language": "Go", "driver": "pgx", "database": "PostgreSQL"}),
    ("NestJS + TypeORM, node-postgres pool, BullMQ for jobs", {"framework": "NestJS", "orm": "TypeORM",
                                                              "driver": "node-postgres", "job_queue": "BullMQ"}),
    ("Spring Boot 3 consumer (spring-kafka) behind PgBouncer, Flyway migrations",
     {"framework": "Spring", "broker": "Kafka", "pooler": "PgBouncer", "migration_tool": "Flyway"}),
    ("Laravel app on MySQL 8, login through Okta, search in Elasticsearch",
     {"framework": "Laravel", "orm": "Eloquent", "database": "MySQL", "database_version": "8",
      "identity_provider": "Okta", "search": "Elasticsearch"}),
    ("Rails 7 on Heroku, Sidekiq with Redis as the broker", {"framework": "Rails", "job_queue": "Sidekiq",
                                                            "broker": "Redis", "deployment": "Heroku"}),
    ("12 pods with 4 gunicorn workers each, pool size 10, max_connections = 100",
     {"pods": "12 pods", "workers": "4 gunicorn workers each", "pool_size": "pool size 10",
      "max_connections": "max_connections = 100"}),
    ("it runs 203 queries for 100 invoices; p95 is 2.3s", {"query_count": "203 queries", "page_size": "100 invoices"}),
])
def test_facts_cover_the_stacks_and_numbers_teams_mention(text, expected):
    facts = extract_facts(text)
    assert {k: facts.get(k) for k in expected} == expected


def test_go_the_verb_is_not_go_the_language():
    assert "language" not in extract_facts("let's go ahead and add the index, we can go live tomorrow")


@pytest.mark.parametrize("text, symptom", [
    ("the endpoint got slow since we added related items to the response", "slow-after-adding-related-data"),
    ("requests hang waiting on getConnection for 30s", "pool-exhausted"),
    ("the migration froze the site for 8 minutes", "migration-lock-outage"),
    ("9 customers got charged twice for one order", "duplicate-side-effect"),
    ("two agents edit a ticket and one agent's edits get overwritten", "lost-update"),
    ("jobs just vanish when the worker restarts", "lost-message"),
    ("page 500 of the export takes 40 seconds", "slow-deep-pages"),
])
def test_symptoms_as_teams_report_them(text, symptom):
    assert symptom in reported(text)


def test_a_worried_clause_is_not_a_report():
    assert reported("we want to cache prices but worried customers see stale prices") == []


def test_a_duplicate_done_by_a_job_is_a_redelivery_first():
    found = reported("customers get charged twice when the celery task retries")
    assert found.index("duplicate-message-processing") < found.index("duplicate-side-effect")


def test_what_changed_is_kept_in_the_teams_words():
    assert change_before("p95 tripled since we added line items to the response") == "added line items to the response"
    # The change ends where the next clause begins.
    assert change_before("slow since we deployed the pricing service, and p99 doubled") == \
        "deployed the pricing service"
    assert change_before("failing right after we upgraded to postgres 16 which was last week") == \
        "upgraded to postgres 16"
    assert change_before("since we added an index on orders(status) and a trigger") == \
        "added an index on orders(status) and a trigger"


def test_team_nouns_are_their_tables_endpoints_and_resources():
    nouns = team_nouns("GET /api/invoices is slow; SELECT * FROM invoice_lines JOIN invoices; the billing service "
                       "publishes InvoicePaid")
    for noun in ("/api/invoices", "invoice_lines", "billing", "InvoicePaid"):
        assert noun in nouns
    assert "select_related" not in team_nouns("we use select_related and prefetch_related")


def test_the_case_is_built_from_the_whole_thread_and_later_facts_win():
    earlier = [turn("user", "Django on MySQL 8, the /orders endpoint is slow since we added items to the response"),
               turn("assistant", "...", questions=["Which ORM?"], asks=["orm"]),
               turn("context", "Analysis", case={"evidence": "ddl", "tables": ["order_items"], "facts": {}})]
    case = build_case(earlier, "we moved to Postgres 15 last month; 12 pods", stored={"rows": "2M rows"})
    assert case.facts["database"] == "PostgreSQL" and case.facts["framework"] == "Django"
    assert case.facts["rows"] == "2M rows" and case.facts["pods"] == "12 pods"
    assert "slow-after-adding-related-data" in case.symptoms and case.latest == []
    assert case.evidence["ddl"] and "order_items" in case.nouns and "/orders" in case.nouns
    assert case.asked == ["Which ORM?"] and "orm" in case.asked_fields and case.turns == 2
    assert {"framework", "database", "pods", "ddl", "language"} <= case.known


def test_a_ruled_out_topic_is_remembered():
    assert build_case([], "pagination is not involved, it runs 203 queries").ruled_out == ["pagination"]


def test_connection_budget_against_max_connections():
    case = build_case([], "12 pods, 4 gunicorn workers each, pool size 10, max_connections = 100")
    line = connection_budget(case)
    assert "12 pods × 4 processes × pool 10 = **480**" in line and "max_connections = 100" in line
    assert "4.9×" in line  # 480 / 97 usable


def test_connection_budget_needs_pods_and_pool():
    assert connection_budget(build_case([], "pool size 10")) is None


def test_offset_cost_counts_the_rows_thrown_away():
    assert "**24,950**" in offset_cost(build_case([], "page 500 with 50 per page is slow"))
    assert "**100,000**" in offset_cost(build_case([], "the export query with offset 100000 takes 9s"))


def test_lock_queue_uses_the_teams_rate_and_table():
    case = build_case([], "add_column :subscriptions froze the site; a 40-minute report transaction was open; 200 rps")
    line = lock_queue(case)
    assert "`subscriptions`" in line and "40-minute report transaction" in line and "**6,000**" in line


def test_queries_per_row_from_a_count_or_from_the_relations_added():
    assert "about **2** per row" in queries_per_row(build_case([], "it runs 203 queries for 100 invoices"))
    case = build_case([], "GET /projects returns 50 projects; since we added each project's members and owner to "
                          "the DTO it went from 80ms to 1.4s")
    assert "= **101** queries" in queries_per_row(case)


def test_what_the_team_does_not_use_is_known_too():
    facts = extract_facts("max_connections is 400, we don't use pgbouncer, no Redis yet; Kafka for events")
    assert facts["pooler"] == "no PgBouncer" and facts["cache"] == "no Redis" and facts["broker"] == "Kafka"
    assert extract_facts("PgBouncer in front of Postgres")["pooler"] == "PgBouncer"


def test_a_follow_up_that_only_adds_facts_keeps_the_threads_symptom():
    from bot.config import PACKAGED_KNOWLEDGE_DIR
    from bot.consult.diagnose import diagnose
    from bot.knowledge.index import FTS5Retriever

    retriever = FTS5Retriever(PACKAGED_KNOWLEDGE_DIR, None)
    first = "12 pods, pool_size=10; requests wait for a connection (QueuePool limit reached)"
    case = build_case([turn("user", first)], "max_connections is 400 on RDS")
    result = diagnose(case, case.message, retriever.search(case.message), retriever,
                      previous_type="performance", previous_lead="connection-pooling")
    assert result.lead.id == "connection-pooling" and result.symptom == "pool-exhausted"
    assert result.problem_type == "performance" and any("**120**" in line for line in result.derived)

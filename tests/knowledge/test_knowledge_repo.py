"""The repository's own knowledge/ folder: complete curriculum, zero check problems."""

from __future__ import annotations

from bot.config import PACKAGED_KNOWLEDGE_DIR
from bot.knowledge.check import check_notes
from bot.knowledge.notes import load_notes

CURRICULUM = {
    "api": "rest-api-design api-versioning pagination graphql-performance grpc-service-design idempotency-keys "
           "rate-limiting error-handling",
    "architecture": "service-decomposition service-layer repository-and-unit-of-work dependency-injection-testability "
                    "cqrs saga-pattern transactional-outbox",
    "auth": "authentication-flows authorization-models",
    "async": "background-jobs message-brokers idempotent-consumers retries-and-backoff circuit-breakers-and-degradation",
    "data-modeling": "schema-design-fundamentals normalization-and-denormalization data-types primary-keys multi-tenancy "
                     "nosql-modeling sql-antipatterns",
    "performance": "n-plus-one-queries indexing-strategies explain-analyze query-optimization orm-optimization "
                   "connection-pooling caching-strategies redis-patterns read-replicas search-with-elasticsearch "
                   "profiling-api-latency hot-row-contention",
    "correctness": "race-conditions transaction-isolation optimistic-locking pessimistic-locking database-constraints",
    "migrations": "zero-downtime-migrations postgres-locking-migrations backfills",
    "operations": "structured-logging monitoring-and-tracing docker-for-services",
}


def test_curriculum_has_52_ids():
    assert sum(len(v.split()) for v in CURRICULUM.values()) == 52


def test_packaged_notes_pass_the_check():
    problems = [str(p) for p in check_notes(PACKAGED_KNOWLEDGE_DIR)]
    assert problems == [], "\n".join(problems)


def test_every_curriculum_id_exists_in_its_area_folder():
    notes = {n.id: n for n in load_notes(PACKAGED_KNOWLEDGE_DIR)}
    missing = [f"{area}/{i}" for area, ids in CURRICULUM.items() for i in ids.split() if i not in notes]
    assert missing == []
    misplaced = [i for area, ids in CURRICULUM.items() for i in ids.split()
                 if notes[i].area != area or notes[i].path.parent.name != area]
    assert misplaced == []


def test_every_packaged_question_declares_what_it_asks_and_symptoms_are_known():
    from bot.config import PACKAGED_KNOWLEDGE_DIR
    from bot.consult.vocabulary import SYMPTOMS
    from bot.knowledge.notes import load_notes

    notes = load_notes(PACKAGED_KNOWLEDGE_DIR)
    bare = [f"{n.id}: {q.text[:60]}" for n in notes for q in n.questions if not q.asks]
    assert bare == []
    declared = {s for n in notes for s in n.symptoms}
    assert declared == set(SYMPTOMS), "every symptom the case model recognises has a note that explains it"

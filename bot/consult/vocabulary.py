"""The names the case model, the notes and the analyzers share.

- CASE_FIELDS: what the consultant can know about a team's case. A note question declares the fields it asks
  about (`asks: [pods, pool_size]`), so a question is never asked once the case knows its fields.
- EVIDENCE: what a team can paste or share. A question that asks for evidence names it in `asks` too (`asks:
  [plan]`), so it is never asked after the evidence arrived.
- SYMPTOMS: what a team reports as going wrong. A note declares the symptoms it explains (`symptoms: [...]`), and
  the note that explains a reported symptom leads the diagnosis.
- STACK_TAGS: words after the language in a note's code fence (```` ```python django ````) say which stack the
  example is for; an untagged block is plain code in its language. SQL fences keep their dialect there
  (```` ```sql mysql ````).

Only names and one-line meanings live here; the extraction rules are in bot/consult/case.py.
"""

from __future__ import annotations

STACK_FIELDS: dict[str, str] = {
    "language": "programming language (Python, Go, Java, TypeScript, Ruby, PHP, C#)",
    "framework": "web framework (Django, FastAPI, Flask, NestJS, Express, Spring, Rails, Laravel, Gin)",
    "orm": "ORM or query layer (Django ORM, SQLAlchemy, ActiveRecord, Hibernate/JPA, Prisma, TypeORM, GORM, sqlc)",
    "driver": "database driver (psycopg, asyncpg, node-postgres, pgx, JDBC, mysql2)",
    "database": "database engine (PostgreSQL, MySQL, MongoDB, SQLite)",
    "database_version": "database major version",
    "pooler": "connection pooler (PgBouncer, RDS Proxy, pgcat, HikariCP)",
    "broker": "message broker (Kafka, RabbitMQ, SQS, Redis streams, NATS)",
    "job_queue": "job or task queue (Celery, Sidekiq, BullMQ, RQ)",
    "cache": "cache (Redis, Memcached, a CDN)",
    "search": "search engine (Elasticsearch, OpenSearch, Meilisearch)",
    "identity_provider": "identity provider (Auth0, Okta, Cognito, Keycloak, Azure AD)",
    "migration_tool": "migration tool (Django migrations, Alembic, Rails, Flyway, Liquibase, Prisma Migrate)",
    "deployment": "where it runs (Kubernetes, serverless, PaaS, VMs)",
    "api_style": "API style (REST, GraphQL, gRPC)",
}
SCALE_FIELDS: dict[str, str] = {
    "rows": "rows in the tables involved",
    "rps": "requests or messages per second",
    "pods": "pods, instances, dynos or replicas",
    "workers": "worker processes or threads per pod",
    "pool_size": "connection pool size per process",
    "max_connections": "the database's max_connections",
    "latency": "measured latency (p50/p95/p99, seconds)",
    "page_size": "rows per page or per request",
    "page_number": "which page (OFFSET depth) is slow",
    "query_count": "queries per request or per job",
    "data_size": "size of tables or payloads (GB, MB)",
    "duration": "how long the operation or transaction runs",
    "concurrency": "concurrent requests, consumers or writers",
}
CONTEXT_FIELDS: dict[str, str] = {
    "change": "what changed before the problem started (deploy, migration, traffic, new field)",
    "error": "the error text or exception",
    "access_pattern": "how the data is read and written (filters, sorting, hot keys, read/write mix)",
    "consistency": "how fresh or exact reads must be; what may be stale",
    "isolation_level": "transaction isolation level in use",
    "transaction_scope": "what runs inside one transaction",
    "delivery": "delivery guarantees and retries (at-least-once, acks, visibility timeout)",
    "idempotency": "whether the operation is idempotent or has a dedupe key",
    "clients": "who calls the API (mobile apps, partners, internal services)",
    "tenancy": "how tenants are separated",
    "auth_method": "how callers authenticate (sessions, JWT, OAuth, API keys)",
    "requirements": "goals and constraints (SLOs, compliance, deadlines, team size)",
    "measurements": "what has been measured so far and what it showed",
}
EVIDENCE: dict[str, str] = {
    "plan": "EXPLAIN / EXPLAIN ANALYZE output",
    "query_log": "a query log (server log, ORM debug log)",
    "ddl": "table definitions or a migration",
    "query": "the SQL statement itself",
    "stack_trace": "a stack trace or error log",
    "metrics": "metrics or dashboards (latency, CPU, connections)",
    "code": "the code path (model, handler, job)",
}
CASE_FIELDS: dict[str, str] = {**STACK_FIELDS, **SCALE_FIELDS, **CONTEXT_FIELDS, **EVIDENCE}

SYMPTOMS: dict[str, str] = {
    "slow-after-adding-related-data": "an endpoint got slow since related data was added to its response",
    "many-queries-per-request": "a request runs many (similar) queries; query count grows with page size",
    "slow-query": "one SQL query is slow",
    "slow-endpoint": "an endpoint or page is slow, cause unknown",
    "slow-deep-pages": "listing gets slower at later pages / large OFFSET",
    "pool-exhausted": "waiting for a connection, too many connections, pool timeouts",
    "migration-lock-outage": "a migration froze the site or queued behind locks",
    "old-code-breaks-after-migration": "old code or pods fail after a schema change (dropped/renamed column)",
    "slow-migration-backfill": "a backfill or big UPDATE runs long or locks",
    "duplicate-side-effect": "an action happened twice (charged twice, duplicate rows, double email)",
    "duplicate-message-processing": "a consumer or job processed a message more than once",
    "lost-update": "concurrent edits overwrite each other",
    "lost-message": "jobs, events or messages disappear",
    "oversell": "counters or stock go wrong under concurrency (negative stock, overbooking)",
    "deadlock": "deadlocks or serialization failures",
    "hot-row-contention": "many writers wait on the same row or counter",
    "stale-read": "reads return old data after a write (replica lag, stale cache)",
    "cache-stampede": "a cache expiry sends a burst of load to the database",
    "job-backlog": "a queue grows; workers cannot keep up",
    "request-timeout": "requests time out doing long work inline",
    "dependency-outage": "a slow or failing dependency takes the service down",
    "retry-storm": "retries multiply load during an outage",
    "cross-tenant-access": "users can see or change data that is not theirs",
    "auth-token-problem": "tokens cannot be revoked, sessions misbehave, login broken",
    "secrets-in-logs": "secrets or personal data appear in logs",
    "breaking-api-change": "clients broke after an API change",
    "time-zone-bug": "times are off by hours or shift across DST",
    "money-rounding": "money amounts are off by cents",
    "id-overflow": "an integer key ran out of range",
    "memory-growth": "memory grows until OOM",
    "search-slow": "text search (LIKE '%x%') is slow or poor",
    "rate-limit-abuse": "clients overload the API or brute-force endpoints",
}

# Stack tags used in code fences, by what they mark. A language name alone (```python) is generic for that language.
STACK_TAGS: dict[str, str] = {
    "django": "Django / Django ORM", "sqlalchemy": "SQLAlchemy", "fastapi": "FastAPI", "flask": "Flask",
    "celery": "Celery", "pydantic": "Pydantic", "psycopg": "psycopg", "asyncpg": "asyncpg",
    "rails": "Rails / ActiveRecord", "sidekiq": "Sidekiq",
    "spring": "Spring / Spring Data", "hibernate": "Hibernate / JPA", "jdbc": "JDBC",
    "nestjs": "NestJS", "express": "Express", "prisma": "Prisma", "typeorm": "TypeORM", "sequelize": "Sequelize",
    "knex": "Knex", "node-postgres": "node-postgres (pg)", "bullmq": "BullMQ", "graphql": "GraphQL servers",
    "gorm": "GORM", "pgx": "pgx", "sqlc": "sqlc", "database-sql": "Go database/sql",
    "laravel": "Laravel / Eloquent", "efcore": "Entity Framework Core", "kafka": "Kafka clients",
}

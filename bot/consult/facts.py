"""Case facts stated in one message: the stack, the scale, and context such as the error or what changed.

Rule-based and offline. Each extractor keeps what the team said in their words ("12 pods", "pool size 10"), so the
answer can quote it; numbers are parsed back out where a derived figure needs them (bot/consult/derive.py).
"""

from __future__ import annotations

import re

Table = list[tuple[re.Pattern[str], str]]


def _table(pairs: list[tuple[str, str]], flags: int = re.I) -> Table:
    return [(re.compile(rf"(?<![\w.-])(?:{pattern})(?![\w-])", flags), name) for pattern, name in pairs]


# (pattern, canonical name). Frameworks imply a language; listed most specific first.
FRAMEWORKS = _table([
    (r"django(?:\s*rest\s*framework)?|drf", "Django"), (r"fast\s?api", "FastAPI"), (r"flask", "Flask"),
    (r"rails|ruby on rails", "Rails"), (r"spring(?:\s?boot)?", "Spring"),
    (r"nest\.?js|nestjs", "NestJS"), (r"express(?:\.js)?", "Express"), (r"next\.?js", "Next.js"),
    (r"fastify", "Fastify"), (r"laravel", "Laravel"), (r"symfony", "Symfony"), (r"phoenix", "Phoenix"),
    (r"asp\.net(?: core)?|\.net core", "ASP.NET Core"), (r"gin-gonic|gin(?= (?:framework|handler|router|app))", "Gin"),
    (r"labstack/echo|echo framework", "Echo"), (r"fiber(?= framework| app)", "Fiber"),
    (r"ktor", "Ktor"), (r"quarkus", "Quarkus"), (r"micronaut", "Micronaut"),
])
FRAMEWORK_LANGUAGE = {
    "Django": "Python", "FastAPI": "Python", "Flask": "Python", "Rails": "Ruby", "Spring": "Java",
    "NestJS": "TypeScript", "Express": "JavaScript", "Next.js": "TypeScript", "Fastify": "JavaScript",
    "Laravel": "PHP", "Symfony": "PHP", "Phoenix": "Elixir", "ASP.NET Core": "C#", "Gin": "Go", "Echo": "Go",
    "Fiber": "Go", "Ktor": "Kotlin", "Quarkus": "Java", "Micronaut": "Java",
}
# Frameworks that ship their own ORM: saying "Django" answers "which ORM?" unless another ORM is named.
FRAMEWORK_ORM = {"Django": "Django ORM", "Rails": "ActiveRecord", "Laravel": "Eloquent", "Phoenix": "Ecto"}
FRAMEWORK_MIGRATIONS = {"Django": "Django migrations", "Rails": "Rails migrations", "Laravel": "Laravel migrations",
                        "Phoenix": "Ecto migrations"}
LANGUAGES = _table([
    (r"python3?|pypy", "Python"), (r"ruby", "Ruby"), (r"java(?!script)", "Java"), (r"kotlin", "Kotlin"),
    (r"typescript|ts-node", "TypeScript"), (r"javascript|node\.?js|node", "JavaScript"),
    (r"golang|go(?=\s+1\.\d+)", "Go"), (r"rust", "Rust"), (r"php", "PHP"),
    (r"elixir", "Elixir"), (r"c#|dotnet|\.net", "C#"), (r"scala", "Scala"),
])
# "Go" is also a verb: only the capitalised word next to what a Go program is counts.
_GO = re.compile(r"\bGo\b(?=\s+(?:\w+\s+)?(?:service|services|app|api|backend|code|microservice|worker|workers|server|"
                 r"binary|module|program|consumer|handler|monolith|shop|team)s?\b)|\b(?:in|with|using|written in) Go\b"
                 r"|\bGo (?:and|\+|with)\b|\(Go\b|\bGo\)|\bgoroutines?\b|\bnet/http\b|\bgo\.mod\b")
# Drivers and ORMs that exist in one language only tell the language when nothing else does.
IMPLIED_LANGUAGE = {
    "pgx": "Go", "lib/pq": "Go", "database/sql": "Go", "GORM": "Go", "sqlc": "Go", "ent": "Go", "node-postgres": "JavaScript",
    "psycopg": "Python", "asyncpg": "Python", "SQLAlchemy": "Python", "Django ORM": "Python", "Tortoise ORM": "Python",
    "peewee": "Python", "Prisma": "TypeScript", "TypeORM": "TypeScript", "Sequelize": "JavaScript", "Knex": "JavaScript",
    "Mongoose": "JavaScript", "Drizzle": "TypeScript", "MikroORM": "TypeScript", "Hibernate/JPA": "Java", "JDBC": "Java",
    "jOOQ": "Java", "ActiveRecord": "Ruby", "Eloquent": "PHP", "Doctrine": "PHP", "Entity Framework": "C#", "Ecto": "Elixir",
    "Celery": "Python", "RQ": "Python", "Dramatiq": "Python", "Sidekiq": "Ruby", "BullMQ": "JavaScript", "asynq": "Go",
}
ORMS = _table([
    (r"django orm|django models?|select_related|prefetch_related|queryset|\.objects\.", "Django ORM"),
    (r"sql\s?alchemy|sqlmodel|joinedload|selectinload", "SQLAlchemy"), (r"active\s?record|activerecord", "ActiveRecord"),
    (r"hibernate|jpa|spring data", "Hibernate/JPA"), (r"prisma", "Prisma"), (r"type\s?orm", "TypeORM"),
    (r"sequelize", "Sequelize"), (r"knex", "Knex"), (r"drizzle", "Drizzle"), (r"mikro-?orm", "MikroORM"),
    (r"gorm", "GORM"), (r"sqlc", "sqlc"), (r"sqlx", "sqlx"), (r"ent(?= orm)", "ent"), (r"jooq", "jOOQ"),
    (r"entity framework|ef core", "Entity Framework"), (r"eloquent", "Eloquent"), (r"ecto", "Ecto"),
    (r"tortoise(?:-orm)?", "Tortoise ORM"), (r"peewee", "peewee"), (r"mongoose", "Mongoose"), (r"doctrine", "Doctrine"),
])
DATABASES = _table([
    (r"postgres(?:ql)?|pg(?=\s?\d)|psql|aurora postgres(?:ql)?|rds postgres(?:ql)?", "PostgreSQL"),
    (r"mysql|aurora mysql", "MySQL"), (r"mariadb", "MariaDB"), (r"sqlite3?", "SQLite"),
    (r"sql server|mssql|t-sql", "SQL Server"), (r"oracle", "Oracle"), (r"mongo(?:db)?", "MongoDB"),
    (r"dynamo(?:db)?", "DynamoDB"), (r"cassandra|scylla(?:db)?", "Cassandra"), (r"cockroach(?:db)?", "CockroachDB"),
    (r"clickhouse", "ClickHouse"),
])
DRIVERS = _table([
    (r"node-postgres|pg\.Pool|pg-pool|new Pool\(", "node-postgres"), (r"psycopg2?|psycopg3", "psycopg"),
    (r"asyncpg", "asyncpg"), (r"pgx(?:pool)?", "pgx"), (r"lib/pq", "lib/pq"), (r"jdbc", "JDBC"),
    (r"mysql2", "mysql2"), (r"mysqlclient|pymysql", "mysqlclient"), (r"database/sql", "database/sql"),
])
POOLERS = _table([
    (r"pgbouncer|pg bouncer", "PgBouncer"), (r"rds proxy", "RDS Proxy"), (r"pgcat", "pgcat"),
    (r"odyssey", "Odyssey"), (r"hikari(?:cp)?", "HikariCP"), (r"supavisor", "Supavisor"),
])
# Client library names count too ("spring-kafka", "kafkajs").
BROKERS = _table([
    (r"kafka|msk|confluent|spring-kafka|kafkajs|confluent-kafka|sarama|franz-go", "Kafka"), (r"rabbit\s?mq|amqp", "RabbitMQ"), (r"sqs", "SQS"), (r"sns", "SNS"),
    (r"redis streams?|xadd|xreadgroup", "Redis Streams"), (r"redis(?= as (?:the |a |our )?broker)", "Redis"), (r"nats|jetstream", "NATS"),
    (r"pub/?sub", "Pub/Sub"), (r"kinesis", "Kinesis"), (r"eventbridge", "EventBridge"), (r"activemq", "ActiveMQ"),
])
JOB_QUEUES = _table([
    (r"celery", "Celery"), (r"sidekiq", "Sidekiq"), (r"bullmq|bull(?= queue| job)", "BullMQ"),
    (r"rq(?= worker| job| queue)|python-rq", "RQ"), (r"dramatiq", "Dramatiq"), (r"resque", "Resque"),
    (r"delayed_job", "delayed_job"), (r"good_?job", "GoodJob"), (r"hangfire", "Hangfire"), (r"oban", "Oban"),
    (r"asynq", "asynq"), (r"temporal", "Temporal"), (r"solid_?queue", "Solid Queue"),
])
CACHES = _table([
    (r"redis|elasticache|valkey|upstash", "Redis"), (r"memcached?", "Memcached"), (r"varnish", "Varnish"),
    (r"cloudfront|fastly|cloudflare|cdn", "a CDN"),
])
SEARCH = _table([
    (r"elastic\s?search|elastic", "Elasticsearch"), (r"opensearch", "OpenSearch"), (r"meili\s?search", "Meilisearch"),
    (r"algolia", "Algolia"), (r"typesense", "Typesense"), (r"solr", "Solr"),
])
IDENTITY = _table([
    (r"auth0", "Auth0"), (r"okta", "Okta"), (r"cognito", "Cognito"), (r"keycloak", "Keycloak"),
    (r"azure ad|entra(?: id)?|aad", "Azure AD"), (r"firebase auth", "Firebase Auth"), (r"clerk", "Clerk"),
    (r"supabase auth", "Supabase Auth"), (r"google (?:sign-in|workspace|oauth)", "Google"), (r"ory|kratos", "Ory"),
])
MIGRATION_TOOLS = _table([
    (r"makemigrations|django migrations?|migrations\.Run(?:SQL|Python)|SeparateDatabaseAndState", "Django migrations"),
    (r"alembic", "Alembic"), (r"flyway", "Flyway"), (r"liquibase", "Liquibase"),
    (r"prisma migrate", "Prisma Migrate"), (r"golang-migrate|goose", "golang-migrate/goose"),
    (r"strong_migrations|add_column|add_index|rails db:migrate|ActiveRecord::Migration", "Rails migrations"),
    (r"knex migrat\w*", "Knex migrations"), (r"typeorm migrat\w*", "TypeORM migrations"), (r"atlas", "Atlas"),
    (r"sqitch", "Sqitch"), (r"ecto migrat\w*", "Ecto migrations"), (r"ef migrations?|dotnet ef", "EF migrations"),
])
DEPLOYMENTS = _table([
    (r"kubernetes|k8s|eks|gke|aks|helm|hpa", "Kubernetes"), (r"lambda|serverless|cloud functions|cloud run", "serverless"),
    (r"heroku|dynos?", "Heroku"), (r"ecs|fargate", "AWS ECS"), (r"fly\.io", "Fly.io"), (r"render\.com", "Render"),
    (r"vercel", "Vercel"), (r"docker compose|docker-compose", "Docker Compose"), (r"nomad", "Nomad"),
    (r"app engine", "App Engine"), (r"bare metal|on[- ]prem(?:ise)?", "on-premises"), (r"vms?|ec2", "VMs"),
])
API_STYLES = _table([(r"graphql|apollo|resolvers?", "GraphQL"), (r"grpc|protobuf", "gRPC"), (r"rest(?:ful)?(?= api)", "REST")])

STACK_TABLES: dict[str, Table] = {
    "orm": ORMS, "database": DATABASES, "driver": DRIVERS, "pooler": POOLERS, "broker": BROKERS,
    "job_queue": JOB_QUEUES, "cache": CACHES, "search": SEARCH, "identity_provider": IDENTITY,
    "migration_tool": MIGRATION_TOOLS, "deployment": DEPLOYMENTS, "api_style": API_STYLES,
}

_N = r"(\d[\d,]*(?:\.\d+)?)\s*(k|m|mm|b|bn|thousand|million|billion)?"
_VERSION = re.compile(
    r"(?i)(?:postgres(?:ql)?|pg|mysql|mariadb|sqlite|mongo(?:db)?)\s*(?:version\s*)?v?(\d{1,2}(?:\.\d{1,2})?)"
    r"(?![\d.]*\s*(?:%|ms|s\b|gb|mb|rows|connections))")
SCALE: dict[str, re.Pattern[str]] = {name: re.compile(pattern, re.I) for name, pattern in {
    "pods": r"\b(?:hpa[^.\n]{0,30}?)?\b\d+\s*(?:-|to|–)?\s*\d*\s*(?:k8s |app |api |web )?(?:pods?|replicas?|instances?|dynos?|containers?|nodes?|ecs tasks?|vms?|servers?)\b",
    "workers": r"\b\d+\s*(?:gunicorn |uvicorn |puma |unicorn |celery |sidekiq |rq |php-fpm |node )?(?:workers?|processes|procs|threads|concurrency)\b(?:\s*(?:each|per (?:pod|instance|container|dyno|node)))?",
    "pool_size": r"\b(?:pool[_ ]?size|pool of|pool (?:is|=|:)|maximumPoolSize|max_?pool(?:_?size)?|connection_limit|pool max(?:imum)?|max:)\s*(?:=|:|is|of|to|at|set to)?\s*\d+\b|\b\d+\s*connections? (?:per|in (?:the|each)|each) (?:pool|process|worker|pod)\b",
    "max_connections": r"\bmax_connections\s*(?:=|:|is|of|at|set to)?\s*\d+\b|\b\d+\s*max[_ ]connections\b|\bconnection limit (?:of |is )?\d+\b",
    "rps": rf"\b{_N}\s*(?:rps|qps|tps|req(?:uests)?\s*(?:/|per|a)\s*(?:second|sec|s|minute|min)|(?:requests|queries|writes|messages|msgs|events|jobs|orders)\s*(?:/|per|a)\s*(?:second|sec|s|minute|min))\b",
    "rows": rf"\b{_N}\s*(?:rows|records|entries|documents|docs)\b(?!=)",
    "latency": r"\bp(?:50|90|95|99|999)\s*(?:latency\s*)?(?:is|of|=|at|~|:|went|jumped|went up)?\s*(?:to|from)?\s*~?\d+(?:\.\d+)?\s*(?:ms|s|sec|seconds)\b|\b\d+(?:\.\d+)?\s*(?:ms|s|sec|seconds)\s+p(?:50|90|95|99)\b|\b(?:takes|taking|took|went (?:up )?to|jumped to|now)\s+~?\d+(?:\.\d+)?\s*(?:ms|s|sec|seconds)\b",
    "page_size": r"\b(?:returns?|lists?|loads?|shows?|renders?|fetch(?:es)?) \d+ [a-z]+\b|\b\d+\s*(?:\w+\s+)?per page\b|\bpage[_ ]?size\s*(?:=|:|of|is)?\s*\d+\b|\blimit[ =]\d+\b|\bqueries for \d+\s+\w+",
    "page_number": r"\bpage[ =](?:number )?\d+\b|\boffset[ =]\d+\b|\bpage=\d+",
    "query_count": r"\b\d[\d,]*\s*(?:sql |db |database |separate |similar |identical )?(?:queries|selects|round ?trips|sql statements)\b(?!\s*(?:/|per|a)\s*(?:second|sec|s|minute|min)\b)",
    "data_size": r"\b\d+(?:\.\d+)?\s*(?:gb|tb|mb|gib|tib|mib)\b",
    "duration": r"\b(?:\d+(?:\.\d+)?|a|an|one|two|several)[- ](?:minutes?|mins?|hours?|hrs?|seconds?|secs?)[- ](?:long[- ])?(?:[a-z]+ )?(?:transaction|report|query|migration|backfill|job|batch)\b|\b(?:transaction|report|query|migration|backfill|job|batch)(?:es|s)? (?:that )?(?:runs?|ran|running|takes?|took|lasting|open) (?:for )?(?:about |over |~)?\d+(?:\.\d+)?\s*(?:minutes?|mins?|hours?|h|seconds?|s)\b",
    "concurrency": r"\b\d+\s*concurrent (?:users|requests|consumers|workers|writers|connections|jobs)\b|\bconcurrency (?:of |=|:)?\s*\d+\b",
}.items()}
_ISOLATION = re.compile(r"\b(read committed|repeatable read|serializable|read uncommitted|snapshot isolation)\b", re.I)


# "we don't use pgbouncer", "no Redis yet", "without Kafka": a named thing the team does not have.
_NEGATED = re.compile(r"\b(?:don'?t|do not|doesn'?t|does not|aren'?t|are not|not|never|no longer)\s+(?:\w+\s+){0,2}?"
                      r"(?:use|using|used|run|running|have|having)\s+(?:a\s+|an\s+|any\s+)?$|\b(?:no|without)\s+$", re.I)


def _first(table: Table, text: str) -> str | None:
    """The first thing of this kind the message names; "no X" when it only says it does not use X."""
    hits, negated = [], []
    for pattern, name in table:
        for m in pattern.finditer(text):
            (negated if _NEGATED.search(text[max(0, m.start() - 40):m.start()]) else hits).append((m.start(), name))
    if hits:
        return min(hits)[1]
    return f"no {min(negated)[1]}" if negated else None


def _said(match: re.Match[str]) -> str:
    return re.sub(r"\s+", " ", match.group(0).strip().rstrip(".,;"))


def extract_facts(text: str) -> dict[str, str]:
    """Facts stated in one message: only what is said, plus what a framework implies (its language, its ORM)."""
    facts: dict[str, str] = {}
    if framework := _first(FRAMEWORKS, text):
        facts["framework"] = framework
        facts["language"] = FRAMEWORK_LANGUAGE[framework]
    language = "Go" if _GO.search(text) else _first(LANGUAGES, text)
    if language:
        facts.setdefault("language", language)
    for name, table in STACK_TABLES.items():
        if value := _first(table, text):
            facts[name] = value
    if facts.get("cache") == "Redis" and facts.get("broker") in ("Redis Streams", "Redis"):
        del facts["cache"]
    if "orm" not in facts and facts.get("framework") in FRAMEWORK_ORM:
        facts["orm"] = FRAMEWORK_ORM[facts["framework"]]
    if "migration_tool" not in facts and facts.get("framework") in FRAMEWORK_MIGRATIONS:
        facts["migration_tool"] = FRAMEWORK_MIGRATIONS[facts["framework"]]
    if "language" not in facts:
        implied = [IMPLIED_LANGUAGE[v] for n in ("orm", "driver", "job_queue") if (v := facts.get(n)) in IMPLIED_LANGUAGE]
        if implied:
            facts["language"] = implied[0]
    if version := _VERSION.search(text):
        facts["database_version"] = version.group(1)
    for name, pattern in SCALE.items():
        found = list(dict.fromkeys(re.sub(r"^queries for ", "", _said(m)) for m in pattern.finditer(text)))
        if found:
            facts[name] = ", ".join(found[:3])
    if isolation := _ISOLATION.search(text):
        facts["isolation_level"] = isolation.group(1).upper()
    return facts



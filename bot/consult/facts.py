"""Case facts: what the user already told us about their stack, size and deployment."""

from __future__ import annotations

import re

FACT_NAMES = ("language", "framework", "orm", "database", "database_version", "scale", "deployment")


def _table(pairs: list[tuple[str, str]]) -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile(rf"(?<![\w.-])(?:{pattern})(?![\w-])", re.I), name) for pattern, name in pairs]


# (pattern, canonical name). Frameworks imply a language; listed most specific first.
FRAMEWORKS = _table([
    (r"django(?:\s*rest\s*framework)?|drf", "Django"), (r"fast\s?api", "FastAPI"), (r"flask", "Flask"),
    (r"rails|ruby on rails|active\s?record", "Rails"), (r"spring(?:\s?boot)?", "Spring"),
    (r"nest\.?js|nestjs", "NestJS"), (r"express(?:\.js)?", "Express"), (r"next\.?js", "Next.js"),
    (r"laravel", "Laravel"), (r"symfony", "Symfony"), (r"phoenix", "Phoenix"),
    (r"asp\.net(?: core)?|\.net core", "ASP.NET Core"), (r"gin-gonic|gin framework", "Gin"), (r"labstack/echo|echo framework", "Echo"),
    (r"ktor", "Ktor"), (r"quarkus", "Quarkus"), (r"micronaut", "Micronaut"),
])
FRAMEWORK_LANGUAGE = {
    "Django": "Python", "FastAPI": "Python", "Flask": "Python", "Rails": "Ruby", "Spring": "Java",
    "NestJS": "TypeScript", "Express": "JavaScript", "Next.js": "TypeScript", "Laravel": "PHP", "Symfony": "PHP",
    "Phoenix": "Elixir", "ASP.NET Core": "C#", "Gin": "Go", "Echo": "Go", "Ktor": "Kotlin", "Quarkus": "Java",
    "Micronaut": "Java",
}
# Frameworks that ship their own ORM: saying "Django" answers "which ORM?" unless another ORM is named.
FRAMEWORK_ORM = {"Django": "Django ORM", "Rails": "ActiveRecord", "Laravel": "Eloquent", "Phoenix": "Ecto"}
LANGUAGES = _table([
    (r"python", "Python"), (r"ruby", "Ruby"), (r"java(?!script)", "Java"), (r"kotlin", "Kotlin"),
    (r"typescript|ts-node", "TypeScript"), (r"javascript|node\.?js|node", "JavaScript"),
    (r"golang|go(?= (?:service|app|api|backend|code|1\.\d+))", "Go"), (r"rust", "Rust"), (r"php", "PHP"),
    (r"elixir", "Elixir"), (r"c#|dotnet|\.net", "C#"), (r"scala", "Scala"),
])
ORMS = _table([
    (r"django orm|django models?|select_related|prefetch_related|queryset", "Django ORM"),
    (r"sql\s?alchemy|sqlmodel", "SQLAlchemy"), (r"active\s?record", "ActiveRecord"),
    (r"hibernate|jpa|spring data", "Hibernate/JPA"), (r"prisma", "Prisma"), (r"type\s?orm", "TypeORM"),
    (r"sequelize", "Sequelize"), (r"knex", "Knex"), (r"drizzle", "Drizzle"), (r"mikro-?orm", "MikroORM"),
    (r"gorm", "GORM"), (r"sqlc", "sqlc"), (r"sqlx", "sqlx"), (r"ent(?= orm)", "ent"),
    (r"entity framework|ef core", "Entity Framework"), (r"eloquent", "Eloquent"), (r"ecto", "Ecto"),
    (r"tortoise(?:-orm)?", "Tortoise ORM"), (r"peewee", "peewee"), (r"mongoose", "Mongoose"),
])
DATABASES = _table([
    (r"postgres(?:ql)?|pg(?=\s?\d)|psql|aurora postgres(?:ql)?", "PostgreSQL"), (r"mysql|aurora mysql", "MySQL"),
    (r"mariadb", "MariaDB"), (r"sqlite3?", "SQLite"), (r"sql server|mssql|t-sql", "SQL Server"),
    (r"oracle", "Oracle"), (r"mongo(?:db)?", "MongoDB"), (r"dynamo(?:db)?", "DynamoDB"),
    (r"cassandra|scylla(?:db)?", "Cassandra"), (r"cockroach(?:db)?", "CockroachDB"), (r"redis", "Redis"),
    (r"elastic\s?search|opensearch", "Elasticsearch"), (r"clickhouse", "ClickHouse"),
])
DEPLOYMENTS = _table([
    (r"kubernetes|k8s|eks|gke|aks|helm", "Kubernetes"), (r"lambda|serverless|cloud functions|cloud run", "serverless"),
    (r"heroku", "Heroku"), (r"ecs|fargate", "AWS ECS"), (r"fly\.io", "Fly.io"), (r"render\.com", "Render"),
    (r"vercel", "Vercel"), (r"docker compose|docker-compose", "Docker Compose"), (r"nomad", "Nomad"),
    (r"app engine", "App Engine"), (r"bare metal|on[- ]prem(?:ise)?", "on-premises"), (r"\bvms?\b|ec2", "VMs"),
])

_VERSION = re.compile(
    r"(?i)(?:postgres(?:ql)?|pg|mysql|mariadb|sqlite)\s*(?:version\s*)?v?(\d{1,2}(?:\.\d{1,2})?)(?![\d.]*\s*(?:%|ms|s\b|gb|mb))")
_NUMBER = r"(\d[\d,]*(?:\.\d+)?)\s*(k|m|mm|b|bn|thousand|million|billion)?"
_ROWS = re.compile(rf"(?i){_NUMBER}\s*(?:rows|records|entries|users|orders|events)")
_RATE = re.compile(rf"(?i){_NUMBER}\s*(?:rps|qps|tps|req(?:uests)?\s*(?:/|per)\s*(?:second|sec|s)|"
                   rf"(?:requests|queries|writes|messages|jobs)\s*(?:/|per|a)\s*(?:second|sec|s|minute|min))")


def _first(table: list[tuple[re.Pattern[str], str]], text: str) -> str | None:
    hits = [(m.start(), name) for pattern, name in table if (m := pattern.search(text))]
    return min(hits)[1] if hits else None


def _quantity(match: re.Match[str]) -> str:
    return re.sub(r"\s+", " ", match.group(0).strip())


def extract_facts(text: str) -> dict[str, str]:
    """Facts stated in one message. Only what is said, plus what a framework implies (its language, its ORM)."""
    facts: dict[str, str] = {}
    if framework := _first(FRAMEWORKS, text):
        facts["framework"] = framework
        facts["language"] = FRAMEWORK_LANGUAGE[framework]
    if language := _first(LANGUAGES, text):
        facts.setdefault("language", language)
    if orm := _first(ORMS, text):
        facts["orm"] = orm
    elif facts.get("framework") in FRAMEWORK_ORM:
        facts["orm"] = FRAMEWORK_ORM[facts["framework"]]
    if database := _first(DATABASES, text):
        facts["database"] = database
    if version := _VERSION.search(text):
        facts["database_version"] = version.group(1)
    sizes = [_quantity(m) for m in _ROWS.finditer(text)] + [_quantity(m) for m in _RATE.finditer(text)]
    if sizes:
        facts["scale"] = ", ".join(dict.fromkeys(sizes))
    if deployment := _first(DEPLOYMENTS, text):
        facts["deployment"] = deployment
    return facts


def merge_facts(known: dict[str, str], new: dict[str, str]) -> dict[str, str]:
    """Newer statements win, except that a scale mention adds to the earlier ones."""
    merged = dict(known)
    for name, value in new.items():
        if name == "scale" and known.get("scale") and value not in known["scale"]:
            merged[name] = f"{known['scale']}, {value}"
        else:
            merged[name] = value
    return merged


def describe_facts(facts: dict[str, str]) -> str:
    labels = {"language": "Language", "framework": "Framework", "orm": "ORM", "database": "Database",
              "database_version": "Database version", "scale": "Scale", "deployment": "Deployment"}
    return "\n".join(f"- {labels[n]}: {facts[n]}" for n in FACT_NAMES if n in facts)

"""Code only in the team's stack: which of a note's code blocks fit the case.

A note's fence says its stack (```` ```python django ````, bot/consult/vocabulary.py STACK_TAGS). A block fits
when its language is the team's (or a generic one such as SQL) and none of its tags names a different choice in a
category the team has already made (a Django block for a FastAPI + SQLAlchemy team does not fit). With no known
language everything fits and the answer shows one example per section.
"""

from __future__ import annotations

import re

from bot.consult.case import Case
from bot.consult.markdown_sections import CodeBlock

GENERIC = {"sql", "console", "text", "bash", "sh", "shell", "json", "yaml", "yml", "http", "ini", "toml", "dockerfile",
           "protobuf", "proto", "lua", "hcl", "", "diff", "csv", "xml", "redis"}
LANGUAGES = {
    "Python": {"python", "py"}, "Ruby": {"ruby", "rb", "erb"}, "Java": {"java", "kotlin", "kt"},
    "Kotlin": {"kotlin", "kt", "java"}, "TypeScript": {"typescript", "ts", "javascript", "js", "prisma"},
    "JavaScript": {"javascript", "js", "typescript", "ts", "prisma"}, "Go": {"go", "golang"}, "PHP": {"php"},
    "C#": {"csharp", "cs", "c#"}, "Elixir": {"elixir", "ex"}, "Rust": {"rust", "rs"}, "Scala": {"scala"},
}
# tag -> the case values it stands for
TAG_VALUES: dict[str, set[str]] = {
    "django": {"Django", "Django ORM"}, "sqlalchemy": {"SQLAlchemy"}, "fastapi": {"FastAPI"}, "flask": {"Flask"},
    "celery": {"Celery"}, "psycopg": {"psycopg"}, "asyncpg": {"asyncpg"}, "rails": {"Rails", "ActiveRecord"},
    "sidekiq": {"Sidekiq"}, "spring": {"Spring", "Hibernate/JPA"}, "hibernate": {"Hibernate/JPA", "Spring"},
    "jdbc": {"JDBC"}, "nestjs": {"NestJS"}, "express": {"Express"}, "prisma": {"Prisma"}, "typeorm": {"TypeORM"},
    "sequelize": {"Sequelize"}, "knex": {"Knex"}, "node-postgres": {"node-postgres"}, "bullmq": {"BullMQ"},
    "gorm": {"GORM"}, "pgx": {"pgx"}, "sqlc": {"sqlc"}, "database-sql": {"database/sql"},
    "laravel": {"Laravel", "Eloquent"}, "efcore": {"Entity Framework"},
}
# The case field each tag is a choice in: a different known value there means the block is for another stack.
TAG_FIELDS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("django", "rails", "laravel"), ("framework", "orm")),
    **dict.fromkeys(("fastapi", "flask", "spring", "nestjs", "express"), ("framework",)),
    **dict.fromkeys(("sqlalchemy", "hibernate", "prisma", "typeorm", "sequelize", "knex", "gorm", "sqlc", "efcore"), ("orm",)),
    **dict.fromkeys(("psycopg", "asyncpg", "node-postgres", "pgx", "jdbc", "database-sql"), ("driver",)),
    **dict.fromkeys(("celery", "sidekiq", "bullmq"), ("job_queue",)),
}
SQL_DIALECTS = {"PostgreSQL": "postgres", "MySQL": "mysql", "MariaDB": "mysql", "SQLite": "sqlite"}


def _tags(block: CodeBlock) -> list[str]:
    return [t.lower() for t in block.info.split()[1:]]


def is_generic(block: CodeBlock) -> bool:
    return block.language in GENERIC


def fit(block: CodeBlock, case: Case) -> float:
    """How well a block fits the team's stack: < 0 excluded, higher is better."""
    facts = case.facts
    if block.language == "sql":
        dialect = (_tags(block) or ["postgres"])[0]
        wanted = SQL_DIALECTS.get(facts.get("database", ""))
        return 1.5 if wanted == dialect else (1.0 if wanted is None else 0.5)
    if is_generic(block):
        return 1.0
    language = facts.get("language")
    if language and block.language not in LANGUAGES.get(language, {block.language}):
        return -1.0
    team_values = {facts.get(name) for name in ("framework", "orm", "driver", "job_queue", "broker") if facts.get(name)}
    score = 1.0 if language else 0.5
    for tag in _tags(block):
        if TAG_VALUES.get(tag, set()) & team_values:
            score += 2.0
            continue
        for name in TAG_FIELDS.get(tag, ()):
            said = facts.get(name, "")
            if said.startswith("no "):  # "we don't use Celery": only that choice is ruled out
                if said[3:] in TAG_VALUES.get(tag, set()):
                    return -1.0
                continue
            if said and said not in TAG_VALUES.get(tag, set()):
                # the team chose something else in this category (another framework, ORM, driver, queue)
                if not any(TAG_VALUES.get(t, set()) & team_values for t in _tags(block)):
                    return -1.0
        score -= 0.25  # tagged for a stack the team has not named
    return score


def stack_known(case: Case) -> bool:
    return bool(case.facts.get("language"))


def pick_blocks(blocks: list[CodeBlock], case: Case, limit: int = 1) -> list[CodeBlock]:
    """The blocks to show from one section: the best-fitting ones, never one from another stack.

    With the stack known, one program-language block and one SQL block may both be shown (they are the same fix in
    the two layers); with the stack unknown, only the first best block.
    """
    scored = [(fit(b, case), -i, b) for i, b in enumerate(blocks)]
    usable = sorted((s for s in scored if s[0] >= 0), key=lambda s: (s[0], s[1]), reverse=True)
    if not usable:
        return []
    if not stack_known(case):
        return [usable[0][2]]
    chosen: list[CodeBlock] = []
    for _, _, block in usable:
        if len(chosen) >= limit + 1:
            break
        kinds = {"sql" if b.language == "sql" else "code" for b in chosen}
        kind = "sql" if block.language == "sql" else "code"
        if kind not in kinds:
            chosen.append(block)
    chosen.sort(key=blocks.index)
    return chosen[: limit + 1]


# A heading or bullet that starts with a stack's name ("SQLAlchemy: ...", "Rails: ...") is about that stack.
_LEADING_STACK = re.compile(r"^\W*(django|sqlalchemy|alembic|fastapi|flask|celery|rails|active ?record|sidekiq|spring(?: data)?|"
                            r"hibernate|jpa|nestjs|nest|express|node(?:\.js)?|prisma|typeorm|sequelize|knex|go|gorm|pgx|sqlc|"
                            r"laravel|eloquent|ef core|entity framework|\.net|java|python|ruby|php|typescript|javascript)\b", re.I)
_STACK_OF = {
    "django": "django", "sqlalchemy": "sqlalchemy", "alembic": "sqlalchemy", "fastapi": "fastapi", "flask": "flask",
    "celery": "celery", "rails": "rails", "activerecord": "rails", "active record": "rails", "sidekiq": "sidekiq",
    "spring": "spring", "spring data": "spring", "hibernate": "hibernate", "jpa": "hibernate", "nestjs": "nestjs",
    "nest": "nestjs", "express": "express", "prisma": "prisma", "typeorm": "typeorm", "sequelize": "sequelize",
    "knex": "knex", "gorm": "gorm", "pgx": "pgx", "sqlc": "sqlc", "laravel": "laravel", "eloquent": "laravel",
    "ef core": "efcore", "entity framework": "efcore",
}
_LANGUAGE_OF = {"node": "javascript", "node.js": "javascript", "go": "go", ".net": "csharp", "java": "java",
                "python": "python", "ruby": "ruby", "php": "php", "typescript": "typescript", "javascript": "javascript"}


def about_other_stack(text: str, case: Case) -> bool:
    """Whether a heading or bullet is about a stack other than the team's ("Rails: ..." for a Django team)."""
    match = _LEADING_STACK.match(text or "")
    if not match or not stack_known(case):
        return False
    word = match.group(1).lower()
    if word in _LANGUAGE_OF:
        language = _LANGUAGE_OF[word]
        return language not in LANGUAGES.get(case.facts["language"], {language})
    tag = _STACK_OF.get(word)
    if tag is None:
        return False
    probe = CodeBlock(f"{_TAG_LANGUAGE.get(tag, 'text')} {tag}", "", "")
    return fit(probe, case) < 0


_TAG_LANGUAGE = {
    **dict.fromkeys(("django", "sqlalchemy", "fastapi", "flask", "celery", "psycopg", "asyncpg"), "python"),
    **dict.fromkeys(("rails", "sidekiq"), "ruby"), **dict.fromkeys(("spring", "hibernate", "jdbc"), "java"),
    **dict.fromkeys(("nestjs", "express", "prisma", "typeorm", "sequelize", "knex", "node-postgres", "bullmq"), "typescript"),
    **dict.fromkeys(("gorm", "pgx", "sqlc", "database-sql"), "go"), "laravel": "php", "efcore": "csharp",
}

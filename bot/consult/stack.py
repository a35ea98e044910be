"""The user's stack, as hints for picking code examples that look like their code."""

from __future__ import annotations

LANGUAGE_FENCES = {
    "Python": {"python", "py"}, "Ruby": {"ruby", "rb"}, "Java": {"java"}, "Kotlin": {"kotlin", "kt", "java"},
    "TypeScript": {"typescript", "ts", "javascript", "js"}, "JavaScript": {"javascript", "js", "typescript", "ts"},
    "Go": {"go", "golang"}, "PHP": {"php"}, "C#": {"csharp", "cs", "c#"}, "Elixir": {"elixir", "ex"},
    "Rust": {"rust", "rs"}, "Scala": {"scala"},
}


def preferred_fences(facts: dict[str, str]) -> set[str]:
    return LANGUAGE_FENCES.get(facts.get("language", ""), set())


def stack_keywords(facts: dict[str, str]) -> set[str]:
    words = set()
    for name in ("framework", "orm"):
        if value := facts.get(name):
            words |= {w.lower() for w in value.replace("/", " ").split() if len(w) > 2 and w.lower() != "orm"}
    return words


def sql_dialect(facts: dict[str, str]) -> str | None:
    database = facts.get("database", "")
    return {"MySQL": "mysql", "MariaDB": "mysql", "SQLite": "sqlite", "PostgreSQL": "postgres"}.get(database)

"""The team's own nouns: the tables, endpoints and resources they talk about, so answers use their words."""

from __future__ import annotations

import re

_ENDPOINT = re.compile(r"(?<![\w:/.])(/(?:api/)?[a-z][a-z0-9_-]*(?:/[a-z0-9_{}:<>.-]+)*)", re.I)
_SQL_TABLE = re.compile(r"\b(?:from|join|update|into|table(?: if (?:not )?exists)?)\s+[\"`]?(?:\w+\.)?([a-z_][a-z0-9_]*)", re.I)
_TICKED = re.compile(r"`([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)?)`")
_SNAKE = re.compile(r"\b([a-z]+(?:_[a-z]+)+)\b")
_BEFORE = re.compile(
    r"\b(?:the|our|my|their|its|your|own|an?|this|that|each|every|per)\s+((?:[a-z][a-z0-9_-]*\s+)?[a-z][a-z0-9_-]*?)\s+"
    r"(?:endpoint|table|model|service|list|page|api|queue|topic|job|worker|resolver|serializer|view|screen|collection"
    r"|index|consumer|webhook|microservice|query|report|export|import|entity|record|row|document)s?\b", re.I)
_AFTER = re.compile(r"\b(?:table|model|entity|collection|topic|queue)\s+[\"`']?([a-z]\w*(?:_\w+)+|[A-Z][a-z]\w+)")
_RAILS = re.compile(r"\b(?:add_column|add_index|remove_column|rename_column|change_column\w*|create_table|add_reference)\s+:(\w+)")
_STACK_WORDS = {"go", "golang", "python", "node", "java", "kotlin", "ruby", "php", "rails", "django", "spring", "nest",
                "kafka", "redis", "postgres", "mysql", "mongo", "celery", "sidekiq", "graphql", "rest", "grpc"}
_ADDED = re.compile(r"\badded\s+(?:the\s+|their\s+|its\s+)?([a-z][a-z -]{2,30}?)\s+(?:to|in|into)\s+(?:the|each|every|our)\b", re.I)
_CLASS = re.compile(r"\b(?:class|model|interface|struct|type)\s+([A-Z][A-Za-z0-9]+)")
# Event and type names teams write in CamelCase (OrderPlaced, ReservationCreated), and quoted identifiers in code.
_CAMEL = re.compile(r"\b([A-Z][a-z]+(?:[A-Z][a-z]+)+)\b(?<!Error)(?<!Exception)(?<!Pool)(?<!Timeout)(?<!Warning)(?<!Failure)")
_QUOTED = re.compile(r"['\"]([a-z][a-z0-9]*(?:_[a-z0-9]+)+)['\"]")
_GENERIC = set("""
a an the our this that api app apps service services data database db query queries table tables endpoint endpoints
model models list page main new old same whole slow fast big small simple current public admin default other
background list detail response request requests user's web mobile backend frontend internal external main core
read write primary second first last next all some any each every one two is are be of to in on for with
health healthz readyz metrics login logout auth static docs v1 v2 v3 json select insert update delete where set
and or but with from into which where when then also just only its got get gets slow slower own
""".split())


# Settings, ORM calls and column-like names are not the team's resources.
_TECHNICAL = re.compile(r"related|connection|pool|size|timeout|_mem|level|statement|duration|count|isolation|^max_|^min_"
                        r"|_ms$|^log_|^pg_|^auto|^idle|^lock_|^search_|_query$|^on_|^if_|^add_|^remove_|^create_|^change_"
                        r"|^rename_|^drop_|^alter_|_pkey$|_fkey$|_idx$|_key$|^get_|^set_|^is_", re.I)


def _clean(word: str) -> str | None:
    word = word.strip().strip("`\"'").strip()
    parts = word.split()
    while len(parts) > 1 and parts[0].lower() in _STACK_WORDS | _GENERIC:
        parts.pop(0)
    word = " ".join(parts)
    if not word or len(word) < 3 or word.lower() in _GENERIC or word.isdigit():
        return None
    if "_" in word and _TECHNICAL.search(word):
        return None
    if all(part.lower() in _GENERIC for part in re.split(r"[\s_-]+", word)):
        return None
    return word


def team_nouns(text: str, limit: int = 12) -> list[str]:
    """Endpoints, table and resource names in a message, most specific first, without duplicates."""
    found: list[str] = []

    def add(word: str | None) -> None:
        word = _clean(word or "")
        if word and word.lower() not in {f.lower() for f in found}:
            found.append(word)

    for m in _ENDPOINT.finditer(text):
        path = m.group(1).rstrip(".,)")
        if not path.startswith(("/etc/", "/var/", "/usr/", "/tmp/", "/home/", "/opt/")) and re.search(r"[a-z]{3}", path):
            add(path)
            add(path.rstrip("/").rsplit("/", 1)[-1])
    for pattern in (_RAILS, _TICKED, _QUOTED, _SQL_TABLE, _SNAKE, _BEFORE, _AFTER, _ADDED, _CLASS, _CAMEL):
        for m in pattern.finditer(text):
            add(m.group(1))
    return found[:limit]

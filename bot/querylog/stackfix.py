"""Fixes written in the team's stack, as far as the log tells it: Django, SQLAlchemy and Rails logs name their ORM;
a server log or plain SQL does not, so the fix shows the SQL and the usual ORM spellings side by side."""

from __future__ import annotations


def _singular(name: str) -> str:
    if name.endswith("ies"):
        return name[:-3] + "y"
    return name[:-1] if name.endswith("s") and not name.endswith("ss") else name


def _model(table: str | None) -> str:
    if not table:
        return "Parent"
    return "".join(part.capitalize() for part in _singular(table.split(".")[-1]).split("_"))


def n_plus_one_fix(fmt: str, table: str | None, column: str | None, parent_table: str | None) -> str:
    """`table` is what the loop queries, `column` its WHERE column, `parent_table` what the parent query read."""
    child = table or "child"
    by_key = bool(column and column != "id")  # children by their foreign key (a to-many), else one row by id
    parent = _model(parent_table)
    reverse = child if by_key else _singular(child)
    if fmt == "django":
        if by_key:
            return (f'{parent}.objects.filter(...).prefetch_related("{reverse}")\n'
                    f"# one extra query for all the {child} (`{column} IN (...)`); use the relation's related_name "
                    f"(default `{_singular(child)}_set`)")
        return f'{parent}.objects.filter(...).select_related("{reverse}")\n# one JOIN instead of a query per row'
    if fmt == "sqlalchemy":
        if by_key:
            return (f"select({parent}).options(selectinload({parent}.{reverse}))\n"
                    f"# one extra SELECT ... WHERE {child}.{column} IN (...) for all the rows")
        return f"select({parent}).options(joinedload({parent}.{reverse}))\n# one JOIN instead of a query per row"
    if fmt == "rails":
        if by_key:
            return f"{parent}.where(...).includes(:{reverse})  # or .preload(:{reverse}): one query for all the {child}"
        return f"{parent}.where(...).includes(:{reverse})  # belongs_to: preload or eager_load the association"
    key = column or "id"
    return (f"-- one query for all the parent rows instead of one per row:\n"
            f"SELECT * FROM {child} WHERE {key} = ANY($1);  -- $1: the array of {key} values\n"
            "-- in the ORM: Django prefetch_related/select_related, SQLAlchemy selectinload/joinedload, Rails "
            "includes/preload, JPA JOIN FETCH/@EntityGraph or batch fetching, GraphQL DataLoader")


def repeated_fix(fmt: str) -> str:
    if fmt == "django":
        return "# run it once and keep the result for the request (a variable, cached_property, or the cache framework)"
    if fmt == "sqlalchemy":
        return "# run it once per request and pass the result along, or keep it in the Session (session.get by key)"
    if fmt == "rails":
        return "# memoize it (@x ||= ...) or Rails.cache.fetch; ActiveRecord's query cache only covers identical SQL"
    return "-- run it once and reuse the result within the request; cache it if it is read across requests"

"""Numbers derived from the team's own figures, shown in the diagnosis when the case allows.

- the connection budget: pods x processes x pool size against max_connections;
- the rows an OFFSET reads and throws away at page N;
- the requests queued behind a migration waiting on a long transaction;
- how many queries per row an N+1 runs.
"""

from __future__ import annotations

import re

from bot.consult.case import Case


def _n(value: float) -> str:
    return f"{int(value):,}" if value == int(value) else f"{value:,.1f}"


def connection_budget(case: Case) -> str | None:
    pods, pool = case.number("pods"), case.number("pool_size")
    if pods is None or pool is None:
        return None
    workers = case.number("workers")
    per_pod = f" × {_n(workers)} processes" if workers else ""
    total = pods * (workers or 1) * pool
    hpa = " (at the autoscaler's maximum)" if "hpa" in case.facts.get("pods", "").lower() else ""
    line = (f"**Connection budget:** {_n(pods)} pods{hpa}{per_pod} × pool {_n(pool)} = **{_n(total)}** "
            "connections at peak")
    if not workers:
        line += " (one process per pod assumed)"
    limit = case.number("max_connections")
    if limit:
        usable = max(limit - 3, 1)  # superuser_reserved_connections defaults to 3
        verdict = (f"{total / usable:.1f}× what the server accepts" if total > usable
                   else f"{total / usable:.0%} of what the server accepts")
        line += f", against max_connections = {_n(limit)} ({_n(usable)} usable): {verdict}."
    else:
        line += "; compare it with `SHOW max_connections;` (minus the 3 reserved for superusers)."
    return line


def offset_cost(case: Case) -> str | None:
    said = case.facts.get("page_number", "")
    depth, size = case.number("page_number"), case.number("page_size")
    if depth is None:
        return None
    if "offset" in said.lower():
        skipped = depth
    elif size:
        skipped = (depth - 1) * size
    else:
        return (f"**OFFSET cost:** page {_n(depth)} makes the database read and discard every row of the "
                f"{_n(depth - 1)} pages before it; the cost grows linearly with the page number.")
    per_page = f", to return {_n(size)}" if size else ""
    return f"**OFFSET cost:** {said} makes the database read and throw away **{_n(skipped)}** rows{per_page}."


def lock_queue(case: Case) -> str | None:
    if "migration-lock-outage" not in case.symptoms:
        return None
    duration, rps = case.facts.get("duration"), case.number("rps")
    table = next((n for n in case.nouns if not n.startswith("/")), "the table")
    line = (f"**Lock queue:** the `ALTER` on `{table}` needs an ACCESS EXCLUSIVE lock, waits behind "
            f"{'the ' + duration if duration else 'any long transaction'} that has touched it, and every query "
            "arriving after it queues behind the ALTER")
    if rps:
        line += f": at {_n(rps)} requests/s, about **{_n(rps * 30)}** requests pile up for every 30 s of waiting"
    return line + ". `SET lock_timeout = '5s'` makes the ALTER give up (and retry) instead of freezing the site."


def _relations_added(case: Case) -> int:
    """How many relations the change added ("added each project's members and owner to the DTO" -> 2)."""
    change = case.facts.get("change", "")
    match = re.match(r"(?:added|included|nested)\s+(.+?)\s+(?:to|in|into)\s+(?:the|each|every|our)\b", change)
    if not match:
        return 0
    return len([p for p in re.split(r",\s*|\s+and\s+", match.group(1)) if p.strip()])


def queries_per_row(case: Case) -> str | None:
    queries, rows = case.number("query_count"), case.number("page_size")
    if queries is None and rows and "slow-after-adding-related-data" in case.symptoms and (added := _relations_added(case)):
        total = 1 + rows * added
        return (f"**Query count:** {_n(rows)} rows × {added} lazily loaded relation{'s' if added > 1 else ''} "
                f"+ 1 = **{_n(total)}** queries per request, where {added + 1} would do with bulk loading.")
    if queries is None or not rows or queries < rows:
        return None
    per_row = (queries - 1) / rows
    lazy = round(per_row)
    return (f"**Query count:** {_n(queries)} queries for {_n(rows)} rows is about **{_n(lazy)}** per row: "
            f"{'one relation' if lazy == 1 else f'{lazy} relations'} loaded lazily for each row (N+1), where a "
            f"bulk load would need {lazy + 1} queries in all.")


DERIVATIONS = (connection_budget, offset_cost, lock_queue, queries_per_row)


def derived_numbers(case: Case) -> list[str]:
    return [line for derive in DERIVATIONS if (line := derive(case))]

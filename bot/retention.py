"""Retention: everything stored is deleted once it is older than CONSULTANT_RETENTION_DAYS (default 90).

`consultant serve` runs the purge at startup and then every PURGE_INTERVAL seconds; `consultant db purge` runs
it by hand. Purging is idempotent and safe to run from several replicas at once (plain deletes by age).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta, timezone

from bot.store.port import Store, StoreError

log = logging.getLogger("bot.retention")

PURGE_INTERVAL = 6 * 3600.0


def cutoff(days: float, now: datetime | None = None) -> datetime:
    return (now or datetime.now(timezone.utc)) - timedelta(days=days)


async def purge_older_than(store: Store, days: float, now: datetime | None = None) -> dict[str, int]:
    began = time.perf_counter()
    deleted = await store.purge(cutoff(days, now))
    log.info("retention purge", extra={"older_than_days": days, "deleted": deleted,
                                       "ms": round((time.perf_counter() - began) * 1000, 1)})
    return deleted


async def purge_periodically(store: Store, days: float, interval: float = PURGE_INTERVAL) -> None:
    """Run until cancelled; a failed purge (database down) is logged and retried at the next interval."""
    while True:
        try:
            await purge_older_than(store, days)
        except StoreError as exc:
            log.warning("retention purge failed; retrying later", extra={"error": str(exc)[:200]})
        except Exception:  # noqa: BLE001 - the purge must keep running for the life of the server
            log.exception("retention purge failed unexpectedly; retrying later")
        await asyncio.sleep(interval)

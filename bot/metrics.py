"""Prometheus metrics for operators: turns, phase latencies, LLM trouble, budget refusals, dedupe drops, backlog.

Labels are closed sets (platform, mode, outcome, phase, budget): never a message, user, tenant or thread, so
`/metrics` cannot expose conversation content. The metrics live in their own registry, served by the server's
`GET /metrics` (turned off with CONSULTANT_METRICS=0).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import CONTENT_TYPE_LATEST  # noqa: F401 - re-exported for the server

log = logging.getLogger("bot.metrics")

REGISTRY = CollectorRegistry(auto_describe=True)

TURNS = Counter("consultant_turns", "Turns handled, by platform, answer mode and outcome "
                "(answered, fallback, budget_refused, rejected, forgotten).",
                ["platform", "mode", "outcome"], registry=REGISTRY)
TURN_SECONDS = Histogram("consultant_turn_seconds", "Turn latency in seconds, whole turn and per phase.",
                         ["phase"], registry=REGISTRY,
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120))
LLM_ERRORS = Counter("consultant_llm_errors", "LLM calls that failed after their retries.", registry=REGISTRY)
LLM_RETRIES = Counter("consultant_llm_retries", "LLM request retries (429, 5xx, timeouts, connection errors).",
                      registry=REGISTRY)
LLM_FALLBACKS = Counter("consultant_llm_fallbacks", "Answers composed offline because the LLM failed.",
                        registry=REGISTRY)
LLM_TOKENS = Counter("consultant_llm_tokens", "LLM tokens the API reported as used.", registry=REGISTRY)
BUDGET_REFUSALS = Counter("consultant_budget_refusals", "Turns answered offline because a budget was exhausted.",
                          ["budget"], registry=REGISTRY)
DEDUPE_DROPS = Counter("consultant_dedupe_drops", "Duplicate or retried platform deliveries dropped.",
                       ["platform"], registry=REGISTRY)
INBOX_DEPTH = Gauge("consultant_inbox_depth", "Turns waiting in the durable inbox.", registry=REGISTRY)
INBOX_OLDEST = Gauge("consultant_inbox_oldest_pending_seconds", "Age of the oldest pending inbox turn.",
                     registry=REGISTRY)

PHASES = ("retrieval", "llm", "storage")
BacklogProvider = Callable[[], Awaitable[tuple[int, float]]]
_backlog_provider: BacklogProvider | None = None


def turn_finished(platform: str, mode: str, outcome: str, phases: dict[str, float] | None = None,
                  started: float | None = None) -> None:
    """Count one turn; `phases` are seconds per phase, `started` a time.perf_counter() value."""
    TURNS.labels(platform, mode, outcome).inc()
    for phase, seconds in (phases or {}).items():
        if phase in PHASES:
            TURN_SECONDS.labels(phase).observe(seconds)
    if started is not None:
        TURN_SECONDS.labels("total").observe(time.perf_counter() - started)


def llm_failed(*, fell_back: bool = True) -> None:
    LLM_ERRORS.inc()
    if fell_back:
        LLM_FALLBACKS.inc()


def llm_retried() -> None:
    LLM_RETRIES.inc()


def llm_tokens(tokens: int) -> None:
    if tokens > 0:
        LLM_TOKENS.inc(tokens)


def budget_refused(budget: str) -> None:
    BUDGET_REFUSALS.labels(budget).inc()


def dedupe_dropped(platform: str) -> None:
    DEDUPE_DROPS.labels(platform).inc()


def set_backlog_provider(provider: BacklogProvider | None) -> None:
    """Feed the inbox gauges: an async callable returning (pending turns, age in seconds of the oldest)."""
    global _backlog_provider
    _backlog_provider = provider


async def render() -> bytes:
    """The exposition text, with the backlog gauges refreshed first (a failing provider leaves them as they were)."""
    if _backlog_provider is not None:
        try:
            depth, oldest = await _backlog_provider()
        except Exception as exc:  # noqa: BLE001 - a scrape must not fail because the inbox query did
            log.warning("backlog metrics unavailable", extra={"error": type(exc).__name__})
        else:
            INBOX_DEPTH.set(depth)
            INBOX_OLDEST.set(oldest)
    return generate_latest(REGISTRY)

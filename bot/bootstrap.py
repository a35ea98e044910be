"""The one place where the core is wired: settings -> store, retriever, LLM, analyzers -> engine."""

from __future__ import annotations

import logging
import os
import secrets
import socket
from dataclasses import dataclass, field

from bot.analyzers import AnalyzerRegistry
from bot.budgets import BudgetLimits, Budgets
from bot.config import Settings
from bot.consult.engine import Engine, EngineSettings
from bot.consult.history import TokenCounter
from bot.knowledge.port import Retriever
from bot.llm.port import LLM
from bot.store.port import Store

log = logging.getLogger(__name__)


def new_instance_id() -> str:
    """Who owns a leased turn: readable in the database (host and pid), unique across restarts."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass
class App:
    settings: Settings
    store: Store
    engine: Engine
    instance_id: str = field(default_factory=new_instance_id)

    async def close(self) -> None:
        if self.engine.llm is not None:
            await self.engine.llm.close()
        await self.store.close()


def build_llm(settings: Settings) -> LLM | None:
    if not settings.llm_enabled:
        return None
    from bot.llm.openai_llm import OpenAIChat, build_client

    return OpenAIChat(build_client(settings), settings.openai_model, settings.llm_deadline)


def build_retriever(settings: Settings) -> Retriever:
    from bot.knowledge.index import FTS5Retriever

    return FTS5Retriever.from_settings(settings)


def build_analyzers() -> AnalyzerRegistry:
    """Plans first, then query logs, then DDL: each detector is strict about its own shape (a plan node line or a
    {"Plan"} object; log prefixes or ORM logger lines, never DDL alone), and a server log can quote a CREATE TABLE,
    which the review must not take for a migration."""
    from bot.plans import PlanAnalyzer
    from bot.querylog import QueryLogAnalyzer

    registry = AnalyzerRegistry([PlanAnalyzer(), QueryLogAnalyzer()])
    try:
        from bot.review.analyzer import SchemaReviewAnalyzer
    except ImportError:  # the review capability is optional until it is installed
        log.info("schema review not available")
    else:
        registry.register(SchemaReviewAnalyzer())
    return registry


async def open_store(settings: Settings, *, migrate: bool | None = None, serving: bool = False) -> Store:
    """The configured store. `serve` handles many turns at once: SQLAlchemy's store (pooled PostgreSQL, or SQLite
    with claim batching and ack priority; with the console's store, bench.ack's p99 rose from 49 to 183 ms). The
    console handles one at a time, so on SQLite it opens the file with the standard library's sqlite3 and never
    imports SQLAlchemy (about 0.2 s of every one-shot `ask`).

    migrate=True migrates any database first; the default migrates only the embedded SQLite one. Either way the
    migration runs under a lock, so concurrent starts never fail."""
    # The embedded default migrates itself; a shared PostgreSQL is migrated by `consultant db upgrade`.
    migrate = migrate if migrate is not None else settings.uses_embedded_database
    if settings.uses_embedded_database and not serving:
        from bot.store.sqlite import SqliteStore

        return await SqliteStore.open(settings.database_url, migrate=migrate)
    from bot.store.migrate import upgrade
    from bot.store.sql import SqlStore

    sql_store = SqlStore.from_url(settings.database_url)
    if migrate:
        await upgrade(sql_store.engine)
    return sql_store


async def build_app(settings: Settings | None = None, *, store: Store | None = None, llm: LLM | None = None,
                    retriever: Retriever | None = None, migrate: bool | None = None, serving: bool = False) -> App:
    """Build the app; explicit arguments replace the configured parts (tests pass fakes this way). `migrate` and
    `serving` choose how the store opens (see `open_store`)."""
    settings = settings or Settings.from_env()
    if store is None:
        store = await open_store(settings, migrate=migrate, serving=serving)
    engine = Engine(
        store=store,
        retriever=retriever or build_retriever(settings),
        llm=llm if llm is not None else build_llm(settings),
        analyzers=build_analyzers(),
        settings=EngineSettings(max_input_chars=settings.max_input_chars,
                                max_review_bytes=settings.max_review_bytes,
                                history_token_budget=settings.history_token_budget,
                                prompt_token_budget=settings.prompt_token_budget),
        token_counter=TokenCounter(settings.openai_model),
        budgets=Budgets(store, BudgetLimits(settings.user_turns_per_hour, settings.tenant_turns_per_hour,
                                            settings.tenant_tokens_per_day)),
    )
    return App(settings=settings, store=store, engine=engine)

"""Table definitions. The schema itself is owned by the Alembic migrations next to this file."""

from __future__ import annotations

from sqlalchemy import (JSON, BigInteger, Column, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, Text,
                        UniqueConstraint)

metadata = MetaData()

threads = Table(
    "threads",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("tenant", String(128), nullable=False),
    Column("channel", String(256), nullable=False),
    Column("thread", String(512), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Looked up on every turn by its natural key.
    UniqueConstraint("platform", "tenant", "channel", "thread", name="uq_threads_key"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("thread_id", String(32), ForeignKey("threads.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("meta", JSON, nullable=False, default=dict),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # A thread's turns are always read in order.
    Index("ix_messages_thread_created", "thread_id", "created_at"),
    Index("ix_messages_created", "created_at"),
)

case_facts = Table(
    "case_facts",
    metadata,
    Column("thread_id", String(32), ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_case_facts_updated", "updated_at"),
)

processed_events = Table(
    "processed_events",
    metadata,
    # The idempotency key: a duplicate delivery fails this primary key, whichever replica receives it.
    Column("key", String(255), primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The inbox (a durable turn): received -> working (owner, lease_until) -> answered | failed. NULL state is a
    # plain dedupe claim.
    Column("state", String(16)),
    Column("payload", JSON),
    Column("owner", String(128)),
    Column("lease_until", DateTime(timezone=True)),
    Column("attempts", Integer),
    Column("result", JSON),
    Column("updated_at", DateTime(timezone=True)),
    Index("ix_processed_events_created", "created_at"),
    Index("ix_processed_events_pending", "state", "lease_until"),
)

feedback = Table(
    "feedback",
    metadata,
    Column("answer_id", String(32), ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
    Column("user", String(128), primary_key=True),
    Column("value", String(16), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_feedback_created", "created_at"),
)

usage_counters = Table(
    "usage_counters",
    metadata,
    # One row per budget scope ("user-hour", "tenant-hour", "tenant-day"), subject and window, incremented
    # atomically, so every replica counts against the same numbers.
    Column("scope", String(32), primary_key=True),
    Column("subject", String(400), primary_key=True),
    Column("window_start", DateTime(timezone=True), primary_key=True),
    Column("turns", Integer, nullable=False, server_default="0"),
    Column("tokens", BigInteger, nullable=False, server_default="0"),
    Index("ix_usage_counters_window", "window_start"),
)

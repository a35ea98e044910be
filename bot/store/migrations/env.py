"""Alembic environment. Migrations always run on a connection handed in by bot.store.migrate."""

from __future__ import annotations

from alembic import context

from bot.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - we never run alembic's own CLI against this package
    raise RuntimeError("run migrations through `consultant db upgrade`")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()

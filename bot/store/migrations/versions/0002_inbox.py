"""The inbox: a claimed event also records its payload, state and lease, so a crash never loses its answer.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # All nullable: rows claimed before this revision (and plain dedupe claims) are not durable turns.
    op.add_column("processed_events", sa.Column("state", sa.String(16), nullable=True))
    op.add_column("processed_events", sa.Column("payload", sa.JSON, nullable=True))
    op.add_column("processed_events", sa.Column("owner", sa.String(128), nullable=True))
    op.add_column("processed_events", sa.Column("lease_until", TS, nullable=True))
    op.add_column("processed_events", sa.Column("attempts", sa.Integer, nullable=True))
    op.add_column("processed_events", sa.Column("result", sa.JSON, nullable=True))
    op.add_column("processed_events", sa.Column("updated_at", TS, nullable=True))
    # Every replica polls for unfinished turns whose lease ran out.
    op.create_index("ix_processed_events_pending", "processed_events", ["state", "lease_until"])


def downgrade() -> None:
    op.drop_index("ix_processed_events_pending", table_name="processed_events")
    with op.batch_alter_table("processed_events") as batch:
        for name in ("updated_at", "result", "attempts", "lease_until", "owner", "payload", "state"):
            batch.drop_column(name)

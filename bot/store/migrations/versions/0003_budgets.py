"""Budget usage counters shared by every replica; indexes for the retention purge.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "usage_counters",
        sa.Column("scope", sa.String(32), primary_key=True),
        sa.Column("subject", sa.String(400), primary_key=True),
        sa.Column("window_start", TS, primary_key=True),
        sa.Column("turns", sa.Integer, nullable=False, server_default="0"),
        sa.Column("tokens", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_index("ix_usage_counters_window", "usage_counters", ["window_start"])
    # The purge finds old rows by time; messages are already indexed by (thread_id, created_at).
    op.create_index("ix_messages_created", "messages", ["created_at"])
    op.create_index("ix_case_facts_updated", "case_facts", ["updated_at"])
    op.create_index("ix_feedback_created", "feedback", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_feedback_created", table_name="feedback")
    op.drop_index("ix_case_facts_updated", table_name="case_facts")
    op.drop_index("ix_messages_created", table_name="messages")
    op.drop_index("ix_usage_counters_window", table_name="usage_counters")
    op.drop_table("usage_counters")

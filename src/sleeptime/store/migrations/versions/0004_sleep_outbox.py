"""the sleep outbox: an edit and its sleep job in one transaction

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

A context's new version writes a ``sleep_outbox`` row in the transaction that
makes the version; the scheduler turns rows into jobs (``JobStore.relay``). This
replaces the startup scan for contexts without a job: the contexts that scan
would have queued get their outbox row here, once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "sleep_outbox",
        sa.Column("context_id", sa.String(32), nullable=False),
        sa.Column("tenant", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("reason IN ('created', 'changed')", name="ck_sleep_outbox_reason"),
        sa.ForeignKeyConstraint(
            ["context_id"],
            ["contexts.id"],
            name="fk_sleep_outbox_context_id_contexts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("context_id", name="pk_sleep_outbox"),
    )
    op.create_index("ix_sleep_outbox_created_at", "sleep_outbox", ["created_at"])
    # What the old startup scan queued: current versions with neither a learned context nor a job.
    op.execute(
        """
        INSERT INTO sleep_outbox (context_id, tenant, version, reason, created_at, updated_at)
        SELECT c.id, c.tenant, c.current_version,
               CASE WHEN c.current_version = 1 THEN 'created' ELSE 'changed' END,
               c.updated_at, c.updated_at
        FROM contexts c
        WHERE NOT EXISTS (SELECT 1 FROM sleep_jobs j
                          WHERE j.context_id = c.id
                            AND (j.version = c.current_version OR j.status IN ('queued', 'running')))
          AND NOT EXISTS (SELECT 1 FROM learned_contexts lc
                          WHERE lc.context_id = c.id AND lc.context_version = c.current_version)
        """
    )


def downgrade() -> None:
    op.drop_index("ix_sleep_outbox_created_at", table_name="sleep_outbox")
    op.drop_table("sleep_outbox")

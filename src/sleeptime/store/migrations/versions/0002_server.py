"""the server: API keys (hashed) and the durable sleep-job queue

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-24

Written out in full, like 0001: a frozen record of one step.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("tenant", sa.String(200), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_index("ix_api_keys_tenant", "api_keys", ["tenant"])

    op.create_table(
        "sleep_jobs",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("context_id", sa.String(32), nullable=False),
        sa.Column("tenant", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("budget", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("learned_context_id", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sleep_jobs"),
        sa.ForeignKeyConstraint(
            ["context_id"], ["contexts.id"], name="fk_sleep_jobs_context_id_contexts", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sleep_runs.id"], name="fk_sleep_jobs_run_id_sleep_runs", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["learned_context_id"],
            ["learned_contexts.id"],
            name="fk_sleep_jobs_learned_context_id_learned_contexts",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed', 'cancelled')", name="ck_sleep_jobs_status"
        ),
    )
    op.create_index("ix_sleep_jobs_status_due_at", "sleep_jobs", ["status", "due_at"])
    op.create_index("ix_sleep_jobs_context_created_at", "sleep_jobs", ["context_id", "created_at"])


def downgrade() -> None:
    op.drop_table("sleep_jobs")
    op.drop_table("api_keys")

"""initial schema: contexts with versions, learned contexts, sleep runs, queries

Revision ID: 0001
Revises:
Create Date: 2025-11-23

Written out in full (no imports from sleeptime.store.schema): a revision is a
frozen record of one step, and schema.py will move on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _usage_columns() -> list[sa.Column[int]]:
    return [
        sa.Column(name, sa.Integer(), nullable=False)
        for name in ("prompt_tokens", "completion_tokens", "reasoning_tokens", "calls")
    ]


def _version_fk(name: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["context_id", "context_version"],
        ["context_versions.context_id", "context_versions.version"],
        name=name,
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "contexts",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("tenant", sa.String(200), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contexts"),
    )
    op.create_index("ix_contexts_tenant_created_at", "contexts", ["tenant", "created_at"])
    op.create_index("ix_contexts_created_at", "contexts", ["created_at"])

    op.create_table(
        "context_versions",
        sa.Column("context_id", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("context_id", "version", name="pk_context_versions"),
        sa.ForeignKeyConstraint(
            ["context_id"],
            ["contexts.id"],
            name="fk_context_versions_context_id_contexts",
            ondelete="CASCADE",
        ),
    )

    op.create_table(
        "learned_contexts",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("context_id", sa.String(32), nullable=False),
        sa.Column("context_version", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        *_usage_columns(),
        sa.Column("duration_s", sa.Double(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("strategy", sa.Text(), nullable=False),
        sa.Column("budget", sa.JSON(), nullable=False),
        sa.Column("rounds_used", sa.JSON(), nullable=False),
        sa.Column("based_on", sa.String(32), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_learned_contexts"),
        _version_fk("fk_learned_contexts_context_version"),
        sa.ForeignKeyConstraint(
            ["based_on"],
            ["learned_contexts.id"],
            name="fk_learned_contexts_based_on_learned_contexts",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("context_id", "context_version", "key", name="uq_learned_contexts_key"),
    )
    op.create_index(
        "ix_learned_contexts_context_created_at", "learned_contexts", ["context_id", "created_at"]
    )

    op.create_table(
        "sleep_runs",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("context_id", sa.String(32), nullable=False),
        sa.Column("context_version", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("strategy", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("budget", sa.JSON(), nullable=False),
        *_usage_columns(),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("learned_context_id", sa.String(32), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sleep_runs"),
        _version_fk("fk_sleep_runs_context_version"),
        sa.ForeignKeyConstraint(
            ["learned_context_id"],
            ["learned_contexts.id"],
            name="fk_sleep_runs_learned_context_id_learned_contexts",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            "status IN ('running', 'done', 'failed', 'interrupted', 'cancelled')",
            name="ck_sleep_runs_status",
        ),
    )
    op.create_index("ix_sleep_runs_context_started_at", "sleep_runs", ["context_id", "started_at"])
    op.create_index("ix_sleep_runs_status", "sleep_runs", ["status"])

    op.create_table(
        "queries",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("context_id", sa.String(32), nullable=False),
        sa.Column("context_version", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        *_usage_columns(),
        sa.Column("latency_s", sa.Double(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("learned_context_id", sa.String(32), nullable=True),
        sa.Column("budget", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_queries"),
        _version_fk("fk_queries_context_version"),
        sa.ForeignKeyConstraint(
            ["learned_context_id"],
            ["learned_contexts.id"],
            name="fk_queries_learned_context_id_learned_contexts",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint("source IN ('learned', 'raw')", name="ck_queries_source"),
    )
    op.create_index("ix_queries_context_created_at", "queries", ["context_id", "created_at"])


def downgrade() -> None:
    # Children before parents, so no foreign key is ever left dangling.
    op.drop_table("queries")
    op.drop_table("sleep_runs")
    op.drop_table("learned_contexts")
    op.drop_table("context_versions")
    op.drop_table("contexts")

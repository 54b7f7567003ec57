"""per-tenant protections: quotas, request counts, idempotency keys

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Written out in full, like 0001 and 0002: a frozen record of one step.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "tenant_quotas",
        sa.Column("tenant", sa.String(200), nullable=False),
        sa.Column("requests_per_minute", sa.Integer(), nullable=True),
        sa.Column("sleep_tokens_per_hour", sa.Integer(), nullable=True),
        sa.Column("sleep_tokens_per_day", sa.Integer(), nullable=True),
        sa.Column("max_ask_tokens", sa.Integer(), nullable=True),
        sa.Column("max_sleep_tokens", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", name="pk_tenant_quotas"),
    )
    op.create_table(
        "tenant_request_counts",
        sa.Column("tenant", sa.String(200), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "window_start", name="pk_tenant_request_counts"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("tenant", sa.String(200), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(200), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "key", name="pk_idempotency_keys"),
    )
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("tenant_request_counts")
    op.drop_table("tenant_quotas")

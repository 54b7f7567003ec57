"""queries.queue_wait_s: the wait before the model call, apart from latency_s

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Written out in full, like the revisions before it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("queries", sa.Column("queue_wait_s", sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("queries") as batch:
        batch.drop_column("queue_wait_s")

"""The tables, as SQLAlchemy Core. Migrations (``migrations/versions``) are frozen
copies of what this module said at each revision; ``tests/store/test_migrations.py``
fails when the two drift apart.

Contexts own everything else: deleting a row of ``contexts`` cascades to its
versions, and through those to the runs, learned contexts and queries made from
them (one ``DELETE``, one transaction).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

# Named constraints, so that later migrations can address them by name on every
# backend (SQLite has no other way to find an unnamed constraint).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

ID = sa.String(32)
# Always timezone-aware UTC in Python; SQLite stores it as naive text, see rows.py.
Timestamp = sa.DateTime(timezone=True)


def _usage_columns() -> list[sa.Column[int]]:
    """``llm.base.Usage`` spread over columns, so totals can be summed in SQL."""
    return [
        sa.Column(name, sa.Integer, nullable=False)
        for name in ("prompt_tokens", "completion_tokens", "reasoning_tokens", "calls")
    ]


def _made_from_version() -> list[sa.Column[Any]]:
    """The id of a row made from one version of a context (a run, a learned context, a
    query), and that version; ``_version_fk`` ties the pair to ``context_versions``."""
    return [
        sa.Column("id", ID, primary_key=True),
        sa.Column("context_id", ID, nullable=False),
        sa.Column("context_version", sa.Integer, nullable=False),
    ]


def _learned_context_ref() -> sa.Column[str]:
    # The learned context a run made, a query read or a job produced; the row outlives it.
    return sa.Column(
        "learned_context_id", ID, sa.ForeignKey("learned_contexts.id", ondelete="SET NULL"), nullable=True
    )


def _version_fk(name: str) -> sa.ForeignKeyConstraint:
    # Pointing at the (context, version) pair rather than only the context means a
    # row can never name a version that does not exist.
    return sa.ForeignKeyConstraint(
        ["context_id", "context_version"],
        ["context_versions.context_id", "context_versions.version"],
        name=name,
        ondelete="CASCADE",
    )


contexts = sa.Table(
    "contexts",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("tenant", sa.String(200), nullable=False),
    sa.Column("current_version", sa.Integer, nullable=False),
    # Metadata belongs to the context, not to a version: it is not versioned.
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Index("ix_contexts_tenant_created_at", "tenant", "created_at"),
    sa.Index("ix_contexts_created_at", "created_at"),
)

context_versions = sa.Table(
    "context_versions",
    metadata,
    sa.Column("context_id", ID, sa.ForeignKey("contexts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
)

learned_contexts = sa.Table(
    "learned_contexts",
    metadata,
    *_made_from_version(),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("notes", sa.JSON, nullable=False),
    *_usage_columns(),
    sa.Column("duration_s", sa.Double, nullable=False),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("strategy", sa.Text, nullable=False),
    sa.Column("budget", sa.JSON, nullable=False),
    sa.Column("rounds_used", sa.JSON, nullable=False),
    sa.Column("based_on", ID, sa.ForeignKey("learned_contexts.id", ondelete="SET NULL"), nullable=True),
    sa.Column("extra", sa.JSON, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    _version_fk("fk_learned_contexts_context_version"),
    # What produced a learned context identifies it: the same sleep twice is one row.
    sa.UniqueConstraint("context_id", "context_version", "key", name="uq_learned_contexts_key"),
    sa.Index("ix_learned_contexts_context_created_at", "context_id", "created_at"),
)

sleep_runs = sa.Table(
    "sleep_runs",
    metadata,
    *_made_from_version(),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("strategy", sa.Text, nullable=False),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("budget", sa.JSON, nullable=False),
    *_usage_columns(),
    sa.Column("error", sa.Text, nullable=True),
    _learned_context_ref(),
    sa.Column("started_at", Timestamp, nullable=False),
    sa.Column("finished_at", Timestamp, nullable=True),
    _version_fk("fk_sleep_runs_context_version"),
    sa.CheckConstraint("status IN ('running', 'done', 'failed', 'interrupted', 'cancelled')", name="status"),
    sa.Index("ix_sleep_runs_context_started_at", "context_id", "started_at"),
    # interrupt_stale_runs looks for the few 'running' rows among many finished ones.
    sa.Index("ix_sleep_runs_status", "status"),
)

queries = sa.Table(
    "queries",
    metadata,
    *_made_from_version(),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("answers", sa.JSON, nullable=False),
    *_usage_columns(),
    # What the caller waited (the server's whole answer), and the part of it spent before the
    # model call (revision 0005; NULL for queries recorded by earlier versions or outside it).
    sa.Column("latency_s", sa.Double, nullable=False),
    sa.Column("queue_wait_s", sa.Double, nullable=True),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    _learned_context_ref(),
    sa.Column("budget", sa.JSON, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    _version_fk("fk_queries_context_version"),
    sa.CheckConstraint("source IN ('learned', 'raw')", name="source"),
    sa.Index("ix_queries_context_created_at", "context_id", "created_at"),
)

# --- the server (revision 0002): API keys and the durable sleep-job queue

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("tenant", sa.String(200), nullable=False),
    # sha256 of the key: the key itself is shown once and never stored.
    sa.Column("key_hash", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("revoked_at", Timestamp, nullable=True),
    sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    sa.Index("ix_api_keys_tenant", "tenant"),
)

sleep_jobs = sa.Table(
    "sleep_jobs",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("context_id", ID, sa.ForeignKey("contexts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("tenant", sa.String(200), nullable=False),
    # The version to sleep on; a queued job follows the context's edits.
    sa.Column("version", sa.Integer, nullable=False),
    # Why it was queued: created, changed, requested (POST .../sleep), retry.
    sa.Column("reason", sa.String(16), nullable=False),
    sa.Column("budget", sa.JSON, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("due_at", Timestamp, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("max_attempts", sa.Integer, nullable=False),
    sa.Column("lease_owner", sa.String(200), nullable=True),
    sa.Column("lease_expires_at", Timestamp, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("run_id", ID, sa.ForeignKey("sleep_runs.id", ondelete="SET NULL"), nullable=True),
    _learned_context_ref(),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("finished_at", Timestamp, nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed', 'cancelled')", name="status"),
    # Workers look for due queued jobs and expired running ones.
    sa.Index("ix_sleep_jobs_status_due_at", "status", "due_at"),
    sa.Index("ix_sleep_jobs_context_created_at", "context_id", "created_at"),
)

# --- per-tenant protections (revision 0003): quotas and idempotent writes

tenant_quotas = sa.Table(
    "tenant_quotas",
    metadata,
    sa.Column("tenant", sa.String(200), primary_key=True),
    # NULL: no limit of that kind for the tenant (the server's own limits still hold).
    sa.Column("requests_per_minute", sa.Integer, nullable=True),
    sa.Column("sleep_tokens_per_hour", sa.Integer, nullable=True),
    sa.Column("sleep_tokens_per_day", sa.Integer, nullable=True),
    sa.Column("max_ask_tokens", sa.Integer, nullable=True),
    sa.Column("max_sleep_tokens", sa.Integer, nullable=True),
    sa.Column("updated_at", Timestamp, nullable=False),
)

# Requests per tenant per fixed minute, shared by every server process.
tenant_request_counts = sa.Table(
    "tenant_request_counts",
    metadata,
    sa.Column("tenant", sa.String(200), primary_key=True),
    sa.Column("window_start", Timestamp, primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("tenant", sa.String(200), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    # sha256 of method, path and body: the same key with another request is refused.
    sa.Column("fingerprint", sa.String(64), nullable=False),
    # host:pid:token of the process handling it, while status_code is NULL.
    sa.Column("owner", sa.String(200), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("content_type", sa.String(200), nullable=True),
    sa.Column("body", sa.LargeBinary, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("expires_at", Timestamp, nullable=False),
    sa.Index("ix_idempotency_keys_expires_at", "expires_at"),
)

# --- the sleep outbox (revision 0004): an edit and its sleep job in one transaction

sleep_outbox = sa.Table(
    "sleep_outbox",
    metadata,
    # At most one row per context: a context with a new version that no job covers yet.
    sa.Column("context_id", ID, sa.ForeignKey("contexts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tenant", sa.String(200), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    # created or changed: the reason the job is queued for.
    sa.Column("reason", sa.String(16), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.CheckConstraint("reason IN ('created', 'changed')", name="reason"),
    sa.Index("ix_sleep_outbox_created_at", "created_at"),
)

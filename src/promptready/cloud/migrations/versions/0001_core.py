"""The core store: devices, wallets, the append-only ledger, holds, idempotency keys, usage,
weekly spend, rate limits, grant budgets and settings.

Revision ID: 0001_core
Revises: (none)
Create Date: 2026-12-01 19:14:36.194834
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(length=64), nullable=False),
        sa.Column("cohort", sa.String(length=32), nullable=False),
        sa.Column("plan", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
    )
    op.create_table(
        "grant_budget",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("granted", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_grant_budget")),
    )
    op.create_table(
        "idempotency",
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("hold_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "key", name=op.f("pk_idempotency")),
    )
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("tat_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limits")),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "usage_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("device_hash", sa.String(length=64), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("cohort", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger(), nullable=False),
        sa.Column("completion_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost_micro", sa.BigInteger(), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("latency_ms", sa.BigInteger(), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_events")),
    )
    op.create_index(op.f("ix_usage_events_ts"), "usage_events", ["ts"], unique=False)
    op.create_table(
        "usage_weekly",
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("cohort", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger(), nullable=False),
        sa.Column("completion_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost_micro", sa.BigInteger(), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("week", "cohort", "model", "status", name=op.f("pk_usage_weekly")),
    )
    op.create_table(
        "weekly_spend",
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False),
        sa.Column("committed_micro", sa.BigInteger(), nullable=False),
        sa.Column("reserved_micro", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "reserved_micro >= 0", name=op.f("ck_weekly_spend_reserved_not_negative")
        ),
        sa.PrimaryKeyConstraint("week", "shard", name=op.f("pk_weekly_spend")),
    )
    op.create_table(
        "holds",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("cost_micro", sa.BigInteger(), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("idem_key", sa.String(length=200), nullable=True),
        sa.Column("device_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name=op.f("fk_holds_device_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holds")),
    )
    op.create_index("ix_holds_device_state", "holds", ["device_id", "state"], unique=False)
    op.create_index(
        "ix_holds_open_expiry",
        "holds",
        ["expires_at"],
        unique=False,
        postgresql_where=sa.text("state = 'open'"),
        sqlite_where=sa.text("state = 'open'"),
    )
    op.create_table(
        "ledger",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("bucket", sa.String(length=16), nullable=False),
        sa.Column("delta", sa.BigInteger(), nullable=False),
        sa.Column("idem_key", sa.String(length=300), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name=op.f("fk_ledger_device_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger")),
        sa.UniqueConstraint("idem_key", name=op.f("uq_ledger_idem_key")),
    )
    op.create_index("ix_ledger_device", "ledger", ["device_id", "id"], unique=False)
    op.create_table(
        "wallets",
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.Column("free", sa.BigInteger(), nullable=False),
        sa.Column("purchased", sa.BigInteger(), nullable=False),
        sa.Column("subscription", sa.BigInteger(), nullable=False),
        sa.Column("subscription_expires_at", sa.BigInteger(), nullable=True),
        sa.Column("free_month", sa.String(length=7), nullable=False),
        sa.Column("frozen", sa.Boolean(), nullable=False),
        sa.Column("tat_us", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "balance = free + purchased + subscription", name=op.f("ck_wallets_balance_is_buckets")
        ),
        sa.CheckConstraint("free >= 0", name=op.f("ck_wallets_free_not_negative")),
        sa.CheckConstraint("reserved >= 0", name=op.f("ck_wallets_reserved_not_negative")),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name=op.f("fk_wallets_device_id")),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_wallets")),
    )

    _ledger_append_only()


def downgrade() -> None:
    _drop_ledger_guard()
    op.drop_table("wallets")
    op.drop_index("ix_ledger_device", table_name="ledger")
    op.drop_table("ledger")
    op.drop_index("ix_holds_open_expiry", table_name="holds")
    op.drop_index("ix_holds_device_state", table_name="holds")
    op.drop_table("holds")
    op.drop_table("weekly_spend")
    op.drop_table("usage_weekly")
    op.drop_index(op.f("ix_usage_events_ts"), table_name="usage_events")
    op.drop_table("usage_events")
    op.drop_table("settings")
    op.drop_table("rate_limits")
    op.drop_table("idempotency")
    op.drop_table("grant_budget")
    op.drop_table("devices")


# No code path may UPDATE or DELETE a ledger row: corrections are new rows. The database
# refuses both, so a bug becomes an error instead of rewritten money history.
_MESSAGE = "the credit ledger is append-only"


def _ledger_append_only() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER ledger_no_{verb.lower()} BEFORE {verb} ON ledger "
                f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION '{_MESSAGE}'; END $$"
    )
    op.execute(
        "CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger "
        "FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()"
    )


def _drop_ledger_guard() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS ledger_no_update")
        op.execute("DROP TRIGGER IF EXISTS ledger_no_delete")
        return
    op.execute("DROP TRIGGER IF EXISTS ledger_append_only ON ledger")
    op.execute("DROP FUNCTION IF EXISTS ledger_append_only()")

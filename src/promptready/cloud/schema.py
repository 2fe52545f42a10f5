"""The store's tables (SQLAlchemy Core, one ``MetaData`` for SQLite and PostgreSQL).

Times are integer unix seconds (``*_at``) so they compare the same on both dialects; the rate
limiter keeps microseconds (``tat_us``). Credits are integers; USD is integer micro-dollars
(``*_micro``). Billing adds its own tables to ``metadata`` (``cloud/billing/tables.py``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Uuid,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid).
_SERIAL = BigInteger().with_variant(Integer, "sqlite")

devices = Table(
    "devices",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("secret_hash", LargeBinary(64), nullable=False),
    Column("cohort", String(32), nullable=False),
    Column("plan", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# The cached balance: always the sum of the buckets and of the device's ledger deltas; reserved
# is the sum of its open holds. free_month is the calendar month ("2026-12") of the last lazy
# free top-up, which the hot path checks so the top-up happens once a month.
wallets = Table(
    "wallets",
    metadata,
    Column("device_id", Uuid, ForeignKey("devices.id"), primary_key=True),
    Column("balance", BigInteger, nullable=False),
    Column("reserved", BigInteger, nullable=False),
    Column("free", BigInteger, nullable=False),
    Column("purchased", BigInteger, nullable=False),
    Column("subscription", BigInteger, nullable=False),
    Column("subscription_expires_at", BigInteger),
    Column("free_month", String(7), nullable=False),
    Column("frozen", Boolean, nullable=False),
    Column("tat_us", BigInteger, nullable=False),
    CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    CheckConstraint("free >= 0", name="free_not_negative"),
    CheckConstraint("balance = free + purchased + subscription", name="balance_is_buckets"),
)

# Append-only (a trigger refuses UPDATE and DELETE on both dialects). idem_key makes every
# credit movement happen at most once: grants by their caller's key, debits by their hold.
ledger = Table(
    "ledger",
    metadata,
    Column("id", _SERIAL, primary_key=True, autoincrement=True),
    Column("device_id", Uuid, ForeignKey("devices.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("bucket", String(16), nullable=False),
    Column("delta", BigInteger, nullable=False),
    Column("idem_key", String(300), unique=True),
    Column("reason", String(300), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_ledger_device", "device_id", "id"),
)

# One row per hold; state goes open -> settled | released | expired exactly once. week and
# shard say which weekly-spend row the estimate was reserved on; device_hash is what the usage
# event will carry (computed at admit, so settling needs no second look-up).
holds = Table(
    "holds",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("device_id", Uuid, ForeignKey("devices.id"), nullable=False),
    Column("credits", BigInteger, nullable=False),
    Column("cost_micro", BigInteger, nullable=False),
    Column("week", String(8), nullable=False),
    Column("shard", Integer, nullable=False),
    Column("state", String(8), nullable=False),
    Column("idem_key", String(200)),
    Column("device_hash", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_holds_device_state", "device_id", "state"),
    Index(
        "ix_holds_open_expiry",
        "expires_at",
        postgresql_where=text("state = 'open'"),
        sqlite_where=text("state = 'open'"),
    ),
)

# A request's idempotency key, per device: pending while its hold is open, then its answer.
idempotency = Table(
    "idempotency",
    metadata,
    Column("device_id", Uuid, nullable=False),
    Column("key", String(200), nullable=False),
    Column("hold_id", String(32), nullable=False),
    Column("status", Integer),
    Column("body", LargeBinary),
    Column("content_type", String(100)),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("device_id", "key"),
)

# Raw usage, kept ``prune_usage`` days; device_hash is HMAC-SHA256(usage_key, device id).
usage_events = Table(
    "usage_events",
    metadata,
    Column("id", _SERIAL, primary_key=True, autoincrement=True),
    Column("device_hash", String(64), nullable=False),
    Column("week", String(8), nullable=False),
    Column("cohort", String(32), nullable=False),
    Column("model", String(100), nullable=False),
    Column("status", String(10), nullable=False),
    Column("prompt_tokens", BigInteger, nullable=False),
    Column("completion_tokens", BigInteger, nullable=False),
    Column("cost_micro", BigInteger, nullable=False),
    Column("credits", BigInteger, nullable=False),
    Column("latency_ms", BigInteger, nullable=False),
    Column("ts", BigInteger, nullable=False, index=True),
)

# What pruned events leave behind: totals per ISO week, cohort, model and status.
usage_weekly = Table(
    "usage_weekly",
    metadata,
    Column("week", String(8), nullable=False),
    Column("cohort", String(32), nullable=False),
    Column("model", String(100), nullable=False),
    Column("status", String(10), nullable=False),
    Column("requests", BigInteger, nullable=False),
    Column("prompt_tokens", BigInteger, nullable=False),
    Column("completion_tokens", BigInteger, nullable=False),
    Column("cost_micro", BigInteger, nullable=False),
    Column("credits", BigInteger, nullable=False),
    PrimaryKeyConstraint("week", "cohort", "model", "status"),
)

# The global weekly spend, split over ``spend_shards`` rows per ISO week so no single row takes
# every request; each shard may hold its share of the cap, so the sum never exceeds it.
weekly_spend = Table(
    "weekly_spend",
    metadata,
    Column("week", String(8), nullable=False),
    Column("shard", Integer, nullable=False),
    Column("committed_micro", BigInteger, nullable=False),
    Column("reserved_micro", BigInteger, nullable=False),
    PrimaryKeyConstraint("week", "shard"),
    CheckConstraint("reserved_micro >= 0", name="reserved_not_negative"),
)

# Generic cell-rate (GCRA) state shared by every instance, e.g. registrations per client key.
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("tat_us", BigInteger, nullable=False),
)

# Credits handed out by one-off grants (the BYOK migration) per calendar month, against
# ``grant_budget_month``.
grant_budget = Table(
    "grant_budget",
    metadata,
    Column("month", String(7), primary_key=True),
    Column("granted", BigInteger, nullable=False),
)

# Operator settings shared by every instance (the weekly cap set by ``admin set-cap``).
settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(300), nullable=False),
)

WEEKLY_CAP_KEY = "weekly_cap_micro"

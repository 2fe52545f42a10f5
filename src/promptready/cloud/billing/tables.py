"""Billing's tables, on the store's MetaData (migration ``0002_billing``).

Times are integer unix seconds, which compare the same on SQLite and PostgreSQL. Amounts are
Stripe's integer minor units. Each dedupe key is a primary key or unique constraint, so a second
writer of the same payment fails inside its transaction and changes nothing.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

from promptready.cloud.schema import metadata

# A device's billing side: its Stripe customer, its auto-reload choice and its Pro subscription.
accounts = Table(
    "billing_accounts",
    metadata,
    Column("device_id", Uuid, primary_key=True),
    Column("customer", String(255), unique=True),
    Column("auto_reload", Boolean, nullable=False, default=False),
    Column("auto_reload_off_reason", String(255)),
    Column("subscription", String(255)),
    Column("pro_ends_at", BigInteger),
)

# Every webhook event applied (or deliberately ignored), written in the transaction of its effect.
events = Table(
    "billing_events",
    metadata,
    Column("event_id", String(255), primary_key=True),
    Column("type", String(100), nullable=False),
    Column("received_at", BigInteger, nullable=False),
)

# Every payment that granted credits, keyed by what Stripe calls the payment
# ("checkout:<session>", "invoice:<invoice>", "reload:<payment intent>").
payments = Table(
    "billing_payments",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("device_id", Uuid, nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("pack", String(50), nullable=False),
    Column("credits", Integer, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(10), nullable=False),
    Column("payment_intent", String(255), index=True),
    Column("created_at", BigInteger, nullable=False),
)

# Every clawback (refund or lost dispute), keyed by the refund level or the dispute.
clawbacks = Table(
    "billing_clawbacks",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("payment_key", String(300), nullable=False, index=True),
    Column("device_id", Uuid, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("credits", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# What the user should see about a payment that did not go through.
notices = Table(
    "billing_notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device_id", Uuid, nullable=False, index=True),
    Column("kind", String(50), nullable=False),
    Column("message", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# Payments that granted nothing because something did not match; a person looks at these.
reviews = Table(
    "billing_reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(255), nullable=False),
    Column("object_id", String(255), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# One row per auto-reload attempt; (device, seq) unique makes concurrent crossings start one.
reloads = Table(
    "billing_reloads",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("device_id", Uuid, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("payment_intent", String(255)),
    Column("error_code", String(100)),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("device_id", "seq", name="uq_billing_reloads_device_seq"),
)

# The metering export's outbox: one CloudEvent per usage event, sent at least once, marked once.
outbox = Table(
    "metering_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(255), nullable=False, unique=True),
    Column("body", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("sent_at", BigInteger, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", BigInteger, nullable=False, default=0),
)

# How far the outbox has read the store's usage events.
cursors = Table(
    "metering_cursor",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

BILLING_TABLES = (accounts, events, payments, clawbacks, notices, reviews, reloads, outbox, cursors)

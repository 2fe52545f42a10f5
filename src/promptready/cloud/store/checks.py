"""Checks of the store's inputs and settings, before any database work (pure)."""

from __future__ import annotations

from decimal import Decimal

from promptready.cloud.records import StoreSettings, UsageRecord

USAGE_STATUSES = frozenset({"ok", "cancelled", "error"})
PLANS = frozenset({"free", "pro"})
# The one home of the limit: the idempotency columns are String(200); the HTTP check uses it too.
MAX_IDEMPOTENCY_KEY = 200


def check_settings(config: StoreSettings) -> None:
    if config.weekly_cap_usd < 0:
        raise ValueError("the weekly cap cannot be negative")
    if config.spend_shards < 1:
        raise ValueError("spend_shards must be at least 1")
    if config.hold_ttl_s < 1:
        raise ValueError("hold_ttl_s must be at least 1 second")
    if not Decimal(0) < config.degrade_at <= Decimal(1):
        raise ValueError("degrade_at must be a fraction of the cap in (0, 1]")
    if min(config.byok_grant, config.grant_budget_month, config.overdraft_credits) < 0:
        raise ValueError("grants, grant budgets and the overdraft cannot be negative")
    if not config.cohorts:
        raise ValueError("at least one cohort is needed")


def check_key(key: str) -> None:
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise ValueError(f"an idempotency key needs 1 to {MAX_IDEMPOTENCY_KEY} characters")


def check_usage(usage: UsageRecord) -> None:
    if min(usage.prompt_tokens, usage.completion_tokens, usage.credits, usage.latency_ms) < 0:
        raise ValueError("usage counts cannot be negative")
    if usage.cost_usd < 0:
        raise ValueError("a cost cannot be negative")
    if usage.status not in USAGE_STATUSES:
        raise ValueError(f"unknown usage status {usage.status!r}")

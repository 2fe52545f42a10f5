"""Builders the store tests share: settings, a registered device with credits, usage records."""

from __future__ import annotations

import uuid
from decimal import Decimal

from promptready.cloud.store import (
    Admission,
    Bucket,
    CreditsView,
    LedgerKind,
    Store,
    StoreSettings,
    UsageRecord,
)


async def new_device(store: Store, purchased: int = 0, client: str = "203.0.113.7") -> uuid.UUID:
    """Register a device, let its monthly free top-up happen, and add ``purchased`` credits."""
    device_id = uuid.uuid4()
    await store.register_device(device_id, b"secret-hash", client)
    await store.credits(device_id)
    if purchased:
        await store.grant(
            device_id,
            purchased,
            bucket=Bucket.PURCHASED,
            kind=LedgerKind.PURCHASE,
            idem_key=f"test-purchase:{device_id}",
            reason="test purchase",
        )
    return device_id


USAGE_KEY = b"test-usage-hashing-key-32-bytes!"


def store_settings(**overrides: object) -> StoreSettings:
    """Store settings for tests: a $100 cap, no device rate limit unless asked for."""
    values: dict[str, object] = {
        "weekly_cap_usd": Decimal(100),
        "usage_key": USAGE_KEY,
        "device_rps": 0.0,
        "registrations_per_hour": 0,
        "spend_shards": 4,
    }
    values.update(overrides)
    return StoreSettings(**values)  # type: ignore[arg-type]


def usage(credits: int, cost_usd: str = "0.001", status: str = "ok") -> UsageRecord:
    """A finished request that used ``credits`` and cost ``cost_usd``."""
    return UsageRecord(
        prompt_tokens=100,
        completion_tokens=50,
        model="gpt-oss-20b",
        cohort="A",
        cost_usd=Decimal(cost_usd),
        credits=credits,
        latency_ms=12,
        status=status,
    )


async def hold(
    store: Store,
    device_id: uuid.UUID,
    credits: int,
    cost_usd: str = "0.001",
    key: str | None = None,
) -> Admission:
    """Admit a request that must be admitted (not a replay)."""
    admission = await store.admit(
        device_id, credits=credits, cost_usd=Decimal(cost_usd), idempotency_key=key
    )
    assert isinstance(admission, Admission), admission
    return admission


async def spend(
    store: Store, device_id: uuid.UUID, credits: int, cost_usd: str = "0.001"
) -> CreditsView:
    """Admit and settle a request at exactly its estimate."""
    admission = await hold(store, device_id, credits, cost_usd)
    return await store.settle(admission.hold_id, usage(credits, cost_usd))

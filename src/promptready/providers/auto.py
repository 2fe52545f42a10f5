"""``model: "auto"``: rank the models the user has keys for by policy — cheapest (rate card),
fastest (median latency measured in the ledger) or balanced (the sum of both ranks). Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

POLICIES = ("cheapest", "fastest", "balanced")


def rank(
    candidates: Sequence[str],
    prices: Mapping[str, Decimal | None],
    latency_ms: Mapping[str, float],
    policy: str,
) -> list[str]:
    """``candidates`` (``provider/model``) best first; unknown price or latency ranks last."""
    if policy not in POLICIES:
        raise ValueError(f"unknown routing policy {policy!r}")
    unique = list(dict.fromkeys(candidates))
    by_price = sorted(unique, key=lambda c: (prices.get(c) is None, prices.get(c) or 0, c))
    by_speed = sorted(unique, key=lambda c: (c not in latency_ms, latency_ms.get(c, 0.0), c))
    if policy == "cheapest":
        return by_price
    if policy == "fastest":
        return by_speed
    score = {c: by_price.index(c) + by_speed.index(c) for c in unique}
    return sorted(unique, key=lambda c: (score[c], by_price.index(c)))

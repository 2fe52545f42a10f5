"""Holds (two-phase charges) and request idempotency keys.

A hold is opened by ``admit`` and resolved exactly once: its state moves from ``open`` to
``settled``, ``released`` or ``expired`` in one conditional UPDATE, and only the caller whose
UPDATE returned the row touches the money, so a second settle, a release racing a settle, or an
expiry racing either is a no-op. Idempotency keys are per device: ``(device_id, key)``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import bindparam, delete, select, update

from promptready.cloud.schema import holds, idempotency


class HoldState(StrEnum):
    OPEN = "open"
    SETTLED = "settled"
    RELEASED = "released"
    EXPIRED = "expired"


def new_hold_id() -> str:
    """An unguessable hold id (128 random bits, hex)."""
    return secrets.token_hex(16)


@dataclass(frozen=True)
class ResolvedHold:
    """What a hold reserved, returned to the one caller that resolved it."""

    device_id: object
    credits: int
    cost_micro: int
    week: str
    shard: int
    idem_key: str | None


# What resolving a hold needs of it (the lone and the batched settle return the same).
RESOLVED = (
    holds.c.device_id,
    holds.c.credits,
    holds.c.cost_micro,
    holds.c.week,
    holds.c.shard,
    holds.c.idem_key,
    holds.c.device_hash,
)

# Resolve an open hold: the at-most-once gate.
RESOLVE = (
    update(holds)
    .where(holds.c.id == bindparam("p_hold"), holds.c.state == HoldState.OPEN.value)
    .values(state=bindparam("p_state"))
    .returning(*RESOLVED)
)

HOLDER = select(holds.c.device_id).where(holds.c.id == bindparam("p_hold"))

EXPIRED = (
    select(holds.c.id)
    .where(holds.c.state == HoldState.OPEN.value, holds.c.expires_at <= bindparam("p_now_s"))
    .order_by(holds.c.expires_at)
    .limit(bindparam("p_limit"))
)

IDEM_LOOKUP = select(
    idempotency.c.hold_id, idempotency.c.status, idempotency.c.body, idempotency.c.content_type
).where(idempotency.c.device_id == bindparam("p_device"), idempotency.c.key == bindparam("p_key"))

# Answer and forget touch the key only while it still belongs to this hold: a duplicate that
# lost the race for the key must not erase the winner's.
_OWNED = (
    (idempotency.c.device_id == bindparam("p_device"))
    & (idempotency.c.key == bindparam("p_key"))
    & (idempotency.c.hold_id == bindparam("p_hold"))
)

IDEM_ANSWER = (
    update(idempotency)
    .where(_OWNED)
    .values(
        status=bindparam("p_status"),
        body=bindparam("p_body"),
        content_type=bindparam("p_type"),
    )
)

IDEM_FORGET = delete(idempotency).where(_OWNED)

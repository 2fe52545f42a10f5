"""``GET /api/v1/credits`` (the wallet) and ``POST /api/v1/credits/byok-migration`` (500, once)."""

from __future__ import annotations

from typing import Any

from promptready.cloud.errors import from_store
from promptready.cloud.routes.deps import Deps
from promptready.cloud.routes.wire import Receive, Scope, Send, authenticate, read_body, send_json
from promptready.cloud.store import CreditsView, StoreError


def wallet_fields(view: CreditsView) -> dict[str, Any]:
    """The wallet as the client shows it: what it can spend now, by bucket, and what is held."""
    fields: dict[str, Any] = {
        "credits_remaining": view.available,
        "cohort": view.cohort,
        "plan": view.plan,
        "buckets": {bucket.value: credits for bucket, credits in view.buckets.items()},
        "reserved": view.reserved,
    }
    if view.used_month is not None:  # only the wallet read counts it
        fields["used_this_month"] = view.used_month
    return fields


class Credits:
    """The device's wallet; 402 with the same fields once nothing is left to spend."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        device_id = authenticate(self.deps, scope)
        try:
            view = await self.deps.store.credits(device_id)
        except StoreError as error:
            raise from_store(error, self.deps.clock.now()) from None
        if view.available > 0:
            await send_json(send, 200, {"status": "OK", **wallet_fields(view)})
            return
        await send_json(
            send,
            402,
            {"status": "INSUFFICIENT_CREDITS", **wallet_fields(view)},
            [(b"x-should-retry", b"false")],
        )


class ByokMigration:
    """Grant the one-off credits for a user who had their own provider key (once per device)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        device_id = authenticate(self.deps, scope)
        await read_body(receive)  # the body carries nothing; it is read so it is bounded
        store = self.deps.store
        try:
            granted = await store.claim_byok_migration(device_id)
            view = await store.credits(device_id)
        except StoreError as error:
            raise from_store(error, self.deps.clock.now()) from None
        await send_json(
            send, 200, {"status": "OK", "credits_granted": granted, **wallet_fields(view)}
        )

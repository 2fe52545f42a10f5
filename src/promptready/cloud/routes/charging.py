"""Admit, settle and release through the store, for the AI endpoints.

Settling and releasing are shielded from cancellation: a client that goes away must not leave a
hold open (the store's TTL expiry is the backstop for a crashed process, not for a cancel). For
the same reason a settle that fails twice releases its hold.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from promptready.cloud import logs
from promptready.cloud.errors import ApiError, bad_request, from_store
from promptready.cloud.routes.costs import Charge, Estimate
from promptready.cloud.routes.deps import Deps
from promptready.cloud.routes.wire import Scope, Send, header, send_bytes
from promptready.cloud.store import Admission, CreditsView, Replay, StoreError, UsageRecord
from promptready.cloud.store.checks import MAX_IDEMPOTENCY_KEY
from promptready.cloud.upstream import UpstreamError

# The store's limit, so a key the header check accepts is one the store can keep.
_IDEMPOTENCY_KEY = re.compile(rf"[\x21-\x7e]{{1,{MAX_IDEMPOTENCY_KEY}}}")


def idempotency_key(scope: Scope) -> str | None:
    """The client's ``Idempotency-Key`` (printable ASCII, at most ``MAX_IDEMPOTENCY_KEY``
    characters), or None; a 400 naming the header for anything else."""
    value = header(scope, b"idempotency-key")
    if value is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(value):
        raise bad_request(
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters.",
            "invalid_idempotency_key",
        )
    return value


async def admit(
    deps: Deps, device_id: uuid.UUID, estimate: Estimate, key: str | None
) -> Admission | Replay:
    """The store's admission for ``estimate``; its refusals become the matching ApiError."""
    try:
        return await deps.store.admit(
            device_id, credits=estimate.credits, cost_usd=estimate.cost_usd, idempotency_key=key
        )
    except StoreError as error:
        raise from_store(error, deps.clock.now()) from None


async def admit_or_replay(
    deps: Deps, device_id: uuid.UUID, estimate: Estimate, key: str | None, send: Send
) -> Admission | None:
    """The admission, or None once the stored answer to a retried key has been sent."""
    admitted = await admit(deps, device_id, estimate, key)
    if isinstance(admitted, Admission):
        return admitted
    await send_bytes(send, admitted.status, admitted.body, (), admitted.content_type.encode())
    return None


@asynccontextmanager
async def released_on_failure(
    deps: Deps, admission: Admission, refusal: Callable[[UpstreamError], ApiError]
) -> AsyncIterator[None]:
    """Release the hold if the block fails (an UpstreamError becomes ``refusal(error)``), and
    on cancellation too: nothing was delivered, so nothing is charged."""
    try:
        yield
    except UpstreamError as error:
        await release(deps, admission)
        raise refusal(error) from None
    except BaseException:
        await release(deps, admission)
        raise


async def settle(
    deps: Deps,
    admission: Admission,
    charge: Charge,
    *,
    model: str,
    latency_ms: int,
    status: str,
    response: Replay | None = None,
) -> CreditsView:
    """Charge ``charge`` against the hold, record usage and metrics; never cut off by a cancel."""
    usage = UsageRecord(
        prompt_tokens=charge.prompt_tokens,
        completion_tokens=charge.completion_tokens,
        model=model,
        cohort=admission.cohort.name,
        cost_usd=charge.cost_usd,
        credits=charge.credits,
        latency_ms=latency_ms,
        status=status,
    )
    view = await _settled(deps, admission, usage, response)
    deps.metrics.charged(admission.cohort.name, model, charge.credits, charge.cost_usd)
    for hook in deps.hooks.after_settle:
        hook(view.device_id, view.balance)
    return view


async def _settled(
    deps: Deps, admission: Admission, usage: UsageRecord, response: Replay | None
) -> CreditsView:
    """The store's settle, tried twice; when both fail the hold is released and the error raised.

    A hold resolves at most once, so the second try cannot charge twice (it finds the hold
    settled when the first one committed and only its reply was lost), and a blip should not
    give away an answer already paid for upstream. Released rather than left open: otherwise
    the credits stay held and a retry with the same key meets 409 until the hold expires."""

    def attempt() -> Awaitable[CreditsView]:
        return asyncio.shield(deps.store.settle(admission.hold_id, usage, response=response))

    try:
        return await attempt()
    except Exception as exc:
        logs.get().warning("settle failed, retrying", extra=logs.fields(error=type(exc).__name__))
    try:
        return await attempt()
    except Exception:
        await release(deps, admission)
        raise


async def release(deps: Deps, admission: Admission) -> None:
    """Release the hold, charging nothing; a failure is logged (the TTL expiry will catch it)."""
    try:
        await asyncio.shield(deps.store.release(admission.hold_id))
    except Exception as exc:
        logs.get().error("release failed", extra=logs.fields(error=type(exc).__name__))

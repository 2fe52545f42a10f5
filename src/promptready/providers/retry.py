"""When to retry an upstream call, or move on to the next route, and how long to wait: pure
decisions, no I/O."""

from __future__ import annotations

import email.utils
import math
import time
from dataclasses import dataclass

# Besides every 5xx: a request timeout, a conflict (a lock on the provider's side) and a rate
# limit are the upstream's passing state, not something wrong with the request.
RETRYABLE_4XX = frozenset({408, 409, 429})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff that honours Retry-After, within a cap the user will tolerate."""

    attempts: int = 3  # tries per route, the first included
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    max_retry_after_s: float = 20.0  # a longer Retry-After moves on to the next fallback instead

    def delay(
        self, attempt: int, retry_after: str | None = None, now: float | None = None
    ) -> float | None:
        """Seconds to wait before try ``attempt + 1`` (counting from 1), or None to give up."""
        if attempt >= self.attempts:
            return None
        if retry_after is not None:
            wait = parse_retry_after(retry_after, now)
            if wait is not None:
                return wait if wait <= self.max_retry_after_s else None
        backoff: float = self.base_delay_s * 2 ** (attempt - 1)
        return min(self.max_delay_s, backoff)


def is_retryable(status: int) -> bool:
    """Whether an HTTP status may succeed on a later try or another route: the one rule for the
    engine's route loop and the gateway's relay alike (408, 409, 429 and any 5xx)."""
    # Any 5xx, not a list: an overloaded Anthropic answers 529 and a provider behind Cloudflare
    # 520-524, and another model may well answer then.
    return status in RETRYABLE_4XX or 500 <= status <= 599


# What the server says it does not do: another model may answer, the same one never will.
NOT_SUPPORTED = frozenset({501, 505})


def is_worth_retrying_here(status: int) -> bool:
    """Whether the same route may answer a later try: a status that moves on
    (``is_retryable``) but not one by which the server says it does not do this at all."""
    return is_retryable(status) and status not in NOT_SUPPORTED


def parse_retry_after(value: str, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if unreadable."""
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        seconds = email.utils.mktime_tz(parsed) - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)

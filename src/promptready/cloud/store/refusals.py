"""What the store refuses: one exception per reason, each message one sentence a user can act
on (the HTTP layer maps them to status codes in ``cloud.errors``)."""

from __future__ import annotations

from datetime import datetime


class StoreError(Exception):
    """A request the store refused; the message is one sentence a user can act on."""


class DeviceExists(StoreError):
    def __init__(self) -> None:
        super().__init__("This device is already registered; refresh its token instead.")


class DeviceUnknown(StoreError):
    def __init__(self) -> None:
        super().__init__("This device is not registered; register it first.")


class RegistrationLimited(StoreError):
    def __init__(self, retry_after_s: float) -> None:
        super().__init__("Too many new devices from this client; try again later.")
        self.retry_after_s = retry_after_s


class BreakerOpen(StoreError):
    def __init__(self, resets_at: datetime) -> None:
        super().__init__("The service has reached its weekly budget; try again next week.")
        self.resets_at = resets_at


class InsufficientCredits(StoreError):
    def __init__(self, available: int, required: int) -> None:
        super().__init__(
            f"Not enough credits: {available} available, {required} needed; top up to continue."
        )
        self.available = available
        self.required = required


class RateLimited(StoreError):
    def __init__(self, retry_after_s: float) -> None:
        super().__init__("Too many requests from this device; slow down and retry shortly.")
        self.retry_after_s = retry_after_s


class WalletFrozen(StoreError):
    def __init__(self) -> None:
        super().__init__("This wallet is frozen while a payment dispute is open; contact support.")


class IdempotencyInFlight(StoreError):
    def __init__(self) -> None:
        super().__init__("A request with this idempotency key is still running; retry shortly.")


class AlreadyClaimed(StoreError):
    def __init__(self) -> None:
        super().__init__("This device has already claimed its migration credits.")


class GrantBudgetExhausted(StoreError):
    def __init__(self) -> None:
        super().__init__("This month's grant budget is used up; try again next month.")


class HoldUnknown(StoreError):
    def __init__(self) -> None:
        super().__init__("There is no such hold; it was never opened by this store.")

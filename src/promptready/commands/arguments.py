"""Argument types shared by subcommands: each rejects bad values with argparse's own error."""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation


def positive_int(value: str) -> int:
    """A whole number of at least 1."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} must be at least 1")
    return number


def usd(value: str) -> Decimal:
    """An amount of USD, zero or more, exact."""
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{value!r} is not an amount in USD") from None
    if not amount.is_finite() or amount < 0:
        raise argparse.ArgumentTypeError(f"{value!r} must be zero or more")
    return amount

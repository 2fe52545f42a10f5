"""``records.once``: a transaction that lost a race (unique key, deadlock, serialization) runs
again; any other database error is raised at once."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from promptready.cloud.billing.records import once
from promptready.cloud.store import Store


class _DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


class FailingStore:
    """A store whose first transactions fail with the given errors."""

    def __init__(self, *errors: DBAPIError) -> None:
        self.errors = list(errors)
        self.attempts = 0

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        self.attempts += 1
        yield None
        if self.errors:
            raise self.errors.pop(0)


async def work(conn: Any) -> str:
    return "done"


@pytest.mark.parametrize(
    "error",
    [
        IntegrityError("INSERT", {}, _DriverError("23505")),
        OperationalError("UPDATE", {}, _DriverError("40P01")),
        OperationalError("UPDATE", {}, _DriverError("40001")),
    ],
)
async def test_a_transaction_that_lost_a_race_runs_again(error: DBAPIError) -> None:
    store = FailingStore(error)
    assert await once(cast(Store, store), work) == "done"
    assert store.attempts == 2


async def test_any_other_database_error_is_raised_at_once() -> None:
    store = FailingStore(OperationalError("SELECT", {}, _DriverError("57P01")))
    with pytest.raises(OperationalError):
        await once(cast(Store, store), work)
    assert store.attempts == 1


async def test_a_race_lost_three_times_is_raised() -> None:
    clash = IntegrityError("INSERT", {}, _DriverError("23505"))
    store = FailingStore(clash, clash, clash)
    with pytest.raises(IntegrityError):
        await once(cast(Store, store), work)

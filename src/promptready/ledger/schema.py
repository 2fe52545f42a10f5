"""The ledger's tables declared with SQLModel, for typed reads (``session``) and as the reference
the migrations are tested against. SQLModel costs tens of MB to import, so nothing on the write
path imports this module: the batching writer and the CLI go through ``sqlite3`` directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

from sqlalchemy import MetaData
from sqlmodel import Field, Session, SQLModel, create_engine


class LedgerTable(SQLModel):
    """Base of the ledger tables: their own metadata, apart from any other SQLModel tables."""

    metadata = MetaData()


class Call(LedgerTable, table=True):
    """One call (``calls``); money in whole micro-dollars, times as ISO-8601 UTC text."""

    __tablename__: ClassVar[str] = "calls"
    # Keyed by (ts, id), WITHOUT ROWID: one b-tree per row (migration 005).
    __table_args__ = {"sqlite_with_rowid": False}

    id: str = Field(primary_key=True)
    ts: str = Field(primary_key=True)
    day: str
    source: str
    app: str | None = None
    mode: str
    provider: str | None = None
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_micro_usd: int = 0
    credits: int = 0
    latency_ms: float | None = None
    status: str
    tokens_estimated: bool = False
    ttft_ms: float | None = None
    error_code: str | None = None
    request_id: str | None = None
    cache_hit: bool = False
    hops: str | None = None
    prompt_text: str | None = None
    unpriced: bool = False


class Rollup(LedgerTable, table=True):
    """Running sums per day × source × app × mode × model ('' for no app or model)."""

    # ``rollups`` is a view of it since migration 006, for builds from before it to read.
    __tablename__: ClassVar[str] = "rollup_sums"
    __table_args__ = {"sqlite_with_rowid": False}

    day: str = Field(primary_key=True)
    source: str = Field(primary_key=True)
    app: str = Field(primary_key=True)
    mode: str = Field(primary_key=True)
    model: str = Field(primary_key=True)
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_micro_usd: int
    credits: int
    unpriced: int = 0


class AppliedMigration(LedgerTable, table=True):
    """A named migration and when it ran (``_migrations``)."""

    __tablename__: ClassVar[str] = "_migrations"

    name: str = Field(primary_key=True)
    applied: str | None = None


@contextmanager
def session(path: Path) -> Iterator[Session]:
    """A SQLModel session on a ledger file that ``Ledger(path)`` has already opened (migrated)."""
    engine = create_engine(f"sqlite:///{path}")
    try:
        with Session(engine) as opened:
            yield opened
    finally:
        engine.dispose()  # no pooled connection outlives the session

"""Export: every column (with ``app`` and the cost in USD), as CSV or JSON, reading back the same."""

from __future__ import annotations

import csv
import io
import json

import pytest

from promptready.errors import ConfigError
from promptready.ledger.store import EXPORT_COLUMNS, Ledger
from tests.ledger.makers import record


def test_json_export_has_every_column_with_exact_cost(ledger: Ledger) -> None:
    ledger.write([record(request_id="req_1", hops="openai/gpt-4o-mini:429 → groq/x:ok")])
    (row,) = json.loads(ledger.export("json"))
    assert list(row) == list(EXPORT_COLUMNS)
    assert (row["app"], row["cost_usd"], row["hops"]) == (
        "editor",
        "0.000027",
        "openai/gpt-4o-mini:429 → groq/x:ok",
    )


def test_csv_export_reads_back_as_the_json_rows(ledger: Ledger) -> None:
    ledger.write([record(request_id="req_1", latency_ms=12.5), record(app=None, mode="offline")])
    from_json = json.loads(ledger.export("json"))
    from_csv = list(csv.DictReader(io.StringIO(ledger.export("csv"))))
    as_text = [{k: "" if v is None else str(v) for k, v in row.items()} for row in from_json]
    assert from_csv == as_text


def test_an_empty_ledger_exports_a_header_or_an_empty_list(ledger: Ledger) -> None:
    assert ledger.export("csv").strip() == ",".join(EXPORT_COLUMNS)
    assert json.loads(ledger.export("json")) == []


def test_an_unknown_format_is_refused(ledger: Ledger) -> None:
    with pytest.raises(ConfigError, match="use csv or json"):
        ledger.export("xml")

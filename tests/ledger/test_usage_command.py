"""``promptready usage``: a totals table, JSON, export to stdout or a file, prune, clear errors.
Each test builds a real parser with ``register`` and runs the function it picks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from promptready.commands import usage
from promptready.errors import ConfigError
from promptready.ledger.store import Ledger
from promptready.paths import app_paths
from tests.ledger.makers import DAY, record, usage_cli


@pytest.fixture
def user_ledger() -> Iterator[Ledger]:
    """The ledger at the user's (test) data path."""
    ledger = Ledger(app_paths().ledger_file)
    yield ledger
    ledger.close()


def test_usage_by_model_prints_aligned_rows_and_a_total(
    user_ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    user_ledger.write([record(), record(model="gpt-4o", cost_usd=Decimal("0.5"))])
    assert usage_cli(["usage", "--by", "model"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "model",
        "calls",
        "prompt",
        "tok",
        "output",
        "tok",
        "cost",
        "USD",
        "credits",
    ]
    assert lines[-1].split()[:2] == ["total", "2"] and "$0.500027" in lines[-1]
    assert len({len(line) for line in lines}) == 1  # columns line up


def test_usage_json_gives_exact_cost_strings(
    user_ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    user_ledger.write([record()])
    assert usage_cli(["usage", "--json", "--by", "app"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["key"], row["cost_usd"], row["calls"]) == ("editor", "0.000027", 1)


def test_usage_since_leaves_out_earlier_days(
    user_ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    user_ledger.write([record(), record(timestamp=DAY - timedelta(days=5))])
    assert usage_cli(["usage", "--since", DAY.date().isoformat()]) == 0
    out = capsys.readouterr().out
    assert "2026-11-20" in out and "2026-11-15" not in out


def test_usage_until_leaves_out_later_days(
    user_ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    user_ledger.write([record(), record(timestamp=DAY - timedelta(days=5))])
    assert usage_cli(["usage", "--until", (DAY - timedelta(days=1)).date().isoformat()]) == 0
    out = capsys.readouterr().out
    assert "2026-11-15" in out and "2026-11-20" not in out


def test_until_before_since_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="before --since"):
        usage_cli(["usage", "--since", "2026-11-20", "--until", "2026-11-01"])


def test_usage_on_an_empty_ledger_is_a_friendly_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert usage_cli(["usage"]) == 0
    assert capsys.readouterr().out == usage.EMPTY + "\n"


def test_a_bad_since_is_one_clear_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        usage_cli(["usage", "--since", "yesterday"])
    assert exit_info.value.code == 2
    assert "'yesterday' is not a date like 2026-11-01" in capsys.readouterr().err


def test_export_json_to_a_file(user_ledger: Ledger, tmp_path: Path) -> None:
    user_ledger.write([record()])
    target = tmp_path / "out.json"
    assert usage_cli(["usage", "export", "--format", "json", "-o", str(target)]) == 0
    assert json.loads(target.read_text())[0]["app"] == "editor"


def test_export_csv_to_stdout(user_ledger: Ledger, capsys: pytest.CaptureFixture[str]) -> None:
    user_ledger.write([record()])
    assert usage_cli(["usage", "export", "--format", "csv"]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.startswith("id,ts,day,source,app") and ",editor," in row


def test_usage_since_before_export_applies_to_the_export(
    user_ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    user_ledger.write([record(), record(timestamp=DAY - timedelta(days=5))])
    assert usage_cli(["usage", "--since", "2026-11-20", "export", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1


def test_export_in_an_unknown_format_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        usage_cli(["usage", "export", "--format", "xml"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'xml'" in capsys.readouterr().err


def test_export_to_an_unwritable_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"Could not write .* choose another file"):
        usage_cli(["usage", "export", "-o", str(tmp_path / "missing" / "out.csv")])


def test_prune_reports_what_it_deleted(
    user_ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    user_ledger.write([record(timestamp=now - timedelta(days=100)), record(timestamp=now)])
    assert usage_cli(["usage", "prune", "--older-than", "30"]) == 0
    assert capsys.readouterr().out == "Deleted 1 row(s) older than 30 days.\n"


def test_prune_needs_a_positive_number_of_days(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        usage_cli(["usage", "prune", "--older-than", "0"])
    assert exit_info.value.code == 2


def test_calls_to_unpriced_models_get_their_own_column(
    user_ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    unpriced = record(model="ft:custom", cost_usd=Decimal(0), unpriced=True)
    user_ledger.write([record(), unpriced, record(model="ft:custom", unpriced=True)])
    assert usage_cli(["usage", "--by", "model"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[-1] == "unpriced"
    assert lines[1].split()[0] == "ft:custom" and lines[1].split()[-1] == "2"
    assert lines[-1].split()[0] == "total" and lines[-1].split()[-1] == "2"


def test_without_unpriced_calls_there_is_no_unpriced_column(
    user_ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    user_ledger.write([record()])
    assert usage_cli(["usage"]) == 0
    assert "unpriced" not in capsys.readouterr().out


def test_usage_json_counts_unpriced_calls(
    user_ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    user_ledger.write([record(unpriced=True)])
    assert usage_cli(["usage", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["unpriced"] == 1

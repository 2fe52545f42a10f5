"""``--self-test`` checks: each one line, failures caught and counted, nothing touches the net."""

from __future__ import annotations

import io

from promptready.selftest import (
    CHECKS,
    LAST_CHECKS,
    check_gateway,
    check_keyring,
    check_ledger,
    check_resources,
    check_tokens,
    run_checks,
    self_test,
)


def test_each_check_passes_on_a_fresh_install() -> None:
    assert "presets" in check_resources()
    assert "o200k_base counted" in check_tokens()
    assert "opened and migrated" in check_ledger()
    assert "answers" in check_keyring()
    assert "answered /health" in check_gateway()


def test_the_keyring_check_says_when_storage_is_not_secure() -> None:
    assert "NOT secure" in check_keyring()  # tests use keyrings.alt's plain file


def test_a_failing_check_is_a_fail_line_not_a_crash() -> None:
    def broken() -> str:
        raise OSError("disk on fire")

    (check,) = run_checks([("disk", broken)])
    assert not check.ok and check.line() == "FAIL disk       OSError: disk on fire"


def test_exit_code_is_non_zero_on_any_failure() -> None:
    def broken() -> str:
        raise RuntimeError("no")

    out = io.StringIO()
    assert self_test([("extra", broken)], out=out) == 1
    lines = out.getvalue().splitlines()
    assert len(lines) == len(CHECKS) + len(LAST_CHECKS) + 2 and lines[-1] == "1 check(s) failed"


def test_exit_code_is_zero_when_all_pass() -> None:
    out = io.StringIO()
    assert self_test(out=out) == 0
    assert out.getvalue().splitlines()[-1] == "all checks passed"


def test_a_bad_setting_is_a_fail_line_naming_it() -> None:
    from promptready.paths import app_paths
    from promptready.selftest import check_settings

    assert "every setting is default" in check_settings()
    path = app_paths().settings_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('[gateway]\nmonthly_cap_usd = "lots"\n', encoding="utf-8")
    out = io.StringIO()
    assert self_test(out=out) == 1
    line = next(x for x in out.getvalue().splitlines() if "settings" in x)
    assert line.startswith("FAIL") and "gateway.monthly_cap_usd" in line and "lots" in line

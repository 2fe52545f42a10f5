"""``promptready --self-test``: can this installation work, with no network at all?

Each check returns one line; any failure makes the exit code non-zero. The desktop window check
lives in ``ui/`` (it needs Qt) and is passed in by the caller.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO


@dataclass(frozen=True)
class Check:
    """One named check and what it found."""

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name:<10} {self.detail}"


Probe = Callable[[], str]  # returns the detail on success, raises on failure


def check_resources() -> str:
    """Shipped data loads: provider presets, rate card, presets and the offline enhancer."""
    from promptready.engine import Engine
    from promptready.presets import builtin_presets
    from promptready.pricing import load_rate_card
    from promptready.providers.presets import presets
    from promptready.resources import resources_dir

    card = load_rate_card()
    result = Engine().enhance("write a haiku about tea", mode="offline")
    return (
        f"{resources_dir()}: {len(presets())} providers, {len(card.models)} priced models, "
        f"{len(builtin_presets())} presets, offline enhancer ({result.analysis.task.value})"
    )


def check_tokens() -> str:
    """tiktoken counts from the shipped files (never downloads)."""
    from promptready import tokens

    count = tokens.count_text("PromptReady counts tokens offline.", "gpt-4o")
    return f"{count.encoding} counted {count.tokens} tokens offline"


def check_ledger() -> str:
    """The usage ledger opens and is migrated to the current schema."""
    from promptready.ledger.store import Ledger
    from promptready.paths import app_paths

    path = app_paths().ledger_file
    ledger = Ledger(path)
    try:
        spend = ledger.month_spend()
    finally:
        ledger.close()
    return f"{path} opened and migrated; ${spend} spent this month"


def check_keyring() -> str:
    """The keyring backend answers, and whether it stores keys securely."""
    from promptready.secrets import SecretStore

    store = SecretStore()
    count = len(store.providers())
    info = store.info()
    security = "secure" if info.secure else "NOT secure: keys are stored in a plain file"
    return f"{info.name} answers ({count} keys, {security})"


def check_gateway() -> str:
    """The local API binds a loopback port and answers /health, then stops cleanly."""
    import httpx

    from promptready.engine import Engine
    from promptready.gateway.background import BackgroundGateway

    gateway = BackgroundGateway(0, Engine(source="gateway"))
    url = gateway.start()
    try:
        status = httpx.get(f"{url}/health", timeout=5).json()["status"]
    finally:
        gateway.stop()
    if status != "ok":
        raise RuntimeError(f"/health answered {status!r}")
    return f"listened on {url} and answered /health"


def check_files() -> str:
    """Every folder PromptReady keeps is 0700 and every file in them 0600 (prompts, usage and
    tokens are the user's alone)."""
    from promptready.paths import app_paths, too_open

    roots = [root for root in app_paths().private_roots() if root.exists()]
    found = [path for root in roots for path in too_open(root)]
    if found:
        shown = ", ".join(str(p) for p in found[:3]) + (" …" if len(found) > 3 else "")
        raise PermissionError(
            f"{len(found)} file(s) or folder(s) other users can read ({shown}); "
            f"run: chmod -R go-rwx {' '.join(str(r) for r in roots)}"
        )
    if sys.platform == "win32":
        return "not checked on Windows (its folders are private to the user by default)"
    return f"every file private in {', '.join(str(r) for r in roots)} (folders 0700, files 0600)"


def check_settings() -> str:
    """settings.toml parses and every value fits its declaration (a bad one is named)."""
    from promptready.errors import ConfigError
    from promptready.paths import app_paths
    from promptready.settings import load_settings

    path = app_paths().settings_file
    loaded = load_settings(path)
    if loaded.problems:
        raise ConfigError("; ".join(loaded.problems))
    return f"{path} is valid" if path.exists() else f"no {path.name} yet: every setting is default"


def check_credits(environ: Mapping[str, str] = os.environ) -> str:
    """The credit service answers /healthz; skipped unless its address was configured (the
    built-in address is not checked, so the self-test stays offline by default)."""
    import httpx

    from promptready.paths import app_paths
    from promptready.providers.credits import URL_ENV, service_url
    from promptready.settings import DEFAULT_CREDITS_URL, load_settings

    url = service_url(load_settings(app_paths().settings_file).settings.credits, environ)
    if url == DEFAULT_CREDITS_URL and not environ.get(URL_ENV, "").strip():
        return f"skipped: no credit service configured (credits.url or {URL_ENV})"
    answer = httpx.get(f"{url.rstrip('/')}/healthz", timeout=5)
    if answer.status_code != 200:
        raise RuntimeError(f"{url}/healthz answered {answer.status_code}")
    return f"the credit service at {url} answers /healthz"


CHECKS: tuple[tuple[str, Probe], ...] = (
    ("settings", check_settings),
    ("resources", check_resources),
    ("tokens", check_tokens),
    ("ledger", check_ledger),
    ("keyring", check_keyring),
    ("gateway", check_gateway),
    ("credits", check_credits),
)
# After every other check, the caller's too: it covers the files they wrote.
LAST_CHECKS: tuple[tuple[str, Probe], ...] = (("files", check_files),)


def run_checks(checks: Sequence[tuple[str, Probe]]) -> list[Check]:
    """Run every check, catching each failure as its own line."""
    results = []
    for name, probe in checks:
        try:
            results.append(Check(name, True, probe()))
        except Exception as exc:  # a failed check is reported, never a crash of the self-test
            results.append(Check(name, False, f"{type(exc).__name__}: {exc}"))
    return results


def self_test(extra: Sequence[tuple[str, Probe]] = (), out: TextIO | None = None) -> int:
    """Print one line per check; 0 when all pass, 1 otherwise."""
    out = out or sys.stdout
    failed = 0
    for check in run_checks([*CHECKS, *extra, *LAST_CHECKS]):
        print(check.line(), file=out, flush=True)
        failed += not check.ok
    print(f"{'all checks passed' if not failed else f'{failed} check(s) failed'}", file=out)
    return 0 if not failed else 1

"""Screenshots of the desktop windows for the README, from real data in a temporary home:
ledger rows, two app tokens, a stored key, a few history entries and a real offline enhancement.
The credits ones are a new user's (no key, credits mode) against a real ``promptready-cloud`` on
loopback started here, with billing on and the tests' Stripe stand-in.

Run under a display, e.g. ``xvfb-run -a -s "-screen 0 1400x1000x24" .venv/bin/python
bench/screenshots.py [light|dark] [--credits | --no-credits]``; PNGs go to docs/screenshots/
(dark ones end in ``-dark``). ``--credits`` takes only the credits shots, ``--no-credits`` all but
them (their files have another owner).
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from promptready.ui.popup import EnhancePopup
    from promptready.ui.usage.window import UsageWindow

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
ROUGH = (
    "write a python script that renames my photos by the date they were taken, "
    "skip files without exif"
)


_HOME_VARS = ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")


def isolate(tmp: Path) -> None:
    """Everything (settings, ledger, keyring file) under ``tmp``; the real home is untouched."""
    os.environ["PROMPTREADY_HOME"] = str(tmp / "promptready")
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"
    for var in _HOME_VARS:
        os.environ[var] = str(tmp / var.lower())


@contextmanager
def new_user() -> Iterator[Path]:
    """A home of its own, as a new user without a key has it, for the time of the block."""
    saved = {var: os.environ[var] for var in ("PROMPTREADY_HOME", *_HOME_VARS)}
    with tempfile.TemporaryDirectory() as tmp:
        isolate(Path(tmp))
        try:
            yield Path(tmp)
        finally:
            os.environ.update(saved)


def seed() -> None:
    from promptready.history import History
    from promptready.ledger.records import UsageRecord
    from promptready.ledger.store import Ledger
    from promptready.local_api import AppLimits, LocalApi
    from promptready.paths import app_paths
    from promptready.secrets import ApiKey, SecretStore

    rng = random.Random(7)
    now = datetime.now(UTC).replace(hour=15, minute=0, second=0, microsecond=0)
    models = [("openai", "gpt-4o-mini", "0.0004"), ("openai", "gpt-4o", "0.006"),
              ("groq", "llama-3.1-8b-instant", "0.0001"), ("deepseek", "deepseek-chat", "0.0009")]  # fmt: skip
    rows = []
    for _ in range(160):
        provider, model, unit = rng.choice(models)
        app = rng.choice(["editor", "notebook", "agent", None])
        prompt, completion = rng.randint(80, 2400), rng.randint(40, 900)
        rows.append(
            UsageRecord(
                source="gateway" if app else "popup",
                mode="byok",
                app=app,
                provider=provider,
                model=model,
                prompt_tokens=prompt,
                completion_tokens=completion,
                cost_usd=(Decimal(unit) * (prompt + completion) / 1000).quantize(
                    Decimal("0.000001")
                ),
                latency_ms=rng.uniform(300, 2500),
                timestamp=now
                - timedelta(days=rng.randint(0, now.day - 1), minutes=rng.randint(0, 600)),
            )
        )
    ledger = Ledger(app_paths().ledger_file)
    ledger.write(rows)
    ledger.close()
    SecretStore().set_key("openai", ApiKey("sk-demo-not-a-real-key-4f2a"))
    api = LocalApi()
    api.create("editor", AppLimits(budget_usd_day=Decimal("1.00"), budget_usd_month=Decimal("20")))
    api.create("notebook", AppLimits(budget_usd_month=Decimal("5")))
    history = History(app_paths().data_dir / "history.sqlite3")
    for text in ("email to my landlord about the broken heater, polite but firm",
                 "summarize this meeting transcript for the team",
                 "explain the difference between tcp and udp"):  # fmt: skip
        history.add("offline", "plain", text, "…")
    history.close()


def main() -> None:
    theme = sys.argv[1] if len(sys.argv) > 1 else "light"
    only_credits = "--credits" in sys.argv[2:]
    credits = "--no-credits" not in sys.argv[2:]
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        isolate(Path(tmp))
        seed()
        shoot(theme, only_credits, credits)


Save = Callable[["QWidget", str], None]
Settle = Callable[..., Awaitable[None]]


async def shoot_raw_result(popup: EnhancePopup, save: Save, settle: Settle) -> None:
    """The Result tab with the Raw text toggle on (the rendered view is the popup shot)."""
    popup.tabs.result.show_raw(True)
    await settle()
    save(popup, "popup-raw")
    popup.tabs.result.show_raw(False)


async def shoot_usage_measures(usage: UsageWindow, save: Save, settle: Settle) -> None:
    """The usage charts of tokens and of money (enhancements is the usage shot)."""
    for name in ("Tokens", "Money"):
        usage.measure.setCurrentIndex(usage.measure.findText(name))
        await settle()
        save(usage, f"usage-{name.lower()}")
    usage.measure.setCurrentIndex(0)


def shoot(theme: str, only_credits: bool = False, credits: bool = True) -> None:
    import qasync
    from PySide6.QtWidgets import QApplication

    from promptready.ui.context import DesktopContext
    from promptready.ui.popup import EnhancePopup
    from promptready.ui.settings.window import SettingsWindow
    from promptready.ui.theme import apply_theme
    from promptready.ui.usage.window import UsageWindow

    app = QApplication(sys.argv[:1])
    app.setApplicationName("PromptReady")
    apply_theme(app, theme)
    suffix = "-dark" if theme == "dark" else ""
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    context = DesktopContext.load()

    async def settle(seconds: float = 0.4) -> None:
        await asyncio.sleep(seconds)

    def save(widget: QWidget, name: str) -> None:
        widget.grab().save(str(OUT / f"{name}{suffix}.png"))
        print(f"wrote docs/screenshots/{name}{suffix}.png")

    async def run() -> None:
        if credits:
            await shoot_credits(save, settle)
        if only_credits:
            await context.aclose()
            return
        popup = EnhancePopup(context)
        popup.resize(1100, 760)
        popup.show()
        popup.input.setPlainText(ROUGH)
        popup.start_enhance()
        while popup.last_result is None:
            await settle(0.05)
        while not popup.counter.text():  # the first count loads tiktoken off the UI thread
            await settle(0.05)
        save(popup, "popup")
        await shoot_raw_result(popup, save, settle)
        popup.tabs.setCurrentIndex(1)
        await settle()
        save(popup, "popup-changes")
        popup.input.setPlainText("email to my landlord about the broken heater, polite but firm")
        popup.start_enhance()
        while popup.task is not None and not popup.task.done():
            await settle(0.05)
        popup.tabs.setCurrentIndex(3)
        await settle()
        save(popup, "popup-hints")
        popup.hide()

        settings = SettingsWindow(context)
        settings.resize(820, 660)
        settings.show()
        settings.presets.list.setCurrentRow(2)  # a built-in with a template and a tone
        for key in ("keys", "local_api", "presets", "privacy", "general"):
            settings.show_tab(key)
            await settle()
            save(settings, f"settings-{key.replace('_', '-')}")
        settings.hide()

        usage = UsageWindow(context)
        usage.resize(1100, 780)
        usage.refresh()
        usage.show()
        await settle()
        save(usage, "usage")
        await shoot_usage_measures(usage, save, settle)
        usage.hide()
        await context.aclose()

    with loop:
        loop.run_until_complete(run())


@contextmanager
def credit_service(home: Path) -> Iterator[tuple[str, Callable[[int], None]]]:
    """A real ``promptready-cloud`` on a loopback port (SQLite under ``home``; billing on, its
    Stripe the tests' stand-in; no upstream call made), and a way to grant this device credits
    through its admin command."""
    sys.path.insert(0, str(ROOT))  # the tests' Stripe stand-in
    from tests.cloud.billing.stripe_standin import StripeStandin

    with StripeStandin() as stripe:
        env = {
            **os.environ,
            "PROMPTREADY_CLOUD_DATABASE_URL": f"sqlite:///{home / 'cloud.sqlite3'}",
            "PROMPTREADY_CLOUD_JWT_SECRET": secrets.token_urlsafe(48),
            "PROMPTREADY_CLOUD_UPSTREAM_BASE_URL": "http://127.0.0.1:9/v1",  # no chat is sent
            "STRIPE_API_KEY": "sk_test_screenshots",
            "STRIPE_WEBHOOK_SECRET": "whsec_screenshots",
            "STRIPE_API_BASE": stripe.url,
        }
        command = [sys.executable, "-m", "promptready.cloud"]
        server = subprocess.Popen(
            [*command, "serve", "--port", "0"], env=env, stdout=subprocess.PIPE, text=True
        )
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line.startswith("listening on "):
            server.kill()
            raise SystemExit(f"promptready-cloud did not start: {line!r}")

        def grant(credits: int) -> None:
            from promptready.paths import app_paths
            from promptready.providers.credits_auth import device_id

            device = str(device_id(app_paths().data_dir))
            admin = [*command, "admin", "grant", device, str(credits), "--reason", "screenshots"]
            subprocess.run(admin, env=env, check=True, stdout=subprocess.DEVNULL)

        try:
            yield line.removeprefix("listening on ").strip(), grant
        finally:
            server.terminate()
            server.wait(10)


async def shoot_credits(save: Save, settle: Settle) -> None:
    """The balance pill in its three colours, the zero-balance dialog, Settings → Credits and
    the Local API tab's credits models, for a new user without a key in credits mode, against a
    real credit service on loopback: every balance is the service's answer."""
    from promptready.providers.credits import URL_ENV
    from promptready.ui.context import DesktopContext
    from promptready.ui.credits.modes import Choice, choose
    from promptready.ui.credits.watch import CreditsWatch
    from promptready.ui.credits.zero_dialog import ZeroBalanceDialog
    from promptready.ui.popup import EnhancePopup
    from promptready.ui.settings.credits_tab import CreditsTab
    from promptready.ui.settings.window import SettingsWindow

    with new_user() as home, credit_service(home) as (url, grant):
        os.environ[URL_ENV] = url
        context = DesktopContext.load()
        choose(context, Choice.CREDITS)  # as tray → Mode → Credits does
        watch = CreditsWatch(context)

        async def balance() -> None:
            task = watch.refresh(always=True)
            if task is not None:
                await task

        try:
            popup = EnhancePopup(context, watch)
            popup.resize(1100, 760)
            popup.show()
            popup.input.setPlainText(ROUGH)
            await balance()  # registers this device: its free credits
            grants = (("red", 60), ("orange", 180), ("green", 480))
            for level, target in grants:
                assert watch.wallet is not None
                grant(target - watch.wallet.credits_remaining)
                await balance()
                await settle(0.4)
                save(popup, f"credits-pill-{level}")
            dialog = ZeroBalanceDialog(watch, popup)
            dialog.show()
            await settle(0.4)
            save(dialog, "credits-zero-dialog")
            dialog.hide()
            popup.hide()
            tab = CreditsTab(context, watch)
            tab.resize(760, 520)
            tab.load(context.settings)
            tab.show()
            await balance()
            if tab.auto_reload_read is not None:
                await tab.auto_reload_read
            await settle(0.4)
            save(tab, "settings-credits")
            tab.hide()
            settings = SettingsWindow(context, watch)
            settings.resize(820, 660)
            settings.show()
            settings.show_tab("local_api")
            while (
                settings.local_api.models_task is None or not settings.local_api.models_task.done()
            ):
                await settle(0.05)
            await settle(0.4)
            save(settings, "settings-local-api-credits")
            settings.hide()
        finally:
            await context.aclose()
            del os.environ[URL_ENV]


if __name__ == "__main__":
    main()

"""Everything PromptReady writes under a fresh PROMPTREADY_HOME is private from birth: after the
CLI (enhance, keys, tokens, usage, a crash), the gateway (a metered request) and the popup (an
enhancement kept in history), every folder is 0700 and every file 0600, under the usual 022
umask that would otherwise make them 0755 and 0644."""

from __future__ import annotations

import asyncio
import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import qasync
from PySide6.QtWidgets import QApplication

from promptready.cli import main
from promptready.engine import open_engine
from promptready.gateway.background import BackgroundGateway
from promptready.paths import app_paths, private_file
from promptready.selftest import check_files
from tests.fakes.upstream import FakeUpstream

ROUGH = "write a python script that renames photos by date"


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The common 022 umask: without explicit modes files would be world-readable."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def modes(root: Path) -> dict[str, str]:
    """Every folder and file under ``root`` (itself included), with its permission bits."""
    found = {".": oct(stat.S_IMODE(root.stat().st_mode))}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = oct(stat.S_IMODE(path.stat().st_mode))
    return found


def assert_private(root: Path) -> None:
    for name, mode in modes(root).items():
        want = "0o700" if (root / name).is_dir() else "0o600"
        assert mode == want, f"{name} is {mode}"


def use_the_cli(
    upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    """Enhance, store a key, make a token, read usage, hit a bug; returns the token."""
    assert main(["enhance", ROUGH]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("sk-private-files-0123456789\n"))
    assert main(["keys", "set", "fake", "--base-url", upstream.base_url]) == 0
    capsys.readouterr()
    assert main(["tokens", "create", "editor"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["usage"]) == 0

    def explode(*_: object, **__: object) -> None:
        raise RuntimeError("boom")

    with monkeypatch.context() as patched:
        patched.setattr("promptready.engine.Engine.enhance", explode)
        assert main(["enhance", ROUGH]) == 1  # a bug: a crash report is written
    return token


def use_the_gateway(token: str, root: Path) -> None:
    """One metered request; the ledger and its -wal/-shm are checked while they are open."""
    gateway = BackgroundGateway(0, open_engine("gateway")[0])
    url = gateway.start()
    try:
        body = {"model": "fake/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
        response = httpx.post(
            f"{url}/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.text
        names = modes(root)
        assert "data/ledger.sqlite3-wal" in names and "data/ledger.sqlite3-shm" in names
        assert_private(root)
    finally:
        gateway.stop()


def use_the_popup(qapp: QApplication) -> None:
    """An offline enhancement in the popup, kept in history."""
    from promptready.ui.context import DesktopContext
    from promptready.ui.popup import EnhancePopup

    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    try:
        context = DesktopContext.load()
        popup = EnhancePopup(context)
        popup.input.setPlainText(ROUGH)
        popup.start_enhance()

        async def finished() -> None:
            while popup.task is None or not popup.task.done():
                await asyncio.sleep(0.01)

        loop.run_until_complete(asyncio.wait_for(finished(), 20))
        assert popup.last_result is not None
        popup.close()
        popup.deleteLater()
        loop.run_until_complete(context.aclose())
    finally:
        loop.close()
        asyncio.set_event_loop(None)


def test_every_file_the_app_writes_is_0600_in_0700_folders(
    upstream: FakeUpstream,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    qapp: QApplication,
) -> None:
    root = Path(os.environ["PROMPTREADY_HOME"])
    token = use_the_cli(upstream, monkeypatch, capsys)
    use_the_gateway(token, root)
    use_the_popup(qapp)
    written = set(modes(root))
    for expected in (
        "config/settings.toml",
        "config/apps.toml",
        "data/ledger.sqlite3",
        "data/history.sqlite3",
        "logs/crash.log",
    ):
        assert expected in written
    assert_private(root)
    assert "every file private in" in check_files()


def test_the_self_test_names_a_file_others_can_read() -> None:
    ledger = private_file(app_paths().ledger_file)
    ledger.chmod(0o644)  # as an older version left it
    with pytest.raises(PermissionError, match="other users can read") as found:
        check_files()
    assert str(ledger) in str(found.value)


def test_a_file_left_readable_by_an_older_version_is_narrowed_when_opened() -> None:
    ledger = app_paths().ledger_file
    ledger.parent.mkdir(parents=True)
    ledger.write_bytes(b"")
    wal = ledger.with_name(ledger.name + "-wal")
    wal.write_bytes(b"")
    for path in (ledger, wal):
        path.chmod(0o644)
    private_file(ledger)
    assert stat.S_IMODE(ledger.stat().st_mode) == 0o600
    assert stat.S_IMODE(wal.stat().st_mode) == 0o600

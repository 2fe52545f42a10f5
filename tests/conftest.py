"""Test-wide guards: every test gets its own PROMPTREADY_HOME and a file keyring in a temp dir,
and no test may touch the real home directory."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from tests.cloud.databases import Templates, drop_stale
from tests.fakes.upstream import FakeUpstream, serve

# pytest-qt's QApplication is made once per session, before any per-test fixture: no display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Point PROMPTREADY_HOME, HOME and the XDG dirs at a fresh temp dir for each test."""
    root = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("PROMPTREADY_HOME", str(root / "promptready"))
    monkeypatch.setenv("HOME", str(root))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, str(root / var.lower()))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    yield root


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    """A fake OpenAI-compatible upstream on a real loopback port; ``.base_url`` ends in /v1."""
    fake = FakeUpstream()
    with serve(fake) as url:
        fake.base_url = f"{url}/v1"
        yield fake


@pytest.fixture(scope="session")
def db_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    """Migrated database templates shared by the session (the cloud and e2e tests copy them);
    databases that crashed sessions left on the PostgreSQL server are dropped first."""
    with contextlib.suppress(OSError, DBAPIError):  # no server: postgresql cases skip
        drop_stale()
    templates = Templates(tmp_path_factory.mktemp("db-templates"))
    yield templates
    templates.close()

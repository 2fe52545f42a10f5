"""The one test against a real Secret Service keyring (gnome-keyring on a private D-Bus session).

CI installs gnome-keyring and dbus; elsewhere the test is skipped unless CI is set, where a
missing keyring is a failure rather than a silent skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

KEY = "sk-secret-service-0123456789-SECRET"
PROBE = f"""
from keyring.backends.SecretService import Keyring
from promptready.secrets import ApiKey, SecretStore

store = SecretStore(Keyring())
info = store.info()
assert info.secure, info
store.set_key("openai", ApiKey({KEY!r}))
assert store.get_key("openai").reveal() == {KEY!r}
assert store.providers() == ["openai"]
assert store.delete_key("openai") is True
assert store.get_key("openai") is None
print("secret-service ok", info.name)
"""


def test_keys_round_trip_through_a_real_secret_service() -> None:
    tools = ("dbus-run-session", "gnome-keyring-daemon")
    if not all(shutil.which(tool) for tool in tools):
        if os.environ.get("CI"):
            pytest.fail("CI must install gnome-keyring and dbus for the Secret Service test")
        pytest.skip("gnome-keyring and dbus-run-session are not installed")
    script = (
        "echo -n unlock | gnome-keyring-daemon --unlock --components=secrets >/dev/null && "
        f'exec "{sys.executable}" -c "$PROBE"'
    )
    done = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", script],
        env={**os.environ, "PROBE": PROBE, "PYTHON_KEYRING_BACKEND": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "secret-service ok keyring.backends.SecretService.Keyring" in done.stdout
    assert KEY not in done.stdout + done.stderr

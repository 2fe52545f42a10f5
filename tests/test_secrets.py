"""Provider keys in the keyring: stored, listed, removed, never shown, clear errors."""

from __future__ import annotations

import logging

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import KeyringLocked
from keyrings.alt.file import PlaintextKeyring

from promptready.secrets import ApiKey, SecretsError, SecretStore, check_provider_name

SECRET = "sk-test-0123456789abcdefSECRET"


class LockedKeyring(KeyringBackend):
    """A backend that behaves like a locked OS keyring, and puts the secret in its errors."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked(f"locked while reading {username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked(f"locked, could not store {password}")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("locked")


@pytest.fixture
def store() -> SecretStore:
    return SecretStore(PlaintextKeyring())


def test_a_stored_key_reads_back(store: SecretStore) -> None:
    store.set_key("openai", ApiKey(SECRET))
    key = store.get_key("openai")
    assert key is not None and key.reveal() == SECRET


def test_missing_key_reads_as_none(store: SecretStore) -> None:
    assert store.get_key("groq") is None


def test_providers_lists_every_stored_key_once(store: SecretStore) -> None:
    store.set_key("openai", ApiKey(SECRET))
    store.set_key("groq", ApiKey(SECRET + "2"))
    store.set_key("openai", ApiKey(SECRET + "3"))
    assert store.providers() == ["groq", "openai"]


def test_delete_removes_the_key_and_its_listing(store: SecretStore) -> None:
    store.set_key("openai", ApiKey(SECRET))
    assert store.delete_key("openai") is True
    assert store.get_key("openai") is None
    assert store.providers() == []
    assert store.delete_key("openai") is False


def test_key_is_never_in_repr_or_str() -> None:
    key = ApiKey(SECRET)
    assert SECRET not in repr(key) and SECRET not in str(key) and SECRET not in f"{key}"
    assert repr(key).endswith("CRET)")


def test_key_is_trimmed_of_surrounding_whitespace() -> None:
    assert ApiKey(f"  {SECRET}\n").reveal() == SECRET


@pytest.mark.parametrize("bad", ["", "   ", "sk abc", "sk-\x00abc"])
def test_blank_or_garbled_keys_are_refused(bad: str) -> None:
    with pytest.raises(SecretsError):
        ApiKey(bad)


@pytest.mark.parametrize("bad", ["", "a b", "../etc", "x" * 65, "Ünïcode"])
def test_bad_provider_names_are_refused_with_the_rule(bad: str) -> None:
    with pytest.raises(SecretsError, match="lowercase letters"):
        check_provider_name(bad)


def test_provider_names_are_case_insensitive(store: SecretStore) -> None:
    store.set_key("OpenAI", ApiKey(SECRET))
    assert store.get_key("openai") is not None


def test_locked_keyring_says_how_to_fix_it_without_leaking_the_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SecretsError) as err:
        SecretStore(LockedKeyring()).set_key("openai", ApiKey(SECRET))
    message = str(err.value)
    assert "locked" in message and "PYTHON_KEYRING_BACKEND" in message
    assert SECRET not in message
    assert err.value.__cause__ is None and err.value.__context__ is None
    assert SECRET not in caplog.text


def test_no_keyring_at_all_is_a_clear_error() -> None:
    with pytest.raises(SecretsError, match="no keyring is available"):
        SecretStore(fail.Keyring()).get_key("openai")


def test_plaintext_backend_is_flagged_insecure_with_a_warning(store: SecretStore) -> None:
    info = store.info()
    assert info.secure is False
    assert info.warning is not None and "not a secure OS keyring" in info.warning


def test_os_backend_counts_as_secure() -> None:
    info = SecretStore(LockedKeyring()).info()
    assert info.secure is True and info.warning is None


def test_default_backend_follows_python_keyring_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    backend = keyring.core.load_env()
    assert backend is not None
    keyring.set_keyring(backend)
    try:
        assert SecretStore().info().name == "keyring.backends.fail.Keyring"
    finally:
        keyring.core._keyring_backend = None  # let the next test resolve its own backend


def test_damaged_index_is_ignored_and_rebuilt(store: SecretStore) -> None:
    store.backend.set_password("PromptReady", "__providers__", "{not json")
    assert store.providers() == []
    store.set_key("openai", ApiKey(SECRET))
    assert store.providers() == ["openai"]

"""The settings window: keys in the keyring, local API tokens, presets, privacy, general."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from decimal import Decimal

import pytest
from PySide6.QtGui import QGuiApplication

from promptready.paths import app_paths
from promptready.secrets import SecretStore
from promptready.settings import load_settings
from promptready.ui.context import DesktopContext
from promptready.ui.settings.window import SettingsWindow
from tests.fakes.upstream import FakeUpstream
from tests.ui.conftest import KEY, Loop, until


@pytest.fixture
def window(context: DesktopContext) -> Iterator[SettingsWindow]:
    window = SettingsWindow(context)
    window.show()
    yield window
    window.close()
    window.deleteLater()


def saved_settings_text() -> str:
    return app_paths().settings_file.read_text()


def test_every_tab_is_there(window: SettingsWindow) -> None:
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert titles == ["AI keys", "Local API", "Presets", "Privacy", "General", "Credits"]


def test_providers_come_from_the_presets(window: SettingsWindow) -> None:
    tree = window.keys.providers
    rows = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    shown = {item.text(0): item.text(1) for item in rows if item is not None}
    assert shown["OpenAI"] == "no key" and shown["Ollama (local)"] == "no key needed"


def test_a_saved_key_goes_to_the_keyring_and_shows_masked(window: SettingsWindow) -> None:
    keys = window.keys
    keys.select("openai")
    keys.key.setText(KEY)
    keys.save_button.click()
    assert SecretStore().get_key("openai") is not None
    assert SecretStore().get_key("openai").reveal() == KEY  # type: ignore[union-attr]
    assert keys.key.text() == ""  # never lingers in the widget
    current = keys.providers.currentItem()
    assert current is not None and current.text(1) == "…CRET"
    assert KEY not in keys.verdict.text() and "…CRET" in keys.verdict.text()


def test_a_blank_key_is_refused_with_a_reason(window: SettingsWindow) -> None:
    window.keys.select("openai")
    window.keys.key.setText("   ")
    window.keys.save_button.click()
    assert "empty" in window.keys.verdict.text()
    assert SecretStore().get_key("openai") is None


def test_removing_a_key_after_saying_yes(window: SettingsWindow) -> None:
    window.keys.select("groq")
    window.keys.key.setText(KEY)
    window.keys.save_button.click()
    window.keys.remove_button.click()
    assert window.keys.confirm is not None
    window.keys.confirm.button(window.keys.confirm.StandardButton.Yes).click()
    assert SecretStore().get_key("groq") is None
    assert "Removed the groq key" in window.keys.verdict.text()


def custom_provider_window(upstream: FakeUpstream, context: DesktopContext) -> SettingsWindow:
    ai = dataclasses.replace(context.settings.ai, custom_providers={"fake": upstream.base_url})
    context.save_settings(dataclasses.replace(context.settings, ai=ai))
    window = SettingsWindow(context)
    window.keys.select("fake")
    window.keys.key.setText(KEY)
    window.keys.save_button.click()
    return window


def test_test_button_reports_a_working_key(
    upstream: FakeUpstream, context: DesktopContext, qloop: Loop
) -> None:
    window = custom_provider_window(upstream, context)
    window.keys.test_button.click()
    qloop.run(until(lambda: not window.keys.testing))
    assert window.keys.verdict.text() == "valid: The fake key works (2 models)."
    assert upstream.seen[-1].headers["authorization"] == f"Bearer {KEY}"


def test_test_button_reports_a_rejected_key(
    upstream: FakeUpstream, context: DesktopContext, qloop: Loop
) -> None:
    upstream.valid_keys = frozenset({"another"})
    window = custom_provider_window(upstream, context)
    window.keys.test_button.click()
    qloop.run(until(lambda: not window.keys.testing))
    assert window.keys.verdict.text() == "invalid key: fake rejected the key; paste it again."


def test_testing_a_provider_without_a_key_says_how_to_add_one(
    window: SettingsWindow, qloop: Loop
) -> None:
    window.keys.select("openai")
    window.keys.test_button.click()
    qloop.run(until(lambda: not window.keys.testing))
    assert "No key for openai" in window.keys.verdict.text()


def test_models_are_saved_to_settings(window: SettingsWindow) -> None:
    keys = window.keys
    keys.provider.setCurrentIndex(keys.provider.findData("groq"))
    keys.model.setText("llama-3.3-70b-versatile")
    keys.enhance_model.setText("groq/llama-3.1-8b-instant")
    window.save()
    ai = load_settings(app_paths().settings_file).settings.ai
    assert (ai.provider, ai.model, ai.enhance_model) == (
        "groq",
        "llama-3.3-70b-versatile",
        "groq/llama-3.1-8b-instant",
    )
    assert window.message.text() == "Saved."


def test_a_token_is_shown_once_copied_and_revoked(window: SettingsWindow) -> None:
    window.show_tab("local_api")
    tab = window.local_api
    tab.name.setText("editor")
    tab.day.setText("1.50")
    tab.create_button.click()
    token = tab.token.text()
    assert token.startswith("pr-") and tab.token.isVisible()
    assert "shown only once" in tab.message.text()
    app = window.context.local_api.apps()[0]
    assert app.name == "editor" and app.limits.budget_usd_day == Decimal("1.50")
    assert window.context.local_api.registry.authenticate(token) is not None
    tab.copy_token.click()
    assert QGuiApplication.clipboard().text() == token
    assert token not in (app_paths().config_dir / "apps.toml").read_text()
    window.close()
    window.reload()
    assert tab.token.text() == "" and tab.token.isHidden()
    tab.apps.selectRow(0)
    assert tab.name.text() == "editor" and tab.day.text() == "1.50"
    tab.revoke_button.click()
    assert window.context.local_api.apps() == []
    assert window.context.local_api.registry.authenticate(token) is None
    assert tab.apps.rowCount() == 0


def test_budgets_of_an_app_can_be_changed(window: SettingsWindow) -> None:
    tab = window.local_api
    tab.name.setText("agent")
    tab.create_button.click()
    tab.month.setText("20")
    tab.budgets_button.click()
    (app,) = window.context.local_api.apps()
    assert app.limits.budget_usd_month == Decimal(20) and app.limits.budget_usd_day is None
    cell = tab.apps.item(0, 3)
    assert cell is not None and cell.text() == "$20"


def test_a_bad_budget_is_one_clear_sentence(window: SettingsWindow) -> None:
    tab = window.local_api
    tab.name.setText("agent")
    tab.day.setText("lots")
    tab.create_button.click()
    assert tab.message.text() == "The daily budget must be an amount like 5.00."
    assert window.context.local_api.apps() == []


def test_local_api_switch_and_port_are_saved(window: SettingsWindow) -> None:
    window.local_api.enabled.setChecked(True)
    window.local_api.port.setValue(9911)
    window.save()
    gateway = load_settings(app_paths().settings_file).settings.gateway
    assert gateway.enabled and gateway.port == 9911


def test_the_sdk_snippet_names_the_port(window: SettingsWindow) -> None:
    snippet = window.local_api.snippet.toPlainText()
    assert (
        'base_url="http://127.0.0.1:8788/v1"' in snippet and "from openai import OpenAI" in snippet
    )
    window.local_api.copy_snippet.click()
    assert QGuiApplication.clipboard().text() == snippet


def test_storing_prompts_is_off_by_default_and_can_be_turned_on(window: SettingsWindow) -> None:
    assert not window.privacy.store_prompts.isChecked()
    window.privacy.store_prompts.setChecked(True)
    window.save()
    assert load_settings(app_paths().settings_file).settings.privacy.store_prompts
    assert window.context.ledger.store_prompts


def test_hotkey_is_reported_unavailable_here(window: SettingsWindow) -> None:
    general = window.general
    assert not general.hotkey_enabled.isEnabled()
    assert "not available" in general.hotkey_note.text()


def test_start_at_login_writes_an_autostart_entry(window: SettingsWindow) -> None:
    from promptready import autostart

    window.general.start_at_login.setChecked(True)
    window.save()
    assert autostart.is_enabled()
    window.general.start_at_login.setChecked(False)
    window.save()
    assert not autostart.is_enabled()


def test_theme_follows_the_system_by_default(window: SettingsWindow) -> None:
    assert window.general.theme.currentData() == "system"
    window.general.theme.setCurrentIndex(window.general.theme.findData("dark"))
    window.save()
    assert 'theme = "dark"' in saved_settings_text()


def test_builtin_presets_are_read_only_and_clonable(window: SettingsWindow) -> None:
    tab = window.presets
    assert tab.current() is not None and tab.current().builtin  # type: ignore[union-attr]
    assert not tab.save_button.isEnabled() and tab.name.isReadOnly()
    tab.clone_button.click()
    clone = tab.current()
    assert clone is not None and not clone.builtin and clone.name == "plain-copy"
    tab.tone.setText("warm")
    tab.save_button.click()
    assert window.context.presets.get("plain-copy").tone == "warm"
    tab.delete_button.click()
    assert "plain-copy" not in {p.name for p in window.context.presets.all()}


def test_save_keeps_a_custom_provider_added_on_the_command_line_meanwhile(
    window: SettingsWindow,
) -> None:
    from promptready.cli import main

    assert (
        main(["config", "set", "ai.custom_providers", '{ mylab = "http://127.0.0.1:9/v1" }']) == 0
    )
    window.general.theme.setCurrentIndex(window.general.theme.findData("dark"))
    window.save()
    saved = load_settings(app_paths().settings_file).settings
    assert saved.ai.custom_providers == {"mylab": "http://127.0.0.1:9/v1"}
    assert saved.desktop.theme == "dark"


def test_save_keeps_settings_the_window_does_not_show(window: SettingsWindow) -> None:
    from promptready.cli import main

    main(["config", "set", "ai.routing", "cheapest"])
    main(["config", "set", "gateway.max_body_mb", "4"])
    window.save()
    saved = load_settings(app_paths().settings_file).settings
    assert saved.ai.routing == "cheapest" and saved.gateway.max_body_mb == 4


def test_a_change_made_on_the_command_line_reaches_the_running_app(
    context: DesktopContext, qloop: Loop
) -> None:
    from promptready.cli import main

    context.watch_settings()
    changed: list[bool] = []
    context.settings_changed.connect(lambda: changed.append(True))
    assert (
        main(["config", "set", "ai.custom_providers", '{ mylab = "http://127.0.0.1:9/v1" }']) == 0
    )
    qloop.run(until(lambda: changed))
    assert "mylab" in context.engine.registry.configs()
    main(["config", "set", "desktop.offline_only", "true"])
    qloop.run(until(lambda: context.offline_only))


def test_a_custom_provider_is_added_with_a_model_picked_from_its_list(
    window: SettingsWindow, upstream: FakeUpstream, qloop: Loop
) -> None:
    window.keys.add_button.click()
    dialog = window.keys.dialog
    assert dialog is not None and dialog.isVisible()
    dialog.name.setText("mylab")
    dialog.base_url.setText(upstream.base_url)
    dialog.key.setText(KEY)
    dialog.test_button.click()
    qloop.run(until(lambda: dialog.model.count() == 2))
    assert "works (2 models)" in dialog.verdict.text()
    assert upstream.seen[-1].headers["authorization"] == f"Bearer {KEY}"
    dialog.model.setCurrentIndex(dialog.model.findText("fake-gpt"))
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    ai = load_settings(app_paths().settings_file).settings.ai
    assert ai.custom_providers == {"mylab": upstream.base_url}
    assert ai.custom_models == {"mylab": "fake-gpt"}
    assert SecretStore().get_key("mylab").reveal() == KEY  # type: ignore[union-attr]
    assert window.keys.current_provider() == "mylab"
    assert window.keys.context.engine.registry.parse("mylab").model == "fake-gpt"


@pytest.mark.parametrize(
    ("name", "url", "words"),
    [
        ("openai", "https://example.test/v1", "built-in provider"),
        ("mylab", "ftp://example.test", "not a usable base URL"),
        ("bad name", "https://example.test/v1", "not a valid provider name"),
    ],
)
def test_a_bad_custom_provider_is_refused_with_a_reason(
    window: SettingsWindow, name: str, url: str, words: str
) -> None:
    window.keys.add_button.click()
    dialog = window.keys.dialog
    assert dialog is not None
    dialog.name.setText(name)
    dialog.base_url.setText(url)
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    assert words in dialog.verdict.text() and dialog.isVisible()
    assert load_settings(app_paths().settings_file).settings.ai.custom_providers == {}


def test_a_custom_provider_is_edited_keeping_its_key(
    upstream: FakeUpstream, context: DesktopContext
) -> None:
    window = custom_provider_window(upstream, context)
    window.keys.edit_button.click()
    dialog = window.keys.dialog
    assert dialog is not None and dialog.base_url.text() == upstream.base_url
    dialog.base_url.setText("http://127.0.0.1:9/v1")
    dialog.model.setEditText("other-model")
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    ai = load_settings(app_paths().settings_file).settings.ai
    assert ai.custom_providers == {"fake": "http://127.0.0.1:9/v1"}
    assert ai.custom_models == {"fake": "other-model"}
    assert SecretStore().get_key("fake") is not None


def test_remove_asks_first_and_cancel_keeps_the_key(window: SettingsWindow) -> None:
    window.keys.select("groq")
    window.keys.key.setText(KEY)
    window.keys.save_button.click()
    window.keys.remove_button.click()
    confirm = window.keys.confirm
    assert confirm is not None and confirm.isVisible() and "groq" in confirm.text()
    confirm.button(confirm.StandardButton.Cancel).click()
    assert SecretStore().get_key("groq") is not None


def test_removing_a_custom_provider_forgets_it(
    upstream: FakeUpstream, context: DesktopContext
) -> None:
    window = custom_provider_window(upstream, context)
    window.keys.remove_button.click()
    assert window.keys.confirm is not None
    window.keys.confirm.button(window.keys.confirm.StandardButton.Yes).click()
    assert load_settings(app_paths().settings_file).settings.ai.custom_providers == {}
    assert SecretStore().get_key("fake") is None
    assert "fake" not in context.engine.registry.configs()


def test_test_keeps_the_focus_on_its_button(
    upstream: FakeUpstream, context: DesktopContext, qloop: Loop
) -> None:
    window = custom_provider_window(upstream, context)
    window.show()
    window.activateWindow()
    window.keys.test_button.setFocus()
    window.keys.test_button.click()
    qloop.run(until(lambda: not window.keys.testing))
    assert window.focusWidget() is window.keys.test_button


def test_the_selection_hotkey_settings_are_saved(window: SettingsWindow) -> None:
    general = window.general
    assert general.selection_enabled.isChecked() and general.selection_preview.isChecked()
    general.selection_preview.setChecked(False)
    general.selection_hotkey.setKeySequence("Ctrl+Alt+R")
    window.save()
    desktop = load_settings(app_paths().settings_file).settings.desktop
    assert not desktop.selection_preview and desktop.selection_hotkey == "Ctrl+Alt+R"


def test_the_sdk_snippet_has_the_new_token_and_a_model_that_works(
    window: SettingsWindow,
) -> None:
    # No key yet: AI mode (and so the snippet) runs on PromptReady credits, which the local API
    # routes to the credit proxy.
    assert 'model="credits/default"' in window.local_api.snippet.toPlainText()
    window.local_api.name.setText("notebook")
    window.local_api.create_button.click()
    token = window.local_api.token.text()
    assert token and f'api_key="{token}"' in window.local_api.snippet.toPlainText()


def test_the_local_api_is_reported_running_when_another_process_serves(
    window: SettingsWindow,
) -> None:
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        settings = window.context.settings
        gateway = dataclasses.replace(settings.gateway, port=port)
        window.context.save_settings(dataclasses.replace(settings, gateway=gateway))
        window.local_api.refresh_state()
        assert window.local_api.state.text().startswith(f"Running at http://127.0.0.1:{port}")

"""Settings → Local API for a user of credits (AI mode, no key): the credit service's models are
listed, and the SDK snippet names ``credits/default``."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from promptready.ui.context import DesktopContext
from promptready.ui.settings.local_api_tab import LocalApiTab
from tests.ui.conftest import Loop
from tests.ui.credits.conftest import finished


def opened(qtbot: QtBot, qloop: Loop, context: DesktopContext) -> LocalApiTab:
    """The tab, shown, once its model list has come back."""
    page = LocalApiTab(context)
    qtbot.addWidget(page)
    page.load(context.settings)
    page.show()
    assert page.models_task is not None
    qloop.run(finished(page.models_task))
    return page


def test_the_credit_services_models_are_listed(
    qtbot: QtBot, qloop: Loop, credits_context: DesktopContext
) -> None:
    names = opened(qtbot, qloop, credits_context).models.text().removeprefix("Models: ")
    listed = names.split(", ")
    assert listed[0] == "credits/default"
    assert len(listed) > 1 and all(n.startswith("credits/") for n in listed)


def test_the_snippet_names_the_credits_model(
    qtbot: QtBot, qloop: Loop, credits_context: DesktopContext
) -> None:
    snippet = opened(qtbot, qloop, credits_context).snippet.toPlainText()
    assert 'model="credits/default"' in snippet

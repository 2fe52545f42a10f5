"""One enhancement run for the tray, the fallback window and the selection hotkey: the current
mode, the offline result (with the reason) when AI cannot answer, and an entry in History."""

from __future__ import annotations

from dataclasses import dataclass

from promptready.engine import EnhanceResult, Mode, OnDelta
from promptready.errors import InputError, PromptReadyError
from promptready.ui.context import DesktopContext
from promptready.ui.messages import problem_for, problem_for_fallback


@dataclass(frozen=True)
class Run:
    """The result (None when the text could not be enhanced) and what went wrong, if anything."""

    result: EnhanceResult | None
    problem: str | None = None


async def enhance_text(
    context: DesktopContext, text: str, source: str, on_delta: OnDelta | None = None
) -> Run:
    """Enhance ``text`` in the current mode; every finished run is kept in History."""
    engine = context.engine
    problem: str | None = None
    try:
        result = await engine.enhance_async(text, context.mode(), on_delta=on_delta)
    except InputError as exc:
        return Run(None, str(exc))
    except PromptReadyError as exc:  # no key, locked keyring: the offline result instead
        problem = problem_for(exc).text
        result = await engine.enhance_async(text, Mode.OFFLINE)
    if result.fallback_reason:
        problem = problem_for_fallback(result.fallback_reason).text
    if context.settings.desktop.keep_history and result.text != text:
        context.history.add(result.mode.value, source, text, result.text)
    return Run(result, problem)

"""Turn failures into exit codes: expected ones print their sentence, bugs leave a report.

Like pre-commit's error handler: a PromptReadyError is the user's to fix and prints one line;
anything else is our bug, so the traceback goes to a crash log the user can attach to a report.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from promptready.errors import PromptReadyError

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


def write_crash_report(exc: BaseException) -> str:
    """Append the traceback of ``exc`` to the crash log and return the log's path."""
    # Imported on a crash only: logging, datetime and traceback would load before the tray icon.
    from promptready.crash import CrashLog

    log = CrashLog.of()
    log.exception(exc)
    return str(log.path)


def run_guarded(action: Callable[[], int]) -> int:
    """Run ``action``, mapping every failure to a clear message and an exit code."""
    try:
        return action()
    except PromptReadyError as exc:
        print(f"promptready: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("promptready: interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): nothing left to tell anyone.
        return EXIT_ERROR
    except Exception as exc:  # the last line of defence: every bug gets a report
        try:
            where = write_crash_report(exc)
        except OSError:
            where = "(the crash log could not be written)"
        from promptready.crash import crash_sentence

        print(f"promptready: {crash_sentence(type(exc).__name__, where)}", file=sys.stderr)
        return EXIT_ERROR

"""Turn failures into exit codes: expected ones print their sentence, bugs leave a report.

Like pre-commit's error handler: a PromptReadyError is the user's to fix and prints one line;
anything else is our bug, so the traceback goes to a crash log the user can attach to a report.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from datetime import UTC, datetime

from promptready import __version__
from promptready.errors import PromptReadyError
from promptready.paths import app_paths

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


def write_crash_report(exc: BaseException) -> str:
    """Append the traceback of ``exc`` to the crash log and return the log's path."""
    paths = app_paths()
    log = paths.ensure(paths.log_dir) / "crash.log"
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    trace = "".join(traceback.format_exception(exc))
    with log.open("a", encoding="utf-8") as handle:
        handle.write(f"--- {stamp} promptready {__version__} on Python {sys.version.split()[0]}\n")
        handle.write(trace)
    return str(log)


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
        print(
            f"promptready: unexpected error ({type(exc).__name__}); this is a bug. "
            f"Details were saved to {where}; please include them in a bug report.",
            file=sys.stderr,
        )
        return EXIT_ERROR

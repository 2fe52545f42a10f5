"""``promptready`` command line: parses arguments and hands each subcommand to ``commands/``.

Every subcommand module exposes ``register(subparsers)``, which adds its parser and sets
``func=run``; heavy imports happen inside ``run`` so ``--help`` and ``--version`` stay instant.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
    from types import ModuleType

from promptready import __version__
from promptready.error_handler import run_guarded

# No window can open here (headless): not a failure of the app; `make run` treats it as done.
EXIT_NO_DISPLAY = 3


def subcommands() -> tuple[ModuleType, ...]:
    """The subcommand modules, imported here so the desktop app (no arguments) skips them."""
    from promptready.commands import config, credits, enhance, keys, serve, tokens, usage

    return (config, credits, enhance, keys, serve, tokens, usage)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, one subparser per module in SUBCOMMANDS."""
    import argparse  # not for the desktop app, which has no arguments

    parser = argparse.ArgumentParser(
        prog="promptready",
        description="Turn rough text into a prompt that is ready to send. "
        "Run with no command to start the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"promptready {__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check resources, tokenizer, ledger, keyring, local API and windows, offline",
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in subcommands():
        module.register(subparsers)
    return parser


def launch_desktop() -> int:
    """Start the tray app (or bring the running one to the front)."""
    import os

    from promptready.display import display_problem

    problem = display_problem(os.environ)
    if problem is not None:
        print(f"promptready: {problem}", file=sys.stderr)
        return EXIT_NO_DISPLAY
    from promptready.ui.app import run_desktop

    return run_desktop()


def self_test() -> int:
    """Check this installation offline, one line per check; non-zero on any failure."""
    from promptready.selftest import self_test as run_checks
    from promptready.ui.windowcheck import check_windows

    return run_checks([("windows", check_windows)])


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``promptready`` console script; returns the exit code."""
    if argv is None:
        argv = sys.argv[1:]
    if not argv:
        # The desktop app needs no parser: building it imports every subcommand's helpers (the
        # credits client alone is ~100 ms), all before the tray icon could show.
        return run_guarded(launch_desktop)
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if args.self_test:
        return run_guarded(self_test)
    if func is None:
        return run_guarded(launch_desktop)
    return run_guarded(lambda: int(func(args)))

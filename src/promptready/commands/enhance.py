"""``promptready enhance [TEXT]``: print the enhanced prompt (or JSON with the analysis)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, BinaryIO

from promptready.errors import InputError

# Read at most this much from stdin: far above any real prompt, low enough to never exhaust memory.
MAX_STDIN_BYTES = 8 * 1024 * 1024


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``enhance`` subcommand."""
    parser = subparsers.add_parser(
        "enhance",
        help="enhance TEXT (or standard input) and print the prompt",
        description="Turn rough text into a prompt that is ready to send. "
        "Reads TEXT, or standard input when TEXT is omitted or '-'.",
    )
    parser.add_argument("text", nargs="?", metavar="TEXT", help="the rough prompt (default: stdin)")
    parser.add_argument(
        "--format",
        choices=("markdown", "text", "xml"),
        help="layout of the prompt (default: from settings, markdown)",
    )
    parser.add_argument(
        "--mode", choices=("offline", "ai"), help="offline rules or an LLM (default: from settings)"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: text, mode, format, analysis, changes, timings",
    )
    parser.set_defaults(func=run)


def read_stdin(stream: BinaryIO) -> str:
    """Read UTF-8 text from ``stream``, refusing oversized or non-text input with a clear error."""
    data = stream.read(MAX_STDIN_BYTES + 1)
    if len(data) > MAX_STDIN_BYTES:
        raise InputError(
            f"The input is larger than {MAX_STDIN_BYTES // (1024 * 1024)} MiB; "
            "enhance a smaller part of it."
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("The input is not UTF-8 text; save it as UTF-8 and try again.") from None


def run(args: argparse.Namespace) -> int:
    """Enhance the given text and print the result; returns the exit code."""
    from promptready.engine import open_engine

    if args.text is None or args.text == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise InputError(
                "Give the text to enhance as an argument, or pipe it in on standard input."
            )
        text = read_stdin(sys.stdin.buffer)
    else:
        text = args.text

    engine, problems = open_engine()
    for problem in problems:
        print(f"promptready: warning: {problem}", file=sys.stderr)
    result = engine.enhance(text, mode=args.mode, fmt=args.format)
    if args.json:
        json.dump(result.to_dict(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(result.text if result.text.endswith("\n") else result.text + "\n")
    return 0

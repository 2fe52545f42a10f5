"""``promptready enhance [TEXT]``: print the enhanced prompt (or JSON with the analysis)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, BinaryIO

from promptready.errors import InputError

if TYPE_CHECKING:
    from promptready.engine import Engine, EnhanceResult, Notice, OnDelta
    from promptready.enhance import OutputFormat

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


def after_live_stream(streamed: str, final: str) -> str:
    """What to print once the model's text has streamed to the terminal: a line end, plus the
    cleaned prompt when cleaning changed it (a preamble or fences dropped), so what is on screen
    last is what a pipe or the clipboard would get."""
    if streamed.strip() == final.strip():
        return "\n"
    return f"\n\n--- cleaned prompt ---\n{final.rstrip()}\n"


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
    import asyncio

    from promptready.engine import Mode, open_engine

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
    mode, fmt = engine.choose(args.mode, args.format)
    # AI output streams live to a terminal; a pipe or --json gets only the finished prompt.
    live = mode is Mode.AI and not args.json and sys.stdout.isatty()
    streamed: list[str] = []

    def show(delta: str) -> None:
        streamed.append(delta)
        sys.stdout.write(delta)
        sys.stdout.flush()

    if mode is Mode.OFFLINE:
        result = engine.enhance(text, mode, fmt)
    else:
        # Piped output shows nothing until the end: say on stderr what is being waited for.
        notice = None if sys.stdout.isatty() else _notice
        result = asyncio.run(_enhance_ai(engine, text, fmt, show if live else None, notice))
    if result.fallback_reason:
        print(f"\npromptready: warning: {result.fallback_reason}", file=sys.stderr)
    if args.json:
        json.dump(result.to_dict(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    elif streamed and result.mode is Mode.AI:
        sys.stdout.write(after_live_stream("".join(streamed), result.text))
    else:
        sys.stdout.write(result.text if result.text.endswith("\n") else result.text + "\n")
    return 0


def _notice(message: str) -> None:
    print(f"promptready: {message}…", file=sys.stderr, flush=True)


async def _enhance_ai(
    engine: Engine,
    text: str,
    fmt: OutputFormat,
    on_delta: OnDelta | None,
    notice: Notice | None,
) -> EnhanceResult:
    try:
        return await engine.enhance_async(text, "ai", fmt, on_delta=on_delta, notice=notice)
    finally:
        await engine.registry.close()

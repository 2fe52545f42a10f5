"""``promptready config path|get|set|unset|edit``: every setting from the command line, checked by
the same declarations as the settings file (a bad value is refused, never written)."""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from promptready.errors import ConfigError


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``config`` subcommand and its actions."""
    parser = subparsers.add_parser(
        "config",
        help="show where settings live, read and change any setting",
        description="Settings live in settings.toml (see `promptready config path`); "
        "the running desktop app picks up changes made here.",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    actions.add_parser("path", help="print the settings file's path").set_defaults(func=run_path)
    get = actions.add_parser("get", help="print one setting, or all of them")
    get.add_argument("key", metavar="KEY", nargs="?", help="a setting such as ai.model")
    get.set_defaults(func=run_get)
    set_ = actions.add_parser(
        "set",
        help="change one setting",
        description='VALUE is a TOML value (true, 8790, ["a", "b"], { name = "url" }); '
        "text needs no quotes.",
    )
    set_.add_argument("key", metavar="KEY")
    set_.add_argument("value", metavar="VALUE")
    set_.set_defaults(func=run_set)
    unset = actions.add_parser("unset", help="put one setting back to its default")
    unset.add_argument("key", metavar="KEY")
    unset.set_defaults(func=run_unset)
    edit = actions.add_parser(
        "edit", help="open settings.toml in $VISUAL or $EDITOR, then check it"
    )
    edit.set_defaults(func=run_edit)


def _settings_file() -> Path:
    from promptready.paths import app_paths

    return app_paths().settings_file


def _report(problems: tuple[str, ...]) -> None:
    for problem in problems:
        print(f"promptready: settings problem: {problem}", file=sys.stderr)


def run_path(args: argparse.Namespace) -> int:
    """Print where the settings file is (it may not exist yet: then every setting is default)."""
    print(_settings_file())
    return 0


def run_get(args: argparse.Namespace) -> int:
    """Print one setting as a TOML value, or the whole commented file."""
    from promptready.setting_edits import get_setting
    from promptready.settings import load_settings, settings_to_toml, toml_value

    loaded = load_settings(_settings_file())
    _report(loaded.problems)
    if args.key is None:
        print(settings_to_toml(loaded.settings), end="")
    else:
        print(toml_value(get_setting(loaded.settings, args.key)))
    return 0


def run_set(args: argparse.Namespace) -> int:
    """Validate and write one setting."""
    from promptready.setting_edits import set_setting

    return _change(args.key, lambda settings: set_setting(settings, args.key, args.value))


def run_unset(args: argparse.Namespace) -> int:
    """Put one setting back to its default."""
    from promptready.setting_edits import reset_setting

    return _change(args.key, lambda settings: reset_setting(settings, args.key))


def _change(key: str, change: Any) -> int:
    from promptready.setting_edits import get_setting
    from promptready.settings import load_settings, save_settings, toml_value

    path = _settings_file()
    loaded = load_settings(path)
    _report(loaded.problems)
    settings = change(loaded.settings)
    save_settings(settings, path)
    print(f"{key} = {toml_value(get_setting(settings, key))}")
    return 0


def editor_command(environ: Mapping[str, str], platform: str) -> list[str]:
    """The user's editor: $VISUAL, $EDITOR, else the platform's plain-text editor."""
    chosen = environ.get("VISUAL") or environ.get("EDITOR")
    if chosen:
        return shlex.split(chosen, posix=platform != "win32")
    if platform == "win32":
        return ["notepad"]
    if platform == "darwin":
        return ["open", "-W", "-t"]
    return ["vi"]


def run_edit(args: argparse.Namespace) -> int:
    """Open the settings file in an editor, then report what does not fit."""
    from promptready.settings import load_settings, save_settings

    path = _settings_file()
    if not path.exists():
        save_settings(load_settings(path).settings, path)  # start from the commented defaults
    command = [*editor_command(os.environ, sys.platform), str(path)]
    try:
        status = subprocess.call(command)  # noqa: S603 - the user's own editor, on their file
    except OSError as exc:
        raise ConfigError(
            f"Could not start the editor {command[0]!r} ({exc.strerror}); set $EDITOR, "
            f"or edit {path} with any text editor."
        ) from None
    if status != 0:
        print(f"promptready: the editor exited with status {status}.", file=sys.stderr)
    problems = load_settings(path).problems
    _report(problems)
    if not problems:
        print(f"{path} is valid.")
    return 1 if problems or status else 0

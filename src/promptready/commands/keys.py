"""``promptready keys set|list|test|remove``: provider keys in the OS keyring.

A key is read from a hidden prompt, or from standard input when it is not a terminal; never from
the command line, where it would land in the shell history and the process list.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import sys
from typing import Any

from promptready.errors import ConfigError, InputError


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``keys`` subcommand and its actions."""
    parser = subparsers.add_parser(
        "keys",
        help="store, list, test and remove provider keys (BYOK)",
        description="Provider keys live in your OS keyring and are sent only to their provider.",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)

    set_parser = actions.add_parser(
        "set",
        help="store the key for PROVIDER (read from a hidden prompt or stdin)",
        description="Store a key. PROVIDER is a preset (openai, groq, together, openrouter, "
        "deepseek, mistral, gemini, ollama, lmstudio) or a new name with --base-url.",
    )
    set_parser.add_argument("provider", metavar="PROVIDER")
    set_parser.add_argument(
        "--base-url",
        help="OpenAI-compatible base URL, for a custom provider (e.g. https://host/v1)",
    )
    set_parser.add_argument(
        "--model",
        help="the model to use with this provider when none is named (e.g. llama3.1)",
    )
    set_parser.set_defaults(func=run_set)

    list_parser = actions.add_parser("list", help="list providers with a stored key")
    list_parser.set_defaults(func=run_list)

    test_parser = actions.add_parser("test", help="check a stored key with a cheap call")
    test_parser.add_argument("provider", metavar="PROVIDER")
    test_parser.set_defaults(func=run_test)

    remove_parser = actions.add_parser(
        "remove", help="delete the stored key for PROVIDER (and a custom provider's settings)"
    )
    remove_parser.add_argument("provider", metavar="PROVIDER")
    remove_parser.set_defaults(func=run_remove)


def read_key() -> str:
    """The key from a hidden prompt, or the first line of stdin when piped."""
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass("Key (input hidden): ")
    line = sys.stdin.readline() if sys.stdin is not None else ""
    if not line.strip():
        raise InputError("No key on standard input; pipe it in or run in a terminal to type it.")
    return line


def run_set(args: argparse.Namespace) -> int:
    """Store a key, and a custom provider's base URL and model in settings."""
    from promptready.paths import app_paths
    from promptready.providers.presets import presets
    from promptready.secrets import ApiKey, SecretStore, check_provider_name
    from promptready.settings import check_base_url, load_settings, save_settings

    name = check_provider_name(args.provider)
    paths = app_paths()
    loaded = load_settings(paths.settings_file)
    ai = loaded.settings.ai
    custom, models = dict(ai.custom_providers), dict(ai.custom_models)
    if args.base_url is not None:
        if name in presets():
            raise ConfigError(
                f"{name} is a built-in provider; choose another name for a custom one."
            )
        custom[name] = check_base_url(args.base_url)
    elif name not in presets() and name not in custom:
        raise ConfigError(
            f"{name} is not a built-in provider; add it with "
            f"`promptready keys set {name} --base-url URL --model MODEL`."
        )
    if args.model is not None:
        if not args.model.strip():
            raise ConfigError("--model needs a model name, e.g. --model llama3.1.")
        models[name] = args.model.strip()
    key = ApiKey(read_key())
    store = SecretStore()
    store.set_key(name, key)
    changed = dataclasses.replace(ai, custom_providers=custom, custom_models=models)
    if changed != ai:
        save_settings(dataclasses.replace(loaded.settings, ai=changed), paths.settings_file)
    print(f"Saved the {name} key ({key.masked()}). Check it with `promptready keys test {name}`.")
    if name in custom and name not in models:
        print(
            f"Say which model {name} should use: `promptready keys set {name} --model MODEL` "
            f"(`promptready keys test {name}` lists them)."
        )
    warning = store.info().warning
    if warning:
        print(f"promptready: warning: {warning}", file=sys.stderr)
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Print the providers that have a key, masked, with their base URL."""
    from promptready.engine import open_registry

    registry, _ = open_registry()
    names = registry.with_keys()
    if not names:
        print("No keys stored yet. Add one with `promptready keys set openai`.")
        return 0
    configs = registry.configs()
    width = max(len(n) for n in names)
    for name in names:
        key = registry.secrets.get_key(name)
        masked = key.masked() if key else "(missing)"
        kind = "custom" if configs[name].custom else "preset"
        print(f"{name:<{width}}  {masked:<6}  {kind:<6}  {configs[name].base_url}")
    warning = registry.secrets.info().warning
    if warning:
        print(f"promptready: warning: {warning}", file=sys.stderr)
    return 0


def run_test(args: argparse.Namespace) -> int:
    """Validate a stored key; exit 0 only when it works."""
    from promptready.engine import open_registry
    from promptready.providers.validate import check_stored_key

    registry, _ = open_registry()

    async def check() -> int:
        try:
            verdict = await check_stored_key(registry, args.provider)
        finally:
            await registry.close()
        print(f"{verdict.verdict.value}: {verdict.message}")
        if verdict.models:
            print("Models: " + ", ".join(verdict.models))
        return 0 if verdict.ok else 1

    return asyncio.run(check())


def run_remove(args: argparse.Namespace) -> int:
    """Delete a stored key; for a custom provider, its base URL and model too."""
    from promptready.paths import app_paths
    from promptready.secrets import SecretStore, check_provider_name
    from promptready.setting_edits import forget_custom_provider
    from promptready.settings import load_settings, save_settings

    name = check_provider_name(args.provider)
    removed = SecretStore().delete_key(name)
    paths = app_paths()
    settings = load_settings(paths.settings_file).settings
    if name in settings.ai.custom_providers:
        save_settings(forget_custom_provider(settings, name), paths.settings_file)
        print(f"Removed the custom provider {name}" + (" and its key." if removed else "."))
        return 0
    if removed:
        print(f"Removed the {name} key.")
        return 0
    print(f"There was no {name} key to remove.")
    return 1

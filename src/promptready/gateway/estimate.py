"""How many tokens a request may use, read from the request alone, before any upstream call:
what a budget reservation holds. Pure and cheap (no tokenizer on the hot path).

Prompt: the UTF-8 size of the whole request body divided by ``BYTES_PER_TOKEN``. Tokenizers
take about 4 bytes a token of English, 2.5 of dense code and 2-3 of CJK text, and the body also
carries JSON syntax and field names, so this stays above the billed count for text (the tests
check all three); images (billed by size, not bytes) and long runs of emoji are the exceptions.
Completion: the request's own cap (``max_completion_tokens``, ``max_tokens`` or
``max_output_tokens``) times ``n``, else ``DEFAULT_COMPLETION_TOKENS``; an answer without a cap
may run past that, which is the one way a budget can be overshot (by what the answer used beyond
the default).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from promptready.ledger.meter import TokenBound
from promptready.providers.wire import SSEFramer, Usage, data_fields, delta_text

BYTES_PER_TOKEN = 2
DEFAULT_COMPLETION_TOKENS = 1024
_CAP_FIELDS = {
    "/chat/completions": ("max_completion_tokens", "max_tokens"),
    "/responses": ("max_output_tokens",),
    "/embeddings": (),
}


def _count(value: Any) -> int | None:
    # bool is an int in Python; a JSON true is not a token count.
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def token_bound(payload: dict[str, Any], body_size: int, upstream_path: str) -> TokenBound:
    """Prompt and completion tokens to reserve for ``payload`` (sent as ``body_size`` bytes)."""
    prompt = -(-body_size // BYTES_PER_TOKEN)  # ceil
    fields = _CAP_FIELDS.get(upstream_path, ())
    if not fields:  # embeddings: no completion at all
        return TokenBound(prompt, 0)
    cap = None
    for name in fields:
        cap = _count(payload.get(name))
        if cap is not None:
            break
    choices = _count(payload.get("n")) or 1
    return TokenBound(prompt, (DEFAULT_COMPLETION_TOKENS if cap is None else cap) * choices)


def partial_usage(request: dict[str, Any], relayed: Sequence[bytes], model: str) -> Usage:
    """What a call the client left early used, counted (an estimate): the request's messages
    (or input) and the text of the stream events relayed before it went."""
    import orjson

    from promptready import tokens

    messages = request.get("messages")
    if isinstance(messages, list) and all(isinstance(m, dict) for m in messages):
        prompt = tokens.count_messages(messages, model).tokens
    else:
        prompt = tokens.count_text(str(request.get("input", "")), model).tokens
    pieces = []
    for data in data_fields(SSEFramer().feed(b"".join(relayed))):
        if data != b"[DONE]":
            try:
                pieces.append(delta_text(orjson.loads(data)))
            except orjson.JSONDecodeError:
                continue
    completion = tokens.count_text("".join(pieces), model).tokens if pieces else 0
    return Usage(prompt, completion, estimated=True)

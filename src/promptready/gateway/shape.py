"""The request fields the gateway itself reads (to route, stream, meter and hold budget), checked
before anything is forwarded; every other field is the upstream's to judge. The OpenAPI document
(resources/gateway/openapi.json) declares the same rules, and a schemathesis test keeps the two
in step."""

from __future__ import annotations

from typing import Any

import orjson

from promptready.gateway.errors import bad_request

# Token caps and choice counts are read for the budget hold: a wrong type is refused rather than
# guessed at. null is accepted where the OpenAI API accepts it (it means "not set").
_COUNTS = {
    "/chat/completions": (("max_tokens", 0), ("max_completion_tokens", 0), ("n", 1)),
    "/responses": (("max_output_tokens", 0),),
    "/embeddings": (),
}


# Far deeper than any OpenAI request (tool schemas nest a dozen levels) and far below the 254
# levels orjson can serialise again: a body the gateway accepts can always be forwarded.
MAX_DEPTH = 64
# Values in arrays and objects, all levels together: room for 300,000 embedding token ids.
MAX_ELEMENTS = 1_000_000


def parse_json(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object within MAX_DEPTH and MAX_ELEMENTS, or 400."""
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise bad_request("The request body is not valid JSON (UTF-8).", "invalid_json") from None
    if not isinstance(payload, dict):
        raise bad_request("The request body must be a JSON object.", "invalid_json")
    _check_size(raw, payload)
    return payload


def _check_size(raw: bytes, payload: dict[str, Any]) -> None:
    """400 when the parsed body nests deeper than MAX_DEPTH or holds over MAX_ELEMENTS values."""
    # Bounds from the raw bytes first (brackets and commas inside strings only raise them): a body
    # with few containers cannot nest deep, and a container of k values has k - 1 commas.
    containers = raw.count(b"[") + raw.count(b"{")
    if containers <= MAX_DEPTH and containers + raw.count(b",") <= MAX_ELEMENTS:
        return
    stack: list[tuple[Any, int]] = [(payload, 1)]  # iterative: no recursion to exhaust
    elements = 0
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise bad_request(
                f"The request body nests deeper than {MAX_DEPTH} levels.", "json_too_deep"
            )
        children = value.values() if type(value) is dict else value
        elements += len(children)
        if elements > MAX_ELEMENTS:
            raise bad_request(
                f"The request body holds more than {MAX_ELEMENTS} JSON values.", "json_too_large"
            )
        for child in children:
            if type(child) is dict or type(child) is list:
                stack.append((child, depth + 1))


def check_model(payload: dict[str, Any]) -> str:
    """The model the request names, or 400."""
    model = payload.get("model")
    if not isinstance(model, str) or not model.strip():
        raise bad_request("'model' must be a model name.", "invalid_model", "model")
    return model


def check_shape(payload: dict[str, Any], upstream_path: str) -> None:
    """400 when a field the gateway relies on is missing or of the wrong type."""
    if upstream_path == "/chat/completions":
        messages = payload.get("messages")
        if not isinstance(messages, list) or not messages:
            raise bad_request(
                "'messages' must be a non-empty list.", "invalid_messages", "messages"
            )
    elif "input" not in payload:
        raise bad_request("'input' is required.", "invalid_input", "input")
    if "stream" in payload and not isinstance(payload["stream"], bool):
        raise bad_request("'stream' must be true or false.", "invalid_type", "stream")
    if upstream_path == "/embeddings" and payload.get("stream"):
        raise bad_request("Embeddings cannot be streamed.", "invalid_type", "stream")
    options = payload.get("stream_options")
    if options is not None and not (
        isinstance(options, dict) and isinstance(options.get("include_usage", False), bool)
    ):
        raise bad_request(
            "'stream_options' must be an object, its 'include_usage' true or false.",
            "invalid_type",
            "stream_options",
        )
    for name, minimum in _COUNTS.get(upstream_path, ()):
        value = payload.get(name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < minimum
        ):
            raise bad_request(
                f"'{name}' must be a whole number of at least {minimum}.", "invalid_type", name
            )

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


def parse_json(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or 400."""
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise bad_request("The request body is not valid JSON (UTF-8).", "invalid_json") from None
    if not isinstance(payload, dict):
        raise bad_request("The request body must be a JSON object.", "invalid_json")
    return payload


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

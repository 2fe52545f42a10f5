"""``POST /api/v1/enhance {"content", "format"?}``: one AI enhancement for one credit.

The offline enhancer's analysis and the AI enhancer's meta-prompt (``promptready.enhance.ai``)
build the messages; the cohort's model answers. A model that says the text is not a prompt is
charged nothing (its upstream cost still counts against the weekly cap).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import orjson

from promptready.cloud.errors import ApiError, bad_request, upstream_failed
from promptready.cloud.routes import charging
from promptready.cloud.routes.costs import ENHANCE_MAX_TOKENS, ESTIMATE_MODEL
from promptready.cloud.routes.deps import Deps
from promptready.cloud.routes.wire import (
    Receive,
    Scope,
    Send,
    authenticate,
    read_object,
    send_bytes,
    send_json,
)
from promptready.cloud.store import Admission, Replay
from promptready.cloud.upstream import Completion, UpstreamError
from promptready.enhance import OutputFormat, enhance
from promptready.enhance.ai import build_messages, clean_output, system_prompt
from promptready.errors import InputError
from promptready.providers.wire import Usage
from promptready.tokens import count_messages, count_text

MAX_CONTENT_CHARS = 100_000
_FORMATS = ", ".join(f.value for f in OutputFormat)


def parse_request(body: dict[str, Any]) -> tuple[str, OutputFormat]:
    """The text and output format of an enhance body; a 400 naming the field at fault."""
    content = body.get("content")
    if not isinstance(content, str) or not content.strip():
        raise bad_request("content must be a non-empty string.", "invalid_content", "content")
    if len(content) > MAX_CONTENT_CHARS:
        raise bad_request(
            f"content is longer than {MAX_CONTENT_CHARS} characters.", "content_too_long", "content"
        )
    if "\x00" in content:
        raise bad_request("content must be text, not binary data.", "invalid_content", "content")
    raw_format = body.get("format", OutputFormat.MARKDOWN.value)
    try:
        fmt = OutputFormat(raw_format) if isinstance(raw_format, str) else None
    except ValueError:
        fmt = None
    if fmt is None:
        raise bad_request(f"format must be one of {_FORMATS}.", "invalid_format", "format")
    return content, fmt


class PromptTokens:
    """``count_messages`` of an enhancement's messages, with the meta-prompt (the same for every
    request, about 85% of the tokens) counted once per process."""

    def __init__(self) -> None:
        self._system = {"role": "system", "content": system_prompt()}
        alone = count_messages([self._system], ESTIMATE_MODEL).tokens
        self._system_tokens = alone - count_messages([], ESTIMATE_MODEL).tokens

    def count(self, messages: list[dict[str, str]]) -> int:
        """The prompt tokens of ``messages``, exactly as ``count_messages`` counts them."""
        if not messages or messages[0] != self._system:
            return count_messages(messages, ESTIMATE_MODEL).tokens
        return self._system_tokens + count_messages(messages[1:], ESTIMATE_MODEL).tokens


class Enhance:
    """The endpoint."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.prompt_tokens = PromptTokens()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        deps = self.deps
        device_id = authenticate(deps, scope)
        key = charging.idempotency_key(scope)
        content, fmt = parse_request(await read_object(receive))
        try:
            offline = enhance(content, fmt)
        except InputError as error:
            raise bad_request(str(error), "invalid_content", "content") from None
        messages = build_messages(content, offline.analysis)
        prompt_tokens = self.prompt_tokens.count(messages)
        estimate = deps.pricer.enhance_hold(prompt_tokens)
        admitted = await charging.admit(deps, device_id, estimate, key)
        if isinstance(admitted, Replay):
            await self._replay(device_id, admitted, send)
            return
        body = {
            "model": admitted.model,
            "messages": messages,
            "temperature": 0.2,
            "max_tokens": ENHANCE_MAX_TOKENS,
        }
        target = deps.config.target(admitted.cohort, admitted.model)
        async with charging.released_on_failure(deps, admitted, _refused):
            reply = await deps.upstream.complete(target, body)
            raw = _content(reply.payload)
        deps.metrics.upstream_took(admitted.cohort.name, reply.latency_s)
        await self._answer(
            admitted,
            reply,
            raw=raw,
            prompt_tokens=prompt_tokens,
            offline=offline.text,
            replayable=key is not None,
            send=send,
        )

    async def _replay(self, device_id: uuid.UUID, replay: Replay, send: Send) -> None:
        """A retried key's stored answer, with the balance as it is now (the stored one has
        none: it was stored before its own settle ran)."""
        if replay.status != 200:
            await send_bytes(send, replay.status, replay.body, (), replay.content_type.encode())
            return
        view = await self.deps.store.credits(device_id)
        await send_json(
            send, 200, {**orjson.loads(replay.body), "credits_remaining": view.available}
        )

    async def _answer(
        self,
        admission: Admission,
        reply: Completion,
        *,
        raw: str,
        prompt_tokens: int,
        offline: str,
        replayable: bool,
        send: Send,
    ) -> None:
        deps = self.deps
        usage = reply.usage or Usage(prompt_tokens, max(1, count_text(raw, ESTIMATE_MODEL).tokens))
        charge = deps.pricer.enhance_charge(admission.model, usage)
        cleaned = clean_output(raw)
        if cleaned is None:
            charge = replace(charge, credits=0)
        payload: dict[str, Any] = {
            "status": "SUCCESS" if cleaned is not None else "NOT_A_PROMPT",
            "processed_content": cleaned if cleaned is not None else offline,
            "credits_charged": charge.credits,
        }
        # Stored with the settle, so a retry with the same key replays it (without a balance:
        # the balance is only known once the settle has run).
        replay = Replay(
            200, orjson.dumps({**payload, "credits_remaining": None}), "application/json"
        )
        view = await charging.settle(
            deps,
            admission,
            charge,
            model=admission.model,
            latency_ms=int(reply.latency_s * 1000),
            status="ok",
            response=replay if replayable else None,
        )
        await send_json(send, 200, {**payload, "credits_remaining": view.available})


def _refused(error: UpstreamError) -> ApiError:
    # The body is the proxy's own, so any refusal is the provider's fault, never the client's.
    return upstream_failed(str(error))


def _content(payload: dict[str, Any]) -> str:
    try:
        text = payload["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        text = None
    if not isinstance(text, str):
        raise UpstreamError("The model provider sent a completion without a message.")
    return text

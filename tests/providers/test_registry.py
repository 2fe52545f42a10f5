"""Model names to routes: provider/model, bare names, keys from the keyring, fallbacks."""

from __future__ import annotations

from dataclasses import replace

import pytest
from keyrings.alt.file import PlaintextKeyring

from promptready.errors import NotConfiguredError
from promptready.providers.openai_compat import OpenAICompatProvider
from promptready.providers.presets import ProviderConfig, presets
from promptready.providers.registry import (
    MEMO_TTL_S,
    MODELS_RETRY_S,
    MODELS_TTL_S,
    ModelRef,
    ProviderRegistry,
)
from promptready.secrets import ApiKey, SecretStore
from promptready.settings import AISettings
from tests.fakes.upstream import FakeUpstream, Script


def registry(keys: tuple[str, ...] = ("openai",), **settings: object) -> ProviderRegistry:
    store = SecretStore(PlaintextKeyring())
    for name in keys:
        store.set_key(name, ApiKey(f"sk-{name}-0123456789"))
    return ProviderRegistry(AISettings(**settings), store)  # type: ignore[arg-type]


def test_provider_slash_model_is_split_at_the_first_slash() -> None:
    assert registry().parse("openrouter/openai/gpt-4o") == ModelRef("openrouter", "openai/gpt-4o")


def test_bare_model_goes_to_the_default_provider() -> None:
    assert registry(provider="groq").parse("llama-3.1-8b") == ModelRef("groq", "llama-3.1-8b")


def test_unknown_prefix_is_refused_naming_the_known_providers() -> None:
    with pytest.raises(NotConfiguredError, match=r"Unknown provider 'nosuch'.*openai"):
        registry(provider="together").parse("nosuch/model")


def test_a_model_id_with_slashes_is_named_after_its_provider() -> None:
    ref = registry(provider="openai").parse("together/meta-llama/Llama-3.3-70B")
    assert ref == ModelRef("together", "meta-llama/Llama-3.3-70B")


def test_provider_alone_uses_its_default_model() -> None:
    assert registry().parse("openai") == ModelRef("openai", "gpt-4o-mini")


def test_default_provider_is_the_first_with_a_key() -> None:
    assert registry(keys=("groq",)).default_provider() == "groq"


def test_no_keys_at_all_says_how_to_add_one() -> None:
    with pytest.raises(NotConfiguredError, match="promptready keys set openai"):
        registry(keys=()).default_provider()


def test_provider_without_a_key_says_how_to_add_it() -> None:
    with pytest.raises(NotConfiguredError, match="promptready keys set groq"):
        registry().provider("groq")


def test_local_providers_need_no_key() -> None:
    assert registry(keys=()).provider("ollama").name == "ollama"


def test_unknown_provider_lists_the_known_ones() -> None:
    with pytest.raises(NotConfiguredError, match="openai"):
        registry().config("nope")


def test_custom_providers_come_from_settings() -> None:
    reg = registry(keys=("lab",), custom_providers={"lab": "http://127.0.0.1:8000/v1"})
    assert reg.config("lab").base_url == "http://127.0.0.1:8000/v1"
    assert reg.parse("lab/m1") == ModelRef("lab", "m1")


def test_fallbacks_follow_the_primary_and_skip_those_without_keys() -> None:
    reg = registry(
        keys=("openai", "groq"),
        model="openai/gpt-4o-mini",
        fallbacks=(
            "mistral/mistral-small-latest",
            "groq/llama-3.1-8b-instant",
            "openai/gpt-4o-mini",
        ),
    )
    assert [r.label for r in reg.routes()] == ["openai/gpt-4o-mini", "groq/llama-3.1-8b-instant"]


def test_registry_reuses_one_provider_object() -> None:
    reg = registry()
    assert reg.provider("openai") is reg.provider("openai")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_changed_key_reaches_a_long_running_registry_after_the_memo_expires(
    upstream: FakeUpstream,
) -> None:
    store = SecretStore(PlaintextKeyring())
    store.set_key("fake", ApiKey("sk-old-key-0123456789"))
    clock = Clock()
    settings = AISettings(custom_providers={"fake": upstream.base_url})
    reg = ProviderRegistry(settings, store, clock=clock)

    async def key_sent() -> str:
        await reg.resolve("fake/fake-gpt").provider.list_models()
        return upstream.seen[-1].headers["authorization"]

    assert await key_sent() == "Bearer sk-old-key-0123456789"
    store.set_key("fake", ApiKey("sk-new-key-0123456789"))
    assert await key_sent() == "Bearer sk-old-key-0123456789"  # memoised: no keyring read
    clock.now += MEMO_TTL_S
    assert await key_sent() == "Bearer sk-new-key-0123456789"
    await reg.http.close()


class ProxyToken:
    """A device token as the credit proxy's client holds it (no keyring entry)."""

    def authorization(self) -> str | None:
        return "Bearer device-jwt"

    async def refresh(self) -> bool:
        return False


async def test_an_added_provider_with_its_own_credential_is_routed_like_the_others(
    upstream: FakeUpstream,
) -> None:
    reg = registry(keys=("openai",), fallbacks=("credits/gpt-4o-mini",))
    config = ProviderConfig(
        name="credits",
        title="PromptReady credits",
        base_url=upstream.base_url,
        needs_key=False,
        ledger_mode="credits",
    )
    reg.add(OpenAICompatProvider(config, None, reg.http, auth=ProxyToken()))
    assert reg.with_keys() == ["openai", "credits"]
    chain = reg.routes("openai/gpt-4o-mini")
    assert [r.label for r in chain] == ["openai/gpt-4o-mini", "credits/gpt-4o-mini"]
    await chain[1].provider.list_models()
    await reg.close()
    assert upstream.seen[-1].headers["authorization"] == "Bearer device-jwt"


def standby_credits(keys: tuple[str, ...], **settings: object) -> ProviderRegistry:
    """A registry with ``keys`` and the credit proxy added on standby."""
    reg = registry(keys=keys, **settings)
    config = ProviderConfig(
        name="credits",
        title="PromptReady credits",
        base_url="http://127.0.0.1:9/v1",
        needs_key=False,
        ledger_mode="credits",
    )
    reg.add(OpenAICompatProvider(config, None, reg.http, auth=ProxyToken()), standby=True)
    return reg


@pytest.mark.parametrize(
    ("keys", "settings", "listed"),
    [
        ((), {}, ["credits"]),  # no key: a user of credits
        (("openai",), {}, ["openai"]),  # an own key: credits never offered by surprise
        (("openai",), {"provider": "credits"}, ["openai", "credits"]),  # credits chosen
    ],
)
def test_the_standby_credit_proxy_is_listed_only_for_a_user_of_credits(
    keys: tuple[str, ...], settings: dict[str, object], listed: list[str]
) -> None:
    assert standby_credits(keys, **settings).listed() == listed


def test_a_custom_entry_named_like_a_preset_moves_only_its_base_url() -> None:
    reg = registry(keys=("groq",), custom_providers={"groq": "http://127.0.0.1:9/v1"})
    moved = reg.config("groq")
    assert moved.base_url == "http://127.0.0.1:9/v1" and not moved.custom
    assert moved == replace(presets()["groq"], base_url="http://127.0.0.1:9/v1")


def moved_groq(upstream: FakeUpstream, clock: Clock) -> ProviderRegistry:
    """The groq preset, keyed, pointed at the fake upstream, on a hand-moved clock."""
    store = SecretStore(PlaintextKeyring())
    store.set_key("groq", ApiKey("sk-groq-0123456789"))
    settings = AISettings(custom_providers={"groq": upstream.base_url})
    return ProviderRegistry(settings, store, clock=clock)


async def test_a_provider_whose_model_list_fails_is_listed_with_its_presets_models(
    upstream: FakeUpstream,
) -> None:
    reg = moved_groq(upstream, Clock())
    upstream.script(Script(status=503))
    assert await reg.model_ids() == [f"groq/{m}" for m in presets()["groq"].models]
    await reg.close()


async def test_a_failed_model_list_is_asked_again_only_after_models_retry_s(
    upstream: FakeUpstream,
) -> None:
    clock = Clock()
    reg = moved_groq(upstream, clock)
    upstream.script(Script(status=503))
    fallback = await reg.model_ids()
    clock.now += MODELS_RETRY_S - 1
    assert await reg.model_ids() == fallback and len(upstream.seen) == 1  # not asked again
    clock.now += 1
    assert await reg.model_ids() == ["groq/fake-gpt", "groq/gpt-4o-mini"]  # it came back
    assert len(upstream.seen) == 2
    await reg.close()


async def test_a_fetched_model_list_is_kept_for_models_ttl_s(upstream: FakeUpstream) -> None:
    clock = Clock()
    reg = moved_groq(upstream, clock)
    listed = await reg.model_ids()
    upstream.script(Script(status=503))
    clock.now += MODELS_TTL_S - 1
    assert await reg.model_ids() == listed and len(upstream.seen) == 1
    await reg.close()

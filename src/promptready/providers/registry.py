"""From names to callable providers: ``provider/model`` strings, keys from the keyring, fallbacks.

Model names read ``PROVIDER/MODEL`` (``openai/gpt-4o-mini``, or ``NAME/MODEL`` for a custom
provider); a bare name (no slash) goes to the default provider. A name whose first part is not a
known provider is refused, naming the known ones: sending it to the default provider would spend
that key on a model the user meant elsewhere. Model ids with slashes are named after their
provider: ``together/meta-llama/Llama-3.3-70B``.

A provider that brings its own credential (the credit proxy's client, see
``credits.offer_credits``) joins through ``add()``, the one way in besides the keyring: it is
routed like the others (``credits/...``) and is the default when no provider has a key.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from promptready.errors import NotConfiguredError
from promptready.providers.http import HttpClient, Timeouts
from promptready.providers.openai_compat import OpenAICompatProvider
from promptready.providers.presets import ProviderConfig, custom_provider, presets
from promptready.providers.routing import Provider, Route
from promptready.secrets import SecretStore
from promptready.settings import AISettings, check_base_url

if TYPE_CHECKING:
    from promptready.pricing import ModelPrice


@dataclass(frozen=True)
class ModelRef:
    """A model at a provider; ``model`` empty means the provider's default."""

    provider: str
    model: str

    def __str__(self) -> str:
        return f"{self.provider}/{self.model}"


MEMO_TTL_S = 30.0
MODELS_TTL_S = 600.0  # a provider's model list, asked at most this often
MODELS_WAIT_S = 3.0  # then its preset's models stand in
# A failed model list is asked again after this long: a provider that comes back is listed again
# soon, yet a dead one does not hold every GET /v1/models for MODELS_WAIT_S.
MODELS_RETRY_S = 30.0


class ProviderRegistry:
    """Builds providers from settings (custom base URLs) and the keyring (keys), on demand."""

    def __init__(
        self,
        settings: AISettings,
        secrets: SecretStore,
        http: HttpClient | None = None,
        *,
        latency_source: Callable[[], dict[str, float]] | None = None,
        price_overrides: Mapping[str, ModelPrice] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._latency_source = latency_source
        self._price_overrides = dict(price_overrides or {})
        self.settings = settings
        self.secrets = secrets
        self.http = http or HttpClient(Timeouts(idle_s=settings.timeout_s))
        self._providers: dict[str, Provider] = {}
        # Providers that bring their own credential; they outlive the memo (a device token
        # lives in the credit proxy's client).
        self._added: dict[str, Provider] = {}
        self._standby: set[str] = set()  # added, but only when named or nothing else is keyed
        self._resolved: dict[str, Route] = {}
        self._chains: dict[str, tuple[Route, ...]] = {}
        self._clock = clock
        self._fresh_until = clock() + MEMO_TTL_S
        self._model_lists: dict[str, tuple[float, tuple[str, ...]]] = {}

    def _expire(self) -> None:
        """Forget memoised providers and routes every MEMO_TTL_S: a key changed in the keyring
        (or the desktop's settings) and a new ``auto`` ranking reach a long-running gateway."""
        now = self._clock()
        if now >= self._fresh_until:
            self._providers.clear()
            self._resolved.clear()
            self._chains.clear()
            self._fresh_until = now + MEMO_TTL_S

    def add(self, provider: Provider, *, standby: bool = False) -> None:
        """Offer a provider built elsewhere, with its own credential (the credit proxy's client,
        a device token that refreshes itself): routed, listed and metered like the others. A
        ``standby`` one is used only when named or when no provider has a key: it is left out
        of ``with_keys`` (so of ``auto``) and never spent by surprise; ``listed`` offers its models
        to local apps only when it is the default or no provider has a key."""
        self._added[provider.name] = provider
        if standby:
            self._standby.add(provider.name)
        else:
            self._standby.discard(provider.name)
        self._resolved.clear()
        self._chains.clear()

    def configs(self) -> dict[str, ProviderConfig]:
        """Every provider that takes a key from the keyring: presets and custom ones (an added
        provider brings its own credential, so it is not offered where keys are set). A custom
        entry named like a preset moves that preset to another base URL (a company proxy)."""
        found = dict(presets())
        for name, url in self.settings.custom_providers.items():
            model = self.settings.custom_models.get(name)
            preset = found.get(name)
            if preset is None:
                found[name] = custom_provider(name, url, model)
            else:
                model = model or preset.default_model
                found[name] = replace(preset, base_url=check_base_url(url), default_model=model)
        return found

    def _routable(self) -> dict[str, ProviderConfig]:
        """``configs()`` plus the added providers: every name a model may start with."""
        found = self.configs()
        for name, provider in self._added.items():
            found[name] = provider.config
        return found

    def added(self, name: str) -> Provider | None:
        """The provider offered with ``add()`` under ``name``, if any."""
        return self._added.get(name)

    def config(self, name: str) -> ProviderConfig:
        """The named provider's description, or a clear error listing what exists."""
        configs = self._routable()
        if name not in configs:
            known = ", ".join(sorted(configs))
            raise NotConfiguredError(
                f"Unknown provider {name!r}; use one of {known}, or add it with "
                f"`promptready keys set {name} --base-url URL`."
            )
        return configs[name]

    def with_keys(self) -> list[str]:
        """Providers that have a key stored, in the keyring's order, then the added ones."""
        configs = self.configs()
        keyed = [name for name in self.secrets.providers() if name in configs]
        return keyed + [n for n in self._added if n not in keyed and n not in self._standby]

    def default_provider(self) -> str:
        """The configured default, else the first provider with a key, else a standby one (the
        credit proxy)."""
        if self.settings.provider:
            return self.settings.provider
        keyed = self.with_keys() or [n for n in self._added if n in self._standby]
        if not keyed:
            raise NotConfiguredError(
                "AI mode needs a provider: add your key with `promptready keys set openai` "
                "(or another provider), or use offline mode."
            )
        return keyed[0]

    def parse(self, name: str) -> ModelRef:
        """``provider/model``, ``provider`` alone, or a bare model for the default provider;
        NotConfiguredError for an unknown provider prefix."""
        name = name.strip()
        first, slash, rest = name.partition("/")
        configs = self._routable()
        if first in configs:
            return ModelRef(first, rest or configs[first].default_model or "")
        if slash:
            known = ", ".join(sorted(configs))
            raise NotConfiguredError(
                f"Unknown provider {first!r} in model {name!r}; name one of {known} first "
                f"(e.g. together/{name}), or add it with "
                f"`promptready keys set {first} --base-url URL`."
            )
        provider = self.default_provider()
        return ModelRef(provider, name or self.config(provider).default_model or "")

    def provider(self, name: str) -> Provider:
        """The provider object for ``name`` with its key; an error that says how to add one."""
        added = self._added.get(name)
        if added is not None:
            return added
        if name not in self._providers:
            config = self.config(name)
            key = self.secrets.get_key(name)
            if key is None and config.needs_key:
                raise NotConfiguredError(
                    f"No key for {name}; add it with `promptready keys set {name}`."
                )
            self._providers[name] = OpenAICompatProvider(config, key, self.http)
        return self._providers[name]

    def route(self, ref: ModelRef) -> Route:
        """A callable route for one model reference."""
        if not ref.model:
            raise NotConfiguredError(
                f"Say which {ref.provider} model to use, e.g. `{ref.provider}/MODEL`."
            )
        return Route(self.provider(ref.provider), ref.model)

    def resolve(self, name: str) -> Route:
        """The route for a model name, memoised for MEMO_TTL_S: the gateway resolves one on every
        request."""
        self._expire()
        route = self._resolved.get(name)
        if route is None:
            route = self.auto_routes()[0] if name == "auto" else self.route(self.parse(name))
            if len(self._resolved) < 4096:  # model names come from clients: keep the memo bounded
                self._resolved[name] = route
        return route

    def chain(self, name: str) -> tuple[Route, ...]:
        """``routes(name)`` memoised like ``resolve``: the gateway's fallback chain for a model on
        every request (``auto`` is re-ranked when the memo expires)."""
        self._expire()
        chain = self._chains.get(name)
        if chain is None:
            chain = tuple(self.routes(name))
            if len(self._chains) < 4096:  # model names come from clients: keep the memo bounded
                self._chains[name] = chain
        return chain

    def auto_routes(self) -> list[Route]:
        """Routes for ``model: "auto"``: models the user has keys for, ranked by the policy."""
        from promptready.pricing import load_rate_card
        from promptready.providers.auto import rank

        configs = self._routable()
        candidates = [
            f"{name}/{configs[name].default_model}"
            for name in self.with_keys()
            if configs[name].default_model
        ]
        candidates += [
            str(self.parse(n)) for n in (self.settings.model, *self.settings.fallbacks) if n
        ]
        card = load_rate_card().with_overrides(self._price_overrides)  # "cheapest" by your prices
        prices: dict[str, Decimal | None] = {}
        for candidate in candidates:
            price = card.price(candidate)
            prices[candidate] = None if price is None else price.input + price.output
        ranked = rank(candidates, prices, self.latencies(), self.settings.routing)
        routes = []
        for name in ranked:
            try:
                routes.append(self.route(self.parse(name)))
            except NotConfiguredError:
                continue
        if not routes:
            raise NotConfiguredError(
                'model "auto" needs at least one provider key: `promptready keys set openai`.'
            )
        return routes

    def latencies(self) -> dict[str, float]:
        """Median-ish (average) latency per provider/model over the last week, from the ledger."""
        if self._latency_source is None:
            return {}
        return self._latency_source()

    def routes(self, primary: str | None = None) -> list[Route]:
        """The primary model then the configured fallbacks (those without a key are skipped)."""
        if (primary or self.settings.model) == "auto":
            return self.auto_routes()
        first = self.parse(primary or self.settings.model or "")
        chain = [self.route(first)]
        for name in self.settings.fallbacks:
            try:
                route = self.route(self.parse(name))
            except NotConfiguredError:
                continue  # a fallback without a key is not an error until it is the only choice
            if route.label not in {r.label for r in chain}:
                chain.append(route)
        return chain

    def listed(self) -> list[str]:
        """Providers whose models are offered to local apps: those with a key, and a standby
        one (the credit proxy) when it is the default or no provider has a key."""
        keyed = self.with_keys()
        return keyed + [
            n
            for n in self._added
            if n in self._standby and (not keyed or n == self.settings.provider)
        ]

    async def model_ids(self) -> list[str]:
        """``provider/model`` for every model of every ``listed`` provider: the provider's own
        list (cached for MODELS_TTL_S), or its preset's models when it does not answer (cached
        for MODELS_RETRY_S)."""
        import asyncio

        names = self.listed()
        lists = await asyncio.gather(*(self._models_of(name) for name in names))
        return [
            f"{name}/{model}" for name, models in zip(names, lists, strict=True) for model in models
        ]

    async def _models_of(self, name: str) -> tuple[str, ...]:
        import asyncio

        from promptready.providers.errors import UpstreamError

        now = self._clock()
        cached = self._model_lists.get(name)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            async with asyncio.timeout(MODELS_WAIT_S):
                models = tuple(await self.provider(name).list_models())
        except (UpstreamError, NotConfiguredError, TimeoutError):
            config = self._routable()[name]
            default = (config.default_model,) if config.default_model else ()
            self._model_lists[name] = (now + MODELS_RETRY_S, config.models or default)
        else:
            self._model_lists[name] = (now + MODELS_TTL_S, models)
        return self._model_lists[name][1]

    async def close(self) -> None:
        """Close the shared HTTP session."""
        await self.http.close()

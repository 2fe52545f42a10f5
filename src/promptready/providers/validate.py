"""Key validation: one cheap call (list models) turned into a verdict a user can act on."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from promptready.providers.errors import (
    UpstreamError,
    UpstreamHTTPError,
    UpstreamTimeoutError,
    UpstreamUnreachableError,
)
from promptready.providers.routing import Provider

if TYPE_CHECKING:
    from promptready.providers.registry import ProviderRegistry


class Verdict(StrEnum):
    VALID = "valid"
    INVALID_KEY = "invalid key"
    NO_NETWORK = "no network"
    PROVIDER_DOWN = "provider down"
    REFUSED = "refused"


@dataclass(frozen=True)
class KeyCheck:
    """The verdict, the sentence to show, and the models the key can use when valid."""

    verdict: Verdict
    message: str
    models: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.VALID


async def check_key(provider: Provider) -> KeyCheck:
    """Ask the provider for its model list and judge the key by the answer."""
    name = provider.name
    try:
        models = await provider.list_models()
    except UpstreamHTTPError as error:
        if error.status in (401, 403):
            return KeyCheck(Verdict.INVALID_KEY, f"{name} rejected the key; paste it again.")
        if error.status == 429 or error.status >= 500:
            return KeyCheck(Verdict.PROVIDER_DOWN, f"{name} is not answering normally: {error}")
        return KeyCheck(Verdict.REFUSED, str(error))
    except UpstreamUnreachableError:
        return KeyCheck(Verdict.NO_NETWORK, f"Could not reach {name}; check your connection.")
    except UpstreamTimeoutError:
        return KeyCheck(Verdict.PROVIDER_DOWN, f"{name} did not answer in time; try again later.")
    except UpstreamError as error:
        return KeyCheck(Verdict.PROVIDER_DOWN, str(error))
    return KeyCheck(Verdict.VALID, f"The {name} key works ({len(models)} models).", tuple(models))


async def check_stored_key(registry: ProviderRegistry, provider: str) -> KeyCheck:
    """Check the key stored for ``provider`` (``promptready keys test`` and the settings window).

    Raises NotConfiguredError when there is no key and SecretsError when the keyring refuses.
    """
    from promptready.secrets import check_provider_name

    return await check_key(registry.provider(check_provider_name(provider)))

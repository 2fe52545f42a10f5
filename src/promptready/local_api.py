"""The local API as the desktop app sees it: start/stop the background gateway and manage app
tokens, without the UI importing anything from ``gateway/``.

Gateway modules are imported on first use, so the tray appears before uvicorn is even loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from promptready.gateway.apps import AppLimits, AppToken
from promptready.paths import AppPaths, app_paths

if TYPE_CHECKING:
    from promptready.gateway.apps import AppRegistry
    from promptready.gateway.background import BackgroundGateway

__all__ = ["AppLimits", "AppToken", "LocalApi", "sdk_snippet"]


def sdk_snippet(
    url: str,
    token: str = "pr-...",  # noqa: S107 - a placeholder
    model: str = "openai/gpt-4o-mini",
) -> str:
    """Python that calls the local API with the OpenAI SDK."""
    return (
        "from openai import OpenAI\n\n"
        f'client = OpenAI(base_url="{url}/v1", api_key="{token}")\n'
        "reply = client.chat.completions.create(\n"
        f'    model="{model}",\n'
        '    messages=[{"role": "user", "content": "Hello"}],\n'
        ")\n"
        "print(reply.choices[0].message.content)\n"
    )


class LocalApi:
    """The loopback gateway's lifecycle and the apps allowed to call it."""

    def __init__(self, paths: AppPaths | None = None) -> None:
        self.paths = paths or app_paths()
        self._gateway: BackgroundGateway | None = None
        self._registry: AppRegistry | None = None

    @property
    def url(self) -> str | None:
        """The base URL while the gateway runs, else None."""
        return self._gateway.url if self._gateway is not None else None

    def start(self, port: int) -> str:
        """Start the gateway on ``port`` (0 picks one); returns its URL once listening."""
        from promptready.gateway.background import BackgroundGateway

        if self._gateway is not None and self._gateway.port != port:
            self.stop()
        if self._gateway is None:
            self._gateway = BackgroundGateway(port)
        try:
            return self._gateway.start()
        except BaseException:
            self._gateway = None
            raise

    def stop(self) -> None:
        """Drain requests in flight, flush the ledger and stop (no-op when stopped)."""
        if self._gateway is not None:
            self._gateway.stop()
            self._gateway = None

    @property
    def registry(self) -> AppRegistry:
        if self._registry is None:
            from promptready.gateway.assemble import apps_file

            self._registry = apps_file(self.paths)
        return self._registry

    def apps(self) -> list[AppToken]:
        """Registered apps, by name."""
        self.registry.reload()
        return self.registry.apps()

    def create(self, name: str, limits: AppLimits | None = None) -> tuple[AppToken, str]:
        """Register an app; the token is returned here once and never stored."""
        return self.registry.create(name, limits)

    def update(self, name: str, limits: AppLimits) -> AppToken:
        """Change an app's budgets and limits, keeping its token."""
        return self.registry.update(name, limits)

    def revoke(self, name: str) -> bool:
        """Remove an app; its token stops working within a second."""
        return self.registry.revoke(name)

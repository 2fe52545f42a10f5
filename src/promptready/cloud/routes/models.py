"""``GET /v1/models``: the models this proxy serves (every cohort's and the degrade model).

A device's requests go to its cohort's model whatever ``model`` it names; the list tells
OpenAI-compatible tools which names exist.
"""

from __future__ import annotations

from promptready.cloud.routes.deps import Deps
from promptready.cloud.routes.wire import Receive, Scope, Send, authenticate, send_json


class Models:
    """The endpoint; the list is built once."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        config = deps.config
        names = [c.model for c in config.cohorts]
        if config.degrade_model:
            names.append(config.degrade_model)
        self.payload = {
            "object": "list",
            "data": [
                {"id": name, "object": "model", "created": 0, "owned_by": "promptready"}
                for name in dict.fromkeys(names)
            ],
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        authenticate(self.deps, scope)
        await send_json(send, 200, self.payload)

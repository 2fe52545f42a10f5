"""``promptready serve``: the local OpenAI-compatible API, headless."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``serve`` subcommand."""
    parser = subparsers.add_parser(
        "serve",
        help="run the local OpenAI-compatible API on 127.0.0.1",
        description="Serve the OpenAI-compatible API on 127.0.0.1 for local tools. Every request "
        "needs an app token (`promptready tokens create NAME`). Stop with Ctrl+C: requests in "
        "flight finish first.",
    )
    parser.add_argument(
        "--port", type=int, help="port to listen on (default: settings, 8788; 0 picks a free port)"
    )
    parser.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (risky: the API becomes reachable from the network)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Bind, print the URL once listening, serve until interrupted."""
    from promptready.engine import open_engine
    from promptready.errors import ConfigError
    from promptready.gateway.assemble import build_gateway
    from promptready.gateway.server import bind_sockets, serve

    engine, problems = open_engine("gateway")
    for problem in problems:
        print(f"promptready: warning: {problem}", file=sys.stderr)
    port = engine.settings.gateway.port if args.port is None else args.port
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, not {port}.")
    if args.allow_remote:
        print(
            "promptready: warning: --allow-remote makes the API reachable from other machines; "
            "anyone with an app token can spend your keys and credits.",
            file=sys.stderr,
        )
    sockets = bind_sockets(args.host, port, args.allow_remote)
    try:
        app = build_gateway(
            engine, allow_remote=args.allow_remote, port=sockets[0].getsockname()[1]
        )
    except BaseException:
        for sock in sockets:
            sock.close()
        raise

    def ready(url: str) -> None:
        print(f"listening on {url}", flush=True)

    serve(app, sockets, ready)
    return 0

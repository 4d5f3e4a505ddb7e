"""``argil mcp``: serve the SDK to AI agents over the Model Context Protocol.

``argil mcp`` serves over stdio (the transport MCP clients start), ``argil mcp --http --port N``
over streamable HTTP on 127.0.0.1. Paid tools (``render_video``, ``make_video``) are refused
unless ``--max-credits N`` is given. ``--simulate`` serves the embedded simulator; without
``ARGIL_API_KEY`` and without ``--simulate`` it refuses to start (exit 2). The server itself
(tools, budget) is ``_mcp_server.py``, imported only here, since it needs the optional ``mcp``
package (``pip install "argil-async[mcp]"``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import sys
from typing import Any

__all__ = ["add_mcp_command"]

NO_KEY = (
    "argil mcp: ARGIL_API_KEY is not set. Export your API key, or pass --simulate to serve "
    "the embedded simulator."
)
NO_PACKAGE = 'argil mcp needs the mcp package: pip install "argil-async[mcp]"'


def add_mcp_command(commands: Any) -> None:
    """Register ``argil mcp`` on the CLI's subcommands."""
    mcp = commands.add_parser(
        "mcp",
        help="serve the API to AI agents over MCP (stdio, or --http)",
        description="An MCP server for agents: list avatars and voices, create, estimate, "
        "render and wait for videos. Paid tools need --max-credits.",
    )
    mcp.add_argument(
        "--http", action="store_true", help="serve streamable HTTP on 127.0.0.1 (else stdio)"
    )
    mcp.add_argument("--port", type=_port, default=8000, help="the --http port (default 8000)")
    mcp.add_argument(
        "--max-credits",
        type=_credits,
        default=None,
        metavar="N",
        help="allow paid tools, up to N estimated credits for the server's lifetime",
    )
    mcp.add_argument(
        "--simulate", action="store_true", help="serve the embedded simulator, not the API"
    )
    mcp.set_defaults(handler=run_mcp)


def run_mcp(args: argparse.Namespace) -> int:
    """Serve until the client hangs up (stdio) or Ctrl-C (HTTP); 2 when it cannot start."""
    if not os.environ.get("ARGIL_API_KEY") and not args.simulate:
        print(NO_KEY, file=sys.stderr)
        return 2
    try:
        from ._mcp_server import ServerOptions, serve
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != "mcp":
            raise
        print(NO_PACKAGE, file=sys.stderr)
        return 2
    options = ServerOptions(
        http=args.http, port=args.port, max_credits=args.max_credits, simulate=args.simulate
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(options))
    return 0


def _credits(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of credits, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more credits, got {text!r}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a port number, got {text!r}") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"must be between 1 and 65535, got {text!r}")
    return value

"""The ``argil`` command (also ``python -m argil_async``).

``argil demo`` runs the whole workflow once; ``argil batch run|status|check`` renders many
videos from a job file (``_batch.py``); ``argil avatars list``, ``argil voices list``,
``argil videos get ID`` and ``argil videos list`` show resources (``_resources.py``).
Without ARGIL_API_KEY a command that needs the API runs against the embedded simulator only
with ``--simulate`` or at a terminal (and says so on its first line); elsewhere it exits 2.
``argil demo`` always may: it shows the workflow.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .._version import __version__
from ._batch import add_batch_commands
from ._mcp import add_mcp_command
from ._resources import add_resource_commands
from ._session import NoKeyError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="argil", description="The argil_async command line: demo, batch jobs, resources."
    )
    parser.add_argument("--version", action="version", version=f"argil-async {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="run the full workflow (the embedded simulator when ARGIL_API_KEY is unset)"
    )
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("argil-demo-output"),
        help="where the subtitles and the video are written",
    )
    demo.add_argument("--yes", action="store_true", help="do not ask before spending credits")
    add_batch_commands(commands)
    add_resource_commands(commands)
    add_mcp_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parser().parse_args(argv)
    if args.command == "demo":
        from ._demo import DemoOptions, run_demo

        asyncio.run(run_demo(DemoOptions(out_dir=args.out, assume_yes=args.yes)))
        return 0
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except NoKeyError as exc:
        print(exc, file=sys.stderr)
        return 2
    except BrokenPipeError:  # `argil videos list --json | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())

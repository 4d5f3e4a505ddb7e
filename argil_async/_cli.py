"""The ``argil`` command (also ``python -m argil_async``)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from ._version import __version__

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parser().parse_args(argv)
    if args.command == "demo":
        from ._demo import DemoOptions, run_demo

        asyncio.run(run_demo(DemoOptions(out_dir=args.out, assume_yes=args.yes)))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())

"""``python -m argil_async.testing``: serve the simulator until Ctrl-C (or SIGTERM).

The first line printed is ``ARGIL_BASE_URL=<url> ARGIL_API_KEY=<key>``, ready to paste into a
shell or to parse from a test. Every scalar ``SimulatorConfig`` field is a flag:
``--render-video-time 5 --rate-limit-every 10 --fault-methods POST --no-strict-moments``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import signal
from collections.abc import Sequence
from typing import Any

from ._config import FIELD_HELP, SimulatorConfig
from ._simulator import ArgilSimulator

_PARSERS: dict[str, Any] = {
    "str": str,
    "int": int,
    "float": float,
    "int | None": int,
    "str | None": str,
    "frozenset[str] | None": lambda text: frozenset(
        m.strip().upper() for m in text.split(",") if m.strip()
    ),
}


_EPILOG = """\
Faults count the authenticated API requests in scope (--fault-methods, --fault-path-prefix) and
fire on every Nth one.

Outcomes are decided by the input: a video whose extras hold "simOutcome": "FAILED" or
"CONTENT_MODERATED" ends so; an avatar whose extras hold "simOutcome": "TRAINING_FAILED" or
"REFUSED" ends so; an asset whose url contains sim_outcome=FAILED ends FAILED. Everything else
succeeds.

GET /_sim/counters (with x-api-key) answers what happened: videos created, renders per video,
per job key and per idempotency key, webhook deliveries and their answers.
"""


def build_parser() -> argparse.ArgumentParser:
    """One flag per scalar config field (callables such as ``video_outcome`` are left out)."""
    parser = argparse.ArgumentParser(
        prog="python -m argil_async.testing",
        description="Serve a local Argil v1 API simulator.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for field in dataclasses.fields(SimulatorConfig):
        flag = "--" + field.name.replace("_", "-")
        kind = str(field.type)  # a string: the config module uses postponed annotations
        meaning = FIELD_HELP[field.name]
        if kind == "bool":
            parser.add_argument(
                flag,
                action=argparse.BooleanOptionalAction,
                default=field.default,
                help=f"{meaning} (default: {'on' if field.default else 'off'})",
            )
        elif kind in _PARSERS:
            default = "unset" if field.default is None else field.default
            text = meaning if "unset" in meaning else f"{meaning} (default: {default})"
            parser.add_argument(flag, type=_PARSERS[kind], default=field.default, help=text)
    return parser


async def serve(config: SimulatorConfig) -> None:
    """Run until SIGINT or SIGTERM, then close cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows has no signal handlers
            loop.add_signal_handler(signum, stop.set)
    async with ArgilSimulator(config) as sim:
        print(f"ARGIL_BASE_URL={sim.base_url} ARGIL_API_KEY={sim.api_key}", flush=True)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> None:
    """Parse flags into a ``SimulatorConfig`` and serve."""
    args = build_parser().parse_args(argv)
    config = SimulatorConfig(**vars(args))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(config))


if __name__ == "__main__":
    main()

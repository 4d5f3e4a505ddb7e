"""``--coordinator REDIS_URL`` for ``argil batch run`` and ``argil batch status``.

``run`` becomes one worker of a batch shared through Redis (see
``argil_async.batch.RedisCoordinator``); ``status`` (and its ``--report``) reads that whole
batch, whose name the run noted beside its results file (``results.jsonl.coordinator``)
unless ``--batch`` says it.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from .. import _validation as check
from ..errors import InvalidRequestError

__all__ = ["add_coordinator_arguments", "coordinated_status", "coordinator_from"]


def add_coordinator_arguments(command: argparse.ArgumentParser, *, run: bool) -> None:
    """``--coordinator`` and ``--batch`` (and, to ``run``, ``--lease-ttl``)."""
    command.add_argument(
        "--coordinator", metavar="REDIS_URL",
        help="share the batch with workers on other machines through this Redis",
    )  # fmt: skip
    command.add_argument(
        "--batch", help="with --coordinator: the batch's name (default: from the job file)"
    )
    if run:
        command.add_argument(
            "--lease-ttl", type=float, default=120.0,
            help="with --coordinator: seconds before a dead worker's jobs are taken over",
        )  # fmt: skip


def coordinator_from(args: argparse.Namespace, *, results: Path | None = None) -> Any:
    """The RedisCoordinator the flags ask for, or None (the SQLite journal).

    For ``status`` (``results`` given) the batch name defaults to the one the run noted.
    """
    if not getattr(args, "coordinator", None):
        return None
    from ..batch import RedisCoordinator

    ttl = getattr(args, "lease_ttl", 120.0)
    if args.batch is None and results is not None:
        try:
            return RedisCoordinator.for_results(args.coordinator, results, lease_ttl=ttl)
        except InvalidRequestError as exc:
            rule = f"is needed: {exc.field} does not name the batch"
            raise check.fail("--batch", rule) from None
    return RedisCoordinator(args.coordinator, batch=args.batch, lease_ttl=ttl)


def coordinated_status(args: argparse.Namespace) -> tuple[Any, list[Any] | None]:
    """The whole coordinated batch's BatchStatus, and its JobResults for ``--report``,
    read from Redis (live while the workers run)."""

    async def read() -> tuple[Any, list[Any] | None]:
        async with coordinator_from(args, results=args.results) as coordinator:
            status = await coordinator.status()
            rows = None if args.report is None else await coordinator.results()
            return status, rows

    return asyncio.run(read())

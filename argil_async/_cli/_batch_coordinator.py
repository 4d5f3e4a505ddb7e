"""``--coordinator REDIS_URL`` for ``argil batch run`` and ``argil batch status``.

``run`` becomes one worker of a batch shared through Redis (see
``argil_async.batch.RedisCoordinator``); ``status`` reads that whole batch, whose name the
run noted beside its results file (``results.jsonl.coordinator``) unless ``--batch`` says it.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

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
    from ..batch._coordinated import coordinator_file

    batch = args.batch
    if batch is None and results is not None:
        noted = coordinator_file(results)
        if not noted.exists():
            raise InvalidRequestError("--batch", f"is needed: {noted} does not name the batch")
        batch = noted.read_text(encoding="utf-8").strip()
    ttl = getattr(args, "lease_ttl", 120.0)
    return RedisCoordinator(args.coordinator, batch=batch, lease_ttl=ttl)


def coordinated_status(args: argparse.Namespace) -> Any:
    """The whole coordinated batch's BatchStatus, read from Redis."""
    from ..batch._coordinated import read_coordinated_status

    return asyncio.run(read_coordinated_status(coordinator_from(args, results=args.results)))

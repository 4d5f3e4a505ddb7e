"""Coordinated batches in tests: keyed job files, what the simulator holds per job key, and
`argil batch run --coordinator` workers in child processes."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from argil_async.batch import JOB_KEY_EXTRA
from argil_async.testing import ArgilSimulator

__all__ = ["paid_renders", "start_worker", "videos_per_key", "write_jobs"]


def write_jobs(
    sim: ArgilSimulator,
    path: Path,
    count: int,
    prefix: str = "job",
    failing: frozenset[int] = frozenset(),
) -> list[str]:
    """A JSONL job file of ``count`` one-moment jobs, those in ``failing`` failed by the
    simulator (``simOutcome``); returns their keys."""
    avatar = next(a.id for a in sim.state.avatars.values() if a.status == "IDLE")
    keys = [f"{prefix}-{i:04d}" for i in range(count)]
    rows = [
        {
            "key": key,
            "name": key,
            "moments": [{"avatarId": avatar, "transcript": f"Hi {key}"}],
            "extras": {"simOutcome": "FAILED"} if i in failing else {},
        }
        for i, key in enumerate(keys)
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return keys


def videos_per_key(sim: ArgilSimulator, keys: list[str]) -> dict[str, int]:
    """How many videos the simulator holds for each job key."""
    return {key: len(sim.state.videos_with_extras(**{JOB_KEY_EXTRA: key})) for key in keys}


def paid_renders(sim: ArgilSimulator) -> int:
    """Videos whose render was accepted (they left IDLE): what the workspace paid for."""
    return sum(video.status != "IDLE" for video in sim.state.videos.values())


async def start_worker(
    sim: ArgilSimulator,
    folder: Path,
    n: int,
    *,
    coordinator: str,
    batch: str,
    concurrency: int,
    lease_ttl: float,
    stdout: int = asyncio.subprocess.DEVNULL,
) -> asyncio.subprocess.Process:
    """Worker ``n``: `argil batch run FOLDER/jobs.jsonl --out FOLDER/rN.jsonl --coordinator ...`
    against ``sim``, polling, in a child process (stderr piped, for the assertion messages)."""
    jobs, out = folder / "jobs.jsonl", folder / f"r{n}.jsonl"
    env = {**os.environ, "ARGIL_API_KEY": sim.api_key, "ARGIL_BASE_URL": sim.base_url}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "argil_async", "batch", "run", str(jobs), "--out", str(out),
        "--concurrency", str(concurrency), "--poll", "--poll-interval", "0.05",
        "--progress", "off", "--coordinator", coordinator, "--batch", batch,
        "--lease-ttl", str(lease_ttl), env=env, stdout=stdout, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip

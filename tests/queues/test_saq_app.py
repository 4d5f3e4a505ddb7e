"""examples/saq_app.py under a real saq worker (one asyncio process, one AsyncArgil), a real
redis-server and the simulator in another process: every job key ends with exactly one video,
rendered once, though 5 of the 15 jobs are enqueued twice and run concurrently.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from support.processes import REPO, SimulatorProcess, require, stop
from support.queues import assert_exactly_once, describe, queue_jobs

saq = require("saq")
saq_job = require("saq.job")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def start_worker(sim: SimulatorProcess, redis: str, queue: str, log: Path) -> subprocess.Popen[str]:
    """``saq examples.saq_app.settings`` with 4 jobs at once."""
    env = {
        **sim.env(),
        "SAQ_REDIS_URL": redis,
        "SAQ_QUEUE": queue,
        "SAQ_CONCURRENCY": "4",
        "ARGIL_POLL_INTERVAL": "0.2",
    }
    with log.open("a") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "saq", "examples.saq_app.settings", "--verbose"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip


async def finished(job: Any, deadline: float) -> None:
    """Wait for a job's last outcome: a job swept (aborted) and retried is not over yet."""
    loop = asyncio.get_running_loop()
    over = {saq_job.Status.COMPLETE, saq_job.Status.FAILED}
    while True:
        with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
            await job.refresh(until_complete=max(deadline - loop.time(), 0.1))
        if job.status in over or (job.status == saq_job.Status.ABORTED and not job.retryable):
            return
        assert loop.time() < deadline, (job.status, job.error, job.attempts, job.key)
        await asyncio.sleep(0.1)


async def test_saq_worker_pays_each_job_once(
    sim_process: SimulatorProcess, redis_url: str, tmp_path: Path
) -> None:
    """20 jobs over 15 keys (5 twice, side by side) through an asyncio worker: one video per
    key, rendered once, whatever saq's sweeper runs twice."""
    from examples.saq_app import enqueue_video

    name = f"argil-test-{uuid.uuid4().hex[:8]}"
    jobs = await asyncio.to_thread(queue_jobs, sim_process, name)
    queue = saq.Queue.from_url(redis_url, name=name)
    await queue.connect()
    log = tmp_path / "worker.log"
    worker = start_worker(sim_process, redis_url, name, log)
    try:
        enqueued = [await enqueue_video(job, on=queue) for job in jobs]
        deadline = asyncio.get_running_loop().time() + 150
        for job in enqueued:
            await finished(job, deadline)
        statuses = {job.status for job in enqueued}
        assert statuses == {saq_job.Status.COMPLETE}, [(j.status, j.error) for j in enqueued]
        retried = sum(job.attempts > 1 for job in enqueued)
        outcomes = [job.result for job in enqueued]
    finally:
        stop(worker, group=True)  # SIGTERM: the worker's shutdown closes its client
        await queue.disconnect()
    assert worker.returncode == 0, log.read_text()
    counters = await asyncio.to_thread(assert_exactly_once, sim_process, jobs)
    by_key: dict[str, set[str]] = {}
    for outcome in outcomes:
        by_key.setdefault(outcome["key"], set()).add(outcome["video_id"])
    assert all(len(ids) == 1 for ids in by_key.values())  # a job sent twice: the same video
    print(
        f"saq: {len(jobs)} jobs, no kill, {retried} jobs run again by saq's sweeper: "
        f"{describe(counters)}",
        file=sys.stderr,
    )

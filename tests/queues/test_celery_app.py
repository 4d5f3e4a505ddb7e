"""examples/celery_app.py under real Celery workers, a real redis-server and the simulator in
another process: a worker SIGKILLed mid-task, a new one finishes the queue, and every job key
ends with exactly one video, rendered once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from support.processes import REPO, SimulatorProcess, require, stop
from support.queues import assert_exactly_once, describe, queue_jobs, rendering

celery = require("celery")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]  # 3 processes on a busy CI machine


def start_worker(
    sim: SimulatorProcess, broker: str, queue: str, log: Path
) -> subprocess.Popen[str]:
    """``celery -A examples.celery_app worker --concurrency 2`` in a process group of its own."""
    env = {
        **sim.env(),
        "CELERY_BROKER_URL": broker,
        "CELERY_VISIBILITY_TIMEOUT": "3",  # a dead worker's tasks come back after 3 s
        "ARGIL_POLL_INTERVAL": "0.2",
    }
    command = [sys.executable, "-m", "celery", "-A", "examples.celery_app", "worker"]
    command += ["--concurrency", "2", "-Q", queue, "--loglevel", "INFO"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    with log.open("a") as out:
        return subprocess.Popen(
            command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip


def pool_processes(worker: subprocess.Popen[str]) -> list[int]:
    """The prefork pool's processes (the worker's children)."""
    children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text()
    return [int(pid) for pid in children.split()]


def test_celery_worker_killed_mid_task_pays_each_job_once(
    sim_process: SimulatorProcess, redis_url: str, tmp_path: Path
) -> None:
    """20 tasks over 15 keys, the first worker SIGKILLed while rendering: one video per key."""
    queue = f"argil-test-{uuid.uuid4().hex[:8]}"
    jobs = queue_jobs(sim_process, queue)
    sender = celery.Celery("sender", broker=redis_url, backend=redis_url)
    log = tmp_path / "workers.log"
    first = start_worker(sim_process, redis_url, queue, log)
    results: list[Any] = []
    try:
        results = [sender.send_task("make_video", args=[job], queue=queue) for job in jobs]
        deadline = time.monotonic() + 150
        # Both pool processes are waiting on a render, so the one killed holds a task.
        while rendering(sim_process) < 2 or sum(r.ready() for r in results) < 2:
            assert time.monotonic() < deadline, log.read_text()
            assert first.poll() is None, log.read_text()
            time.sleep(0.1)
        # A pool process dies mid-task (task_reject_on_worker_lost puts its task back), then
        # the whole worker does (acks_late: its unacknowledged tasks come back to the queue).
        os.kill(pool_processes(first)[0], signal.SIGKILL)
        kills = 1
        done_before = sum(r.ready() for r in results)
        while sum(r.ready() for r in results) < done_before + 2 or rendering(sim_process) == 0:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        assert not all(r.ready() for r in results)
        stop(first, signal.SIGKILL, group=True)  # the parent and both pool processes
        kills += 1
        killed_with_tasks_left = sum(not r.ready() for r in results)
        second = start_worker(sim_process, redis_url, queue, log)
        try:
            outcomes = [r.get(timeout=120) for r in results]
        finally:
            stop(second, group=True)
    finally:
        stop(first, signal.SIGKILL, group=True)
        sender.close()
    assert killed_with_tasks_left > 0
    assert "WorkerLostError" in log.read_text()  # the pool process died holding a task
    counters = assert_exactly_once(sim_process, jobs)
    by_key: dict[str, set[str]] = {}
    for outcome in outcomes:
        by_key.setdefault(outcome["key"], set()).add(outcome["video_id"])
    assert all(len(ids) == 1 for ids in by_key.values())  # a job sent twice: the same video
    print(
        f"celery: {len(jobs)} tasks, {kills} kills (the last one with {killed_with_tasks_left} "
        f"unfinished): {describe(counters)}",
        file=sys.stderr,
    )

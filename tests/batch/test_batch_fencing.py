"""Fencing: a coordinated worker frozen past its lease sends nothing once it wakes.

The frozen worker runs on an event loop of its own in a thread, and freezes that loop
(``time.sleep``, as SIGSTOP or a long GC would) at one step of one job until another worker,
on the test's loop beside the simulator, has taken the job over; then it wakes. Also one
real SIGSTOP/SIGCONT run of CLI workers (slow).
"""

from __future__ import annotations

import asyncio
import functools
import signal
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from support.client_fixtures import client_for
from support.fleet import paid_renders, start_worker, videos_per_key, write_jobs

from argil_async import Timeout
from argil_async.batch import (
    BatchOptions,
    RedisCoordinator,
    load_jobs,
    run_batch,
)
from argil_async.batch._records import JobRecord
from argil_async.batch._redis._coordinator import _keys_of

FAST = BatchOptions(poll_interval=0.05, retry_wait=0.05)
RENDER = "POST /videos/{id}/render"


class FreezingCoordinator(RedisCoordinator):
    """A worker's coordinator that freezes its whole event loop once, at ``step`` of the
    first job it reaches there, until another worker holds that job's claim."""

    def __init__(self, redis_url: str, *, step: str, **kwargs: object) -> None:
        super().__init__(redis_url, **kwargs)  # type: ignore[arg-type]
        # "create", "render" (before the fence), "sent" (after the create's fence: the window
        # no check can close) or "created" (before the create's save)
        self.step = step
        self.fences: Counter[str] = Counter()
        self.frozen: str | None = None
        self.url = redis_url

    async def fence(self, key: str, claim: str | None = None, *, cover: float = 0.0) -> None:
        self.fences[key] += 1
        wanted = {"create": 1, "render": 2}.get(self.step)
        if self.frozen is None and self.fences[key] == wanted:
            self._freeze(key, claim or self.claim_of(key))
        await super().fence(key, claim, cover=cover)
        if self.frozen is None and self.step == "sent":  # past the fence, before the create
            self._freeze(key, claim or self.claim_of(key))

    async def save(self, record: JobRecord, claim: str | None = None) -> None:
        if self.frozen is None and self.step == "created" and record.state == "CREATED":
            self._freeze(record.key, claim or self.claim_of(record.key))
        await super().save(record, claim)

    def _freeze(self, key: str, claim: str) -> None:
        """Block this loop (no renewals, nothing) until the job's claim is another's."""
        import redis

        self.frozen = key
        owners = _keys_of(self.batch or "")[5]
        deadline = time.monotonic() + 60
        with redis.Redis.from_url(self.url) as client:
            while time.monotonic() < deadline:
                holder = client.hget(owners, key)
                if holder is not None and holder.decode() not in (claim, f"~{claim}"):
                    return
                time.sleep(0.02)
        raise AssertionError(f"job {key} was not taken over within 60 s")


@pytest.mark.parametrize("step", ["create", "render", "created", "sent"])
async def test_a_worker_frozen_past_its_lease_sends_nothing_after_waking(
    sim_factory, tmp_path: Path, redis_url: str, redis_name: str, step: str, caplog
):
    """Frozen before a create, before a render, or after a create: one video per job, one
    accepted render each, none refused, and the frozen worker's jobs are taken over."""
    sim = await sim_factory(render_audio_time=0.05, render_video_time=0.1)
    keys = write_jobs(sim, tmp_path / "jobs.jsonl", 4)
    jobs = load_jobs(tmp_path / "jobs.jsonl")
    frozen = FreezingCoordinator(redis_url, step=step, batch=redis_name, lease_ttl=1)
    outcome: list[object] = []

    async def frozen_worker() -> None:
        async with client_for(sim, timeout=Timeout(total=1.0)) as client:
            outcome.append(
                await run_batch(
                    client,
                    jobs,
                    out=tmp_path / "frozen.jsonl",
                    concurrency=1,
                    callback="off",
                    progress="off",
                    options=FAST,
                    coordinator=frozen,
                )
            )

    thread = threading.Thread(target=lambda: asyncio.run(frozen_worker()))
    thread.start()
    try:
        await sim.wait_until(lambda: frozen.frozen is not None, timeout=60)
        async with client_for(sim) as client:
            other = await run_batch(
                client, jobs, out=tmp_path / "other.jsonl", concurrency=2, callback="off",
                progress="off", options=FAST,
                coordinator=RedisCoordinator(redis_url, batch=redis_name, lease_ttl=30),
            )  # fmt: skip
    finally:
        await asyncio.to_thread(thread.join, 120)
    assert other.ok
    assert [getattr(summary, "ok", summary) for summary in outcome] == [True]
    assert videos_per_key(sim, keys) == dict.fromkeys(keys, 1)
    assert sim.stats.by_route[RENDER] == 4 == paid_renders(sim)  # none refused, none twice
    if step == "sent":
        # Either the late create lands and the frozen worker deletes it once it knows, or the
        # worker, on waking, finds its claim's local deadline passed and sends nothing (which
        # one depends on how long the freeze outlasted that deadline: both are safe).
        if sim.stats.by_route["POST /videos"] == 5:
            assert sim.stats.by_route["DELETE /videos/{id}"] >= 1
        else:
            assert sim.stats.by_route["POST /videos"] == 4
            assert "claim not renewed in time" in caplog.text
    else:
        assert sim.stats.by_route["POST /videos"] == 4  # a frozen create is adopted, not remade


async def test_a_stray_idle_video_is_removed_by_the_worker_taking_the_job_over(
    sim_factory, tmp_path: Path, redis_url: str, redis_name: str
):
    """Two IDLE videos of one job (a frozen worker's late create): the worker taking the job
    over keeps one, deletes the other, and renders once."""
    sim = await sim_factory(render_audio_time=0.05, render_video_time=0.05)
    keys = write_jobs(sim, tmp_path / "jobs.jsonl", 2)
    jobs = load_jobs(tmp_path / "jobs.jsonl")
    dead = RedisCoordinator(redis_url, batch=redis_name, lease_ttl=1)
    batch_id, _ = await dead.open(jobs, sim.base_url)
    record, _, _ = await dead.claim()
    assert record is not None
    await dead.save(record.moved(state="CREATING", attempts=1))
    job = next(j for j in jobs if j.key == record.key)
    async with client_for(sim) as client:
        for _ in range(2):  # the create, and a late twin
            await client.videos.create(**job.create_arguments({}, batch_id))
        await dead.aclose()
        summary = await run_batch(
            client, jobs, out=tmp_path / "r.jsonl", callback="off", progress="off",
            options=FAST, coordinator=RedisCoordinator(redis_url, batch=redis_name, lease_ttl=30),
        )  # fmt: skip
    assert summary.ok
    assert videos_per_key(sim, keys) == dict.fromkeys(keys, 1)
    assert sim.stats.by_route["DELETE /videos/{id}"] == 1
    assert sim.stats.by_route[RENDER] == 2 == paid_renders(sim)


@pytest.mark.slow
@pytest.mark.timeout(400)
@pytest.mark.skipif(sys.platform == "win32", reason="SIGSTOP is POSIX")
async def test_sigstop_past_the_lease_then_sigcont_makes_nothing_twice(
    sim_factory, tmp_path: Path, redis_url: str, redis_name: str
):
    """2 CLI workers on 40 jobs, one SIGSTOPped past its lease twice then SIGCONTed: one video
    per job, 40 accepted renders, none refused."""
    sim = await sim_factory(render_audio_time=0.05, render_video_time=0.2, check_spec=False)
    keys = write_jobs(sim, tmp_path / "jobs.jsonl", 40)

    start = functools.partial(
        start_worker, sim, tmp_path, coordinator=redis_url, batch=redis_name, concurrency=5,
        lease_ttl=2,
    )  # fmt: skip

    workers = [await start(n) for n in (1, 2)]
    for threshold in (8, 20):
        made = threshold
        await sim.wait_until(lambda n=made: sim.stats.by_route["POST /videos"] >= n, timeout=120)
        workers[0].send_signal(signal.SIGSTOP)
        await asyncio.sleep(13)  # past the lease and the fence's cover (10 s + 2 s)
        workers[0].send_signal(signal.SIGCONT)
    for worker in workers:
        _, stderr = await asyncio.wait_for(worker.communicate(), timeout=300)
        assert worker.returncode == 0, stderr.decode()[-2000:]
    assert videos_per_key(sim, keys) == dict.fromkeys(keys, 1)
    assert sim.stats.by_route[RENDER] == 40 == paid_renders(sim)

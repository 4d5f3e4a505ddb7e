"""Brief Redis outages: a coordinated worker retries Redis (for a quarter of its lease, at most
10 s) instead of exiting, and gives up with a typed error only after that.

Each test has a redis-server of its own (``redis_process``), persisting every write, that it
kills and starts again on the same port: connections drop and new ones are refused meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import anyio
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from support.client_fixtures import client_for
from support.redis_fixtures import RedisProcess
from test_batch_coordinator import FAST, videos_per_key, write_jobs

from argil_async.batch import CoordinatorUnavailableError, RedisCoordinator, load_jobs, run_batch
from argil_async.errors import RedisUnavailableError

OUTAGE = 1.1  # seconds without Redis


async def _outage(server: RedisProcess, seconds: float = OUTAGE) -> None:
    """Kill Redis, wait ``seconds``, start it again on the same port (in a thread: the event
    loop goes on retrying meanwhile)."""
    await anyio.to_thread.run_sync(server.stop)
    await anyio.sleep(seconds)
    await anyio.to_thread.run_sync(server.start)


async def test_claim_rides_out_a_redis_restart(sim_factory, tmp_path: Path, redis_process):
    """A claim made while Redis is down waits for it and then claims a job (no error)."""
    sim = await sim_factory()
    write_jobs(sim, tmp_path / "jobs.jsonl", 3)
    jobs = load_jobs(tmp_path / "jobs.jsonl")
    async with RedisCoordinator(redis_process.url, batch="outage") as coordinator:
        await coordinator.open(jobs, sim.base_url)
        await anyio.to_thread.run_sync(redis_process.stop)
        claim = asyncio.ensure_future(coordinator.claim())
        await anyio.sleep(OUTAGE)
        assert not claim.done()  # still retrying, not failed
        await anyio.to_thread.run_sync(redis_process.start)
        record, _, _ = await claim
        assert record is not None
        assert record.key == jobs[0].key
        assert set(await coordinator.renew([record.key])) == {True}


async def test_a_claim_whose_answer_was_lost_is_given_back(
    sim_factory, tmp_path: Path, redis_url: str, redis_name: str
):
    """A CLAIM that ran in Redis but whose answer the dropped connection lost is retried; the
    job the lost attempt claimed goes back to the front of the queue at once, not after the
    lease (120 s here), so the next claim gets it."""
    sim = await sim_factory()
    write_jobs(sim, tmp_path / "jobs.jsonl", 3)
    jobs = load_jobs(tmp_path / "jobs.jsonl")
    async with RedisCoordinator(redis_url, batch=redis_name) as coordinator:
        await coordinator.open(jobs, sim.base_url)
        store = coordinator._store  # the coordinator's argil_async._redis.RedisLink
        claim_script = store.scripts["CLAIM"]
        lost: list[object] = []

        async def answer_lost(**arguments: object) -> object:
            answer = await claim_script(**arguments)  # type: ignore[arg-type]
            if not lost:  # the first time: it ran, then the connection dropped
                lost.append(answer)
                raise RedisConnectionError("Connection reset by peer")
            return answer

        store.scripts["CLAIM"] = answer_lost  # type: ignore[assignment]
        first, _, _ = await coordinator.claim()
        assert lost  # the lost attempt claimed jobs[0]; the retry answered jobs[1]
        assert first is not None
        assert first.key == jobs[1].key
        second, _, _ = await coordinator.claim()
        assert second is not None
        assert second.key == jobs[0].key  # given back at once, not held for lease_ttl


async def test_an_outage_longer_than_the_budget_is_a_typed_error(tmp_path: Path, redis_process):
    """Redis down for longer than a quarter of the lease: CoordinatorUnavailableError (a
    RedisUnavailableError, nothing about Argil), not a hang and not a builtin error."""
    async with RedisCoordinator(redis_process.url, batch="gone", lease_ttl=2) as coordinator:
        assert await coordinator.records() == {}
        await anyio.to_thread.run_sync(redis_process.stop)
        with pytest.raises(CoordinatorUnavailableError) as caught:
            await coordinator.claim()
    assert isinstance(caught.value, RedisUnavailableError)
    assert "unreachable" in str(caught.value)


@pytest.mark.slow
async def test_a_coordinated_worker_survives_a_redis_restart_mid_run(
    sim_factory, tmp_path: Path, redis_process
):
    """Redis killed and restarted (1.1 s) while a worker drives 8 jobs: the run ends ok,
    one video and one render per job (issue 18 item 3: it used to exit 1)."""
    sim = await sim_factory(render_audio_time=0.2, render_video_time=0.3)
    keys = write_jobs(sim, tmp_path / "jobs.jsonl", 8)
    jobs = load_jobs(tmp_path / "jobs.jsonl")
    async with client_for(sim) as client:
        coordinator = RedisCoordinator(redis_process.url, batch="mid-run")
        running = run_batch(
            client, jobs, out=tmp_path / "r.jsonl", concurrency=2, callback="off",
            progress="off", options=FAST, coordinator=coordinator,
        )  # fmt: skip
        run = asyncio.ensure_future(running)
        deadline = time.monotonic() + 60
        while sim.stats.by_route["POST /videos/{id}/render"] < 2 and not run.done():
            assert time.monotonic() < deadline, "the run made no progress"
            await asyncio.sleep(0.02)
        await _outage(redis_process)
        summary = await run
    assert summary.ok
    assert summary.counts == {"DONE": 8}
    assert videos_per_key(sim, keys) == dict.fromkeys(keys, 1)
    assert sim.stats.by_route["POST /videos/{id}/render"] == 8

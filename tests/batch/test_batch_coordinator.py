"""Coordinated batches: several workers share one batch through a real Redis.

In-process workers (two clients, two coordinators) for the fast checks; real ``argil batch
run`` processes, one SIGKILLed and never restarted, for the takeover at scale.
"""

from __future__ import annotations

import asyncio
import functools
import json
import signal
import sys
from pathlib import Path

import pytest
from support.client_fixtures import client_for
from support.fleet import start_worker, videos_per_key, write_jobs

from argil_async.batch import (
    JOB_KEY_EXTRA,
    BatchMismatchError,
    BatchOptions,
    ClaimLostError,
    RedisCoordinator,
    load_jobs,
    run_batch,
)
from argil_async.batch._records import CREATED, CREATING
from argil_async.batch._redis._coordinator import _PARTS, coordinator_file
from argil_async.errors import InvalidRequestError

FAST = BatchOptions(poll_interval=0.05, retry_wait=0.05)


def result_keys(path: Path) -> list[str]:
    """The keys of a results file, one per line, in file order."""
    return [json.loads(line)["key"] for line in path.read_text().splitlines()]


async def test_two_workers_share_one_batch(sim_factory, tmp_path: Path, redis_url: str, redis_name):
    """Two workers on 40 jobs: 40 videos, 40 renders, and each results file holds all 40."""
    sim = await sim_factory(render_audio_time=0.05, render_video_time=0.1)
    keys = write_jobs(sim, tmp_path / "jobs.jsonl", 40)
    jobs = load_jobs(tmp_path / "jobs.jsonl")

    async def worker(n: int):
        async with client_for(sim) as client:
            coordinator = RedisCoordinator(redis_url, batch=redis_name)
            return await run_batch(
                client, jobs, out=tmp_path / f"r{n}.jsonl", concurrency=5, callback="off",
                progress="off", options=FAST, coordinator=coordinator,
            )  # fmt: skip

    summaries = await asyncio.gather(worker(1), worker(2))
    assert all(summary.ok for summary in summaries)
    assert set(videos_per_key(sim, keys).values()) == {1}
    assert sim.stats.by_route["POST /videos/{id}/render"] == 40
    for n in (1, 2):
        assert result_keys(tmp_path / f"r{n}.jsonl") == keys
        noted = RedisCoordinator.for_results(redis_url, tmp_path / f"r{n}.jsonl")
        assert noted.batch == redis_name
    async with RedisCoordinator.for_results(redis_url, tmp_path / "r1.jsonl") as coordinator:
        status = await coordinator.status()
    assert status.counts == {"DONE": 40}


async def test_a_dead_workers_job_is_taken_over_and_reconciled(
    sim_factory, tmp_path: Path, redis_url: str, redis_name: str
):
    """A worker that saved CREATING, created the video, then died: the next adopts that video."""
    sim = await sim_factory(render_audio_time=0.05, render_video_time=0.05)
    keys = write_jobs(sim, tmp_path / "jobs.jsonl", 3)
    jobs = load_jobs(tmp_path / "jobs.jsonl")
    dead = RedisCoordinator(redis_url, batch=redis_name, lease_ttl=1)
    batch_id, _ = await dead.open(jobs, sim.base_url)
    record, _, _ = await dead.claim()
    assert record is not None
    await dead.save(record.moved(state=CREATING, attempts=1))  # as the driver does
    job = next(j for j in jobs if j.key == record.key)
    async with client_for(sim) as client:
        await client.videos.create(**job.create_arguments({}, batch_id))  # then it died
        # The survivor's own leases must not lapse on a loaded machine: only the dead one's do.
        survivor = RedisCoordinator(redis_url, batch=redis_name, lease_ttl=30)
        summary = await run_batch(
            client, jobs, out=tmp_path / "r.jsonl", callback="off", progress="off",
            options=FAST, coordinator=survivor,
        )  # fmt: skip
    assert summary.ok
    assert videos_per_key(sim, keys) == dict.fromkeys(keys, 1)
    assert sim.stats.by_route["POST /videos"] == 3
    with pytest.raises(ClaimLostError):  # the dead worker's late save is refused
        await dead.save(record.moved(state="CREATED"))
    await dead.aclose()
    lines = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    taken_over = next(line for line in lines if line["key"] == record.key)
    assert taken_over["attempts"] == 2  # counted like a resumed run


async def _snapshot(redis_url: str, batch: str) -> dict[bytes, bytes | None]:
    """Every key of the batch, dumped in one transaction: what an AOF fsynced then holds."""
    import redis.asyncio as aioredis

    keys = [f"argil:batch:{{{batch}}}:{part}" for part in _PARTS]
    async with (
        aioredis.Redis.from_url(redis_url) as client,
        client.pipeline(transaction=True) as pipe,
    ):
        for key in keys:
            pipe.dump(key)
        dumps = await pipe.execute()
    return dict(zip((key.encode() for key in keys), dumps, strict=True))


async def _restore(redis_url: str, snapshot: dict[bytes, bytes | None]) -> None:
    """Put the batch's keys back as in ``snapshot``: every later write is lost."""
    import redis.asyncio as aioredis

    async with aioredis.Redis.from_url(redis_url) as client:
        for key, dumped in snapshot.items():
            await client.delete(key)
            if dumped is not None:
                await client.restore(key, 0, dumped)


async def test_redis_losing_its_last_writes_makes_nothing_twice(
    sim_factory, tmp_path: Path, redis_url: str, redis_name: str
):
    """Redis back at a mid-run snapshot (lost writes): no video, no render is made twice."""
    sim = await sim_factory(render_audio_time=0.05, render_video_time=0.3)
    keys = write_jobs(sim, tmp_path / "jobs.jsonl", 30)
    jobs = load_jobs(tmp_path / "jobs.jsonl")
    snapshots: list[dict[bytes, bytes | None]] = []

    async def snapshot_midway() -> None:
        await sim.wait_until(lambda: sim.stats.by_route["POST /videos"] >= 12, timeout=60)
        snapshots.append(await _snapshot(redis_url, redis_name))

    async with client_for(sim) as client:
        coordinator = RedisCoordinator(redis_url, batch=redis_name, lease_ttl=1)
        first, _ = await asyncio.gather(
            run_batch(
                client, jobs, out=tmp_path / "r1.jsonl", concurrency=6, callback="off",
                progress="off", options=FAST, coordinator=coordinator,
            ),
            snapshot_midway(),
        )  # fmt: skip
        assert first.ok
        await _restore(redis_url, snapshots[0])  # Redis crashed; its AOF lost the rest
        async with RedisCoordinator(redis_url, batch=redis_name) as reader:
            lost = await reader.records()
        states = {record.state for record in lost.values()}
        assert {"PENDING", "DONE"} - states == set(), states  # some work was really forgotten
        second = await run_batch(
            client, jobs, out=tmp_path / "r2.jsonl", concurrency=6, callback="off",
            progress="off", options=FAST,
            coordinator=RedisCoordinator(redis_url, batch=redis_name, lease_ttl=30),
        )  # fmt: skip
    assert second.ok
    assert videos_per_key(sim, keys) == dict.fromkeys(keys, 1)
    assert sim.stats.by_route["POST /videos"] == 30
    assert sim.stats.by_route["POST /videos/{id}/render"] == 30
    assert result_keys(tmp_path / "r2.jsonl") == keys


async def test_a_lost_rendering_save_does_not_render_again(
    sim_factory, tmp_path: Path, redis_url: str, redis_name: str
):
    """Redis kept CREATED but lost RENDERING, and the render landed: no second POST render."""
    sim = await sim_factory(render_audio_time=0.05, render_video_time=0.05)
    write_jobs(sim, tmp_path / "jobs.jsonl", 2)
    jobs = load_jobs(tmp_path / "jobs.jsonl")
    dead = RedisCoordinator(redis_url, batch=redis_name, lease_ttl=1)
    batch_id, _ = await dead.open(jobs, sim.base_url)
    record, _, _ = await dead.claim()
    assert record is not None
    job = next(j for j in jobs if j.key == record.key)
    async with client_for(sim) as client:
        video = await client.videos.create(**job.create_arguments({}, batch_id))
        await dead.save(record.moved(state=CREATED, video_id=video.id, attempts=1))
        await client.videos.render(video.id)  # its RENDERING save was lost, then it died
        await dead.aclose()
        summary = await run_batch(
            client, jobs, out=tmp_path / "r.jsonl", callback="off", progress="off",
            options=FAST, coordinator=RedisCoordinator(redis_url, batch=redis_name, lease_ttl=30),
        )  # fmt: skip
    assert summary.ok
    assert sim.stats.by_route["POST /videos"] == 2
    assert sim.stats.by_route["POST /videos/{id}/render"] == 2


async def test_status_report_and_merged_results_read_the_batch_mid_run(
    sim_factory, tmp_path: Path, redis_url: str, redis_name: str, capsys
):
    """Mid-run: CLI status --json/--report, results() and write_results() show every job."""
    from argil_async._cli import main

    sim = await sim_factory()
    keys = write_jobs(sim, tmp_path / "jobs.jsonl", 5)
    jobs = load_jobs(tmp_path / "jobs.jsonl")
    async with RedisCoordinator(redis_url, batch=redis_name) as worker:
        batch_id, _ = await worker.open(jobs, sim.base_url)
        record, _, _ = await worker.claim()
        assert record is not None
        await worker.save(record.moved(state=CREATING, attempts=1))  # a job under way
        results = await worker.results()
        assert await worker.write_results(tmp_path / "merged.jsonl") == 5
    assert [row.key for row in results] == keys
    assert {row.batch for row in results} == {batch_id}
    assert sorted(row.status for row in results) == ["CREATING"] + ["PENDING"] * 4
    merged = [json.loads(line) for line in (tmp_path / "merged.jsonl").read_text().splitlines()]
    assert [line["key"] for line in merged] == keys
    coordinator_file(tmp_path / "r.jsonl").write_text(f"{redis_name}\n")  # as a run notes it
    status_argv = ["batch", "status", str(tmp_path / "r.jsonl")]
    assert await asyncio.to_thread(main, status_argv) == 2  # no results yet, no --coordinator
    assert "--coordinator" in capsys.readouterr().err  # ... which the message suggests
    report = tmp_path / "report.csv"
    argv = [*status_argv, "--coordinator", redis_url, "--json", "--report", str(report)]
    assert await asyncio.to_thread(main, argv) == 3  # unfinished jobs
    assert json.loads(capsys.readouterr().out)["counts"] == {"PENDING": 4, "CREATING": 1}
    rows = report.read_text().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == keys


async def test_a_changed_job_file_cannot_join(sim_factory, tmp_path: Path, redis_url, redis_name):
    """A worker with other jobs, or another API, is refused instead of mixing batches."""
    sim = await sim_factory()
    write_jobs(sim, tmp_path / "a.jsonl", 3)
    write_jobs(sim, tmp_path / "b.jsonl", 4)
    first = RedisCoordinator(redis_url, batch=redis_name)
    await first.open(load_jobs(tmp_path / "a.jsonl"), sim.base_url)
    other_jobs = RedisCoordinator(redis_url, batch=redis_name)
    with pytest.raises(BatchMismatchError, match="other jobs"):
        await other_jobs.open(load_jobs(tmp_path / "b.jsonl"), sim.base_url)
    other_api = RedisCoordinator(redis_url, batch=redis_name)
    with pytest.raises(BatchMismatchError, match="was run against"):
        await other_api.open(load_jobs(tmp_path / "a.jsonl"), "https://elsewhere.test/v1")
    for coordinator in (first, other_jobs, other_api):
        await coordinator.aclose()


def test_default_batch_name_follows_the_job_keys(tmp_path: Path):
    """The same keys name the same batch on every machine, edited or not; other keys another."""
    from argil_async.batch._redis._coordinator import default_batch_name

    row = {"key": "k", "name": "n", "moments": [{"avatarId": "a", "transcript": "t"}]}
    jobs_path = tmp_path / "j.jsonl"
    jobs_path.write_text(json.dumps(row) + "\n")
    same = default_batch_name(load_jobs(jobs_path))
    jobs_path.write_text(json.dumps({**row, "name": "other"}) + "\n")
    assert default_batch_name(load_jobs(jobs_path)) == same  # joined, and its edits refused
    jobs_path.write_text(json.dumps({**row, "key": "job-0002"}) + "\n")
    assert default_batch_name(load_jobs(jobs_path)) != same


@pytest.mark.parametrize(
    "arguments",
    [{"lease_ttl": float("nan")}, {"lease_ttl": float("inf")}, {"lease_ttl": 0.5},
     {"lease_ttl": "60"}, {"batch": 5}, {"batch": ""}, {"batch": "a\nb"}],
)  # fmt: skip
def test_bad_coordinator_settings_are_refused_by_name(arguments: dict[str, object]):
    """NaN, infinite or too short leases and non-text batch names are typed errors up front."""
    with pytest.raises(InvalidRequestError) as caught:
        RedisCoordinator("redis://127.0.0.1:1/0", **arguments)  # type: ignore[arg-type]
    assert caught.value.field == next(iter(arguments))


def test_unreachable_coordinator_is_a_typed_error(tmp_path: Path):
    """`argil batch status --coordinator` on a dead Redis exits 2 with a message."""
    import subprocess

    (tmp_path / "r.jsonl").write_text("")
    coordinator_file(tmp_path / "r.jsonl").write_text("some-batch\n")
    done = subprocess.run(
        [sys.executable, "-m", "argil_async", "batch", "status", str(tmp_path / "r.jsonl"),
         "--coordinator", "redis://:secret@127.0.0.1:1/0"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "unreachable" in done.stderr
    assert "secret" not in done.stderr + done.stdout


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
async def test_three_workers_one_killed_finish_600_jobs_exactly_once(
    sim_factory, tmp_path: Path, redis_url: str, redis_name: str
):
    """3 CLI workers on 600 jobs, one SIGKILLed midway: 600 videos, 600 renders, all once."""
    sim = await sim_factory(render_audio_time=0.05, render_video_time=0.1, check_spec=False)
    keys = write_jobs(sim, tmp_path / "jobs.jsonl", 600)

    start = functools.partial(
        start_worker, sim, tmp_path, coordinator=redis_url, batch=redis_name, concurrency=10,
        lease_ttl=3,
    )  # fmt: skip

    workers = [await start(n) for n in range(3)]
    await sim.wait_until(lambda: sim.stats.by_route["POST /videos"] >= 200, timeout=120)
    workers[0].send_signal(signal.SIGKILL)
    await workers[0].wait()
    for worker in workers[1:]:
        _, stderr = await asyncio.wait_for(worker.communicate(), timeout=300)
        assert worker.returncode == 0, stderr.decode()[-2000:]
    assert videos_per_key(sim, keys) == dict.fromkeys(keys, 1)
    assert sim.stats.by_route["POST /videos"] == 600
    assert sim.stats.by_route["POST /videos/{id}/render"] == 600
    for n in (1, 2):
        lines = [json.loads(line) for line in (tmp_path / f"r{n}.jsonl").read_text().splitlines()]
        assert [line["key"] for line in lines] == keys
        assert {line["status"] for line in lines} == {"DONE"}
    assert any(line["attempts"] >= 2 for line in lines)  # the dead worker's jobs, taken over
    async with RedisCoordinator(redis_url, batch=redis_name) as coordinator:
        assert (await coordinator.status()).counts == {"DONE": 600}


async def _coordinated(client, jobs, out: Path, redis_url: str, batch: str, **options):
    return await run_batch(
        client, jobs, out=out, callback="off", progress="off", options=FAST,
        coordinator=RedisCoordinator(redis_url, batch=batch, lease_ttl=30), **options,
    )  # fmt: skip


async def test_workers_retrying_together_retry_each_failed_job_once(
    sim_factory, tmp_path: Path, redis_url: str, redis_name: str
):
    """retry_failed on two workers started together: one new video per failed job, not two."""
    sim = await sim_factory(render_audio_time=0.05, render_video_time=0.05)
    write_jobs(sim, tmp_path / "jobs.jsonl", 6, failing=frozenset({1, 4}))
    jobs = load_jobs(tmp_path / "jobs.jsonl")
    async with client_for(sim) as client:
        first = await _coordinated(client, jobs, tmp_path / "r.jsonl", redis_url, redis_name)
        assert (first.done, first.failed) == (4, 2)
        retries = [
            _coordinated(
                client, jobs, tmp_path / f"r{n}.jsonl", redis_url, redis_name, retry_failed=True
            )
            for n in (1, 2)
        ]
        again = await asyncio.gather(*retries)
    assert [(summary.done, summary.failed) for summary in again] == [(4, 2), (4, 2)]
    assert sim.stats.by_route["POST /videos"] == 8  # 6, then the 2 failed ones once more
    assert sim.stats.by_route["POST /videos/{id}/render"] == 8
    rows = (tmp_path / "r1.jsonl").read_text().splitlines()
    lines = {line["key"]: line for line in map(json.loads, rows)}
    assert (lines["job-0001"]["attempts"], lines["job-0001"]["status"]) == (2, "FAILED")
    assert lines["job-0000"]["attempts"] == 1


async def test_retry_waits_until_no_worker_runs_the_batch(
    sim_factory, tmp_path: Path, redis_url: str, redis_name: str
):
    """Joining with retry_failed while a worker holds a job retries nothing; once idle, it does."""
    sim = await sim_factory()
    write_jobs(sim, tmp_path / "jobs.jsonl", 3)
    jobs = load_jobs(tmp_path / "jobs.jsonl")
    async with RedisCoordinator(redis_url, batch=redis_name, lease_ttl=60) as holder:
        await holder.open(jobs, sim.base_url)
        failed, _, _ = await holder.claim()
        assert failed is not None
        await holder.save(failed.moved(state="FAILED", video_id="v-old", attempts=1))
        running, _, _ = await holder.claim()  # a job under way: the batch is being run
        assert running is not None
        async with RedisCoordinator(redis_url, batch=redis_name) as joiner:
            _, records = await joiner.open(jobs, sim.base_url, retry_failed=True)
            assert records[failed.key].state == "FAILED"
        await holder.release([running.key])
        async with RedisCoordinator(redis_url, batch=redis_name) as joiner:
            _, records = await joiner.open(jobs, sim.base_url, retry_failed=True)
    assert records[failed.key].state == "PENDING"
    assert records[failed.key].retired_ids == {"v-old"}  # never adopted again
    assert records[running.key].state == "PENDING"


async def test_edited_failed_jobs_are_retried_only_with_retry_failed(
    sim_factory, tmp_path: Path, redis_url: str, redis_name: str
):
    """A job file whose failed jobs were fixed: refused as is, retried with retry_failed."""
    sim = await sim_factory(render_audio_time=0.05, render_video_time=0.05)
    write_jobs(sim, tmp_path / "jobs.jsonl", 4, failing=frozenset({2}))
    jobs = load_jobs(tmp_path / "jobs.jsonl")
    write_jobs(sim, tmp_path / "fixed.jsonl", 4)
    fixed = load_jobs(tmp_path / "fixed.jsonl")
    out = tmp_path / "r.jsonl"
    async with client_for(sim) as client:
        assert (await _coordinated(client, jobs, out, redis_url, redis_name)).failed == 1
        with pytest.raises(BatchMismatchError, match="--retry-failed"):
            await _coordinated(client, fixed, out, redis_url, redis_name)
        summary = await _coordinated(client, fixed, out, redis_url, redis_name, retry_failed=True)
        assert (summary.done, summary.failed, summary.finished_before) == (4, 0, 3)
        # The fixed file is the batch now: running it again retries and makes nothing.
        again = await _coordinated(client, fixed, out, redis_url, redis_name, retry_failed=True)
    assert again.done == 4
    assert sim.stats.by_route["POST /videos"] == 5
    assert len(sim.state.videos_with_extras(**{JOB_KEY_EXTRA: "job-0002"})) == 2


async def test_max_failures_stops_a_coordinated_worker(
    sim_factory, tmp_path: Path, redis_url: str, redis_name: str
):
    """A worker whose 2 jobs in a row failed claims no more: summary.stopped, the rest PENDING."""
    sim = await sim_factory(render_audio_time=0.05, render_video_time=0.05)
    write_jobs(sim, tmp_path / "jobs.jsonl", 6, failing=frozenset(range(6)))
    jobs = load_jobs(tmp_path / "jobs.jsonl")
    async with client_for(sim) as client:
        summary = await _coordinated(
            client, jobs, tmp_path / "r.jsonl", redis_url, redis_name, concurrency=1,
            max_failures=2,
        )  # fmt: skip
    assert "2 jobs failed in a row" in (summary.stopped or "")
    assert not summary.ok
    assert sim.stats.by_route["POST /videos"] == 2
    async with RedisCoordinator(redis_url, batch=redis_name) as coordinator:
        assert (await coordinator.status()).counts == {"PENDING": 4, "FAILED": 2}

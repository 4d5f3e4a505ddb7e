"""Coordinated batches under faults: Redis losing the batch, a missing results folder, the
whole batch's progress, and takeovers that are logged.

Each Redis fault runs against a redis-server of the test's own (FLUSHALL and SHUTDOWN NOSAVE
would wipe the shared one), on loopback, with the simulator counting what was paid for.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.client_fixtures import client_for
from support.fleet import paid_renders, start_worker, videos_per_key, write_jobs

from argil_async.batch import (
    BATCH_EXTRA,
    BatchLostError,
    BatchOptions,
    CoordinatorUnavailableError,
    JournalError,
    RedisCoordinator,
    load_jobs,
    run_batch,
)
from argil_async.batch._redis._coordinator import _keys_of

FAST = BatchOptions(poll_interval=0.05, retry_wait=0.05)
RENDER = "POST /videos/{id}/render"


class RedisProcess:
    """A redis-server of one test, without persistence, restartable on the same port."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("needs a redis-server binary")
        self.binary = binary
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait until it answers PING."""
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while not self._answers():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)

    def _answers(self) -> bool:
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", self.port), 0.5) as conn,
        ):
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
        return False

    def command(self, *words: str) -> None:
        """Send one command; SHUTDOWN's closed connection is its answer."""
        with socket.create_connection(("127.0.0.1", self.port), 5) as conn:
            parts = [f"*{len(words)}\r\n"] + [f"${len(w)}\r\n{w}\r\n" for w in words]
            conn.sendall("".join(parts).encode())
            with contextlib.suppress(OSError):
                conn.recv(64)

    def restart_empty(self) -> None:
        """SHUTDOWN NOSAVE, then a new server on the same port: every key is gone."""
        assert self.process is not None
        self.command("SHUTDOWN", "NOSAVE")
        self.process.wait(timeout=20)
        self.start()

    def stop(self) -> None:
        """Stop the server."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@pytest.fixture
def own_redis() -> Iterator[RedisProcess]:
    """A running redis-server of this test alone."""
    server = RedisProcess()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def result_lines(path: Path) -> list[dict[str, object]]:
    """The lines of a results file."""
    return [json.loads(line) for line in path.read_text().splitlines()]


async def _worker(client, jobs, out: Path, url: str, batch: str, **options):
    return await run_batch(
        client, jobs, out=out, concurrency=4, callback="off", progress="off", options=FAST,
        coordinator=RedisCoordinator(url, batch=batch, lease_ttl=30), **options,
    )  # fmt: skip


async def test_flushall_mid_run_stops_workers_and_the_rerun_adopts_every_video(
    sim_factory, tmp_path: Path, own_redis: RedisProcess
):
    """FLUSHALL mid-run: both workers raise BatchLostError, keep full results; the rerun
    gives each job one video with no extra create or render."""
    sim = await sim_factory(render_audio_time=0.05, render_video_time=1.0)
    keys = write_jobs(sim, tmp_path / "jobs.jsonl", 20)
    jobs = load_jobs(tmp_path / "jobs.jsonl")

    async def flush_midway() -> None:
        await sim.wait_until(lambda: sim.stats.by_route["POST /videos"] >= 8, timeout=60)
        await asyncio.to_thread(own_redis.command, "FLUSHALL")

    async with client_for(sim) as client:
        outcomes = await asyncio.gather(
            _worker(client, jobs, tmp_path / "r1.jsonl", own_redis.url, "b"),
            _worker(client, jobs, tmp_path / "r2.jsonl", own_redis.url, "b"),
            flush_midway(),
            return_exceptions=True,
        )
        assert all(isinstance(outcome, BatchLostError) for outcome in outcomes[:2]), outcomes
        for n in (1, 2):  # every job's line is kept, never a file emptied by the empty Redis
            assert [line["key"] for line in result_lines(tmp_path / f"r{n}.jsonl")] == keys
        summary = await _worker(client, jobs, tmp_path / "r3.jsonl", own_redis.url, "b")
    assert summary.ok
    assert videos_per_key(sim, keys) == dict.fromkeys(keys, 1)
    assert sim.stats.by_route["POST /videos"] == 20  # the lost batch's videos were adopted
    assert sim.stats.by_route[RENDER] == 20 == paid_renders(sim)  # none twice, none refused
    batches = {str(line["batch"]) for line in result_lines(tmp_path / "r3.jsonl")}
    marks = {(video.extras or {}).get(BATCH_EXTRA) for video in sim.state.videos.values()}
    assert len(marks - batches) == 1  # the lost batch's videos, adopted by the new batch


async def test_a_lost_batch_is_noticed_at_the_next_claim(
    sim_factory, tmp_path: Path, own_redis: RedisProcess
):
    """Deleting the batch's keys (an eviction) makes claim, save and fence raise BatchLostError."""
    sim = await sim_factory()
    write_jobs(sim, tmp_path / "jobs.jsonl", 3)
    jobs = load_jobs(tmp_path / "jobs.jsonl")
    async with RedisCoordinator(own_redis.url, batch="evicted") as worker:
        await worker.open(jobs, sim.base_url)
        record, _, _ = await worker.claim()
        assert record is not None
        await asyncio.to_thread(own_redis.command, "DEL", *_keys_of("evicted")[:2])
        for call in (worker.claim(), worker.save(record), worker.fence(record.key)):
            with pytest.raises(BatchLostError, match="vanished"):
                await call
        async with RedisCoordinator(own_redis.url, batch="evicted") as again:
            await again.open(jobs, sim.base_url)  # a new epoch of the same batch
        with pytest.raises(BatchLostError):  # the old worker does not join the new epoch
            await worker.claim()


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes")
async def test_redis_restarted_without_persistence_mid_run(
    sim_factory, tmp_path: Path, own_redis: RedisProcess
):
    """SHUTDOWN NOSAVE + a new server on the port: CLI workers exit non-zero, results kept
    whole; the rerun makes each job one video, with no extra create or render."""
    sim = await sim_factory(render_audio_time=0.05, render_video_time=0.3, check_spec=False)
    keys = write_jobs(sim, tmp_path / "jobs.jsonl", 40)

    start = functools.partial(
        start_worker, sim, tmp_path, coordinator=own_redis.url, batch="restarted", concurrency=5,
        lease_ttl=20, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip

    workers = [await start(n) for n in (1, 2)]
    await sim.wait_until(lambda: sim.stats.by_route["POST /videos"] >= 12, timeout=120)
    await asyncio.to_thread(own_redis.restart_empty)
    for n, worker in zip((1, 2), workers, strict=True):
        stdout, stderr = await asyncio.wait_for(worker.communicate(), timeout=120)
        assert worker.returncode == 1, (stdout + stderr).decode()[-2000:]
        assert b"0 jobs" not in stdout
        assert b"vanished" in stderr or b"unreachable" in stderr, stderr.decode()[-2000:]
        results = tmp_path / f"r{n}.jsonl"
        assert not results.exists() or len(result_lines(results)) == 40
    assert sim.stats.by_route["POST /videos"] < 40
    rerun = await start(3)
    stdout, stderr = await asyncio.wait_for(rerun.communicate(), timeout=200)
    assert rerun.returncode == 0, stderr.decode()[-2000:]
    assert videos_per_key(sim, keys) == dict.fromkeys(keys, 1)
    assert sim.stats.by_route["POST /videos"] == 40
    assert sim.stats.by_route[RENDER] == 40 == paid_renders(sim)


async def test_out_in_a_missing_folder_is_made_before_the_batch_is_registered(
    sim_factory, tmp_path: Path, own_redis: RedisProcess
):
    """--out in a missing folder: made, as a SQLite run does; an impossible one: JournalError
    before anything is registered in Redis."""
    sim = await sim_factory(render_audio_time=0.05, render_video_time=0.05)
    keys = write_jobs(sim, tmp_path / "jobs.jsonl", 2)
    jobs = load_jobs(tmp_path / "jobs.jsonl")
    (tmp_path / "a-file").write_text("not a folder")
    async with client_for(sim) as client:
        with pytest.raises(JournalError, match="results file cannot be written"):
            await _worker(client, jobs, tmp_path / "a-file" / "r.jsonl", own_redis.url, "nofolder")
        async with RedisCoordinator(own_redis.url, batch="nofolder") as reader:
            assert await reader.records() == {}  # nothing registered
        assert sim.stats.by_route["POST /videos"] == 0
        out = tmp_path / "new" / "deeper" / "r.jsonl"
        summary = await _worker(client, jobs, out, own_redis.url, "made")
    assert summary.ok
    assert [line["key"] for line in result_lines(out)] == keys


async def test_progress_counts_the_whole_batch_and_takeovers_are_logged(
    sim_factory, tmp_path: Path, own_redis: RedisProcess, caplog
):
    """Two workers' last progress lines both show every job finished; a lapsed claim taken
    over is logged with both workers."""
    sim = await sim_factory(render_audio_time=0.05, render_video_time=0.1)
    write_jobs(sim, tmp_path / "jobs.jsonl", 12)
    jobs = load_jobs(tmp_path / "jobs.jsonl")
    dead = RedisCoordinator(own_redis.url, batch="progress", lease_ttl=1)
    await dead.open(jobs, sim.base_url)
    taken, _, _ = await dead.claim()  # then this worker dies: its claim lapses
    assert taken is not None
    await dead.aclose()
    options = BatchOptions(poll_interval=0.05, retry_wait=0.05, progress_interval=0.2)
    caplog.set_level(logging.INFO, logger="argil_async.batch")
    async with client_for(sim) as client:

        async def worker(n: int):
            return await run_batch(
                client, jobs, out=tmp_path / f"r{n}.jsonl", concurrency=3, callback="off",
                progress="log", options=options,
                coordinator=RedisCoordinator(own_redis.url, batch="progress", lease_ttl=30),
            )  # fmt: skip

        summaries = await asyncio.gather(worker(1), worker(2))
    assert all(summary.ok for summary in summaries)
    messages = [record.getMessage() for record in caplog.records]
    whole = "batch: 12/12 finished (12 done, 0 failed) | nothing left"
    lines = [m for m in messages if m.startswith("batch: ")]
    assert lines[-1].startswith(whole)
    assert sum(m.startswith(whole) for m in lines) >= 2  # each worker's last line, at least
    takeover = f"job {taken.key}: taken over by worker "
    assert any(m.startswith(takeover) and f"from worker {dead.worker}" in m for m in messages)


async def test_an_unreachable_redis_is_not_a_lost_batch(sim_factory, tmp_path: Path):
    """A Redis that cannot be reached is CoordinatorUnavailableError, not BatchLostError."""
    sim = await sim_factory()
    write_jobs(sim, tmp_path / "jobs.jsonl", 1)
    async with client_for(sim) as client:
        with pytest.raises(CoordinatorUnavailableError):
            await _worker(
                client, load_jobs(tmp_path / "jobs.jsonl"), tmp_path / "r.jsonl",
                "redis://127.0.0.1:1/0", "down",
            )  # fmt: skip

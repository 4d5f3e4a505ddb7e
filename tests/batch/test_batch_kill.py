"""`argil batch run` killed with SIGKILL at random moments, then resumed: exactly once.

The simulator runs in the test process, so its state outlives every kill of the CLI, which
runs as a subprocess pointed at it through ARGIL_API_KEY and ARGIL_BASE_URL.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from argil_async.batch import JOB_KEY_EXTRA
from argil_async.testing import ArgilSimulator

SimFactory = Callable[..., Awaitable[ArgilSimulator]]
JOBS = 60

pytestmark = [
    pytest.mark.slow,  # processes killed mid-run
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX"),
]


def write_jobs(sim: ArgilSimulator, path: Path, count: int = JOBS) -> list[str]:
    """A JSONL job file of ``count`` one-moment jobs; returns their keys."""
    avatar = next(a.id for a in sim.state.avatars.values() if a.status == "IDLE")
    keys = [f"kill-{i:03d}" for i in range(count)]
    rows = [
        {"key": key, "name": key, "moments": [{"avatarId": avatar, "transcript": f"Hi {key}"}]}
        for key in keys
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return keys


async def start_cli(sim: ArgilSimulator, jobs: Path, out: Path) -> asyncio.subprocess.Process:
    """`python -m argil_async batch run` against ``sim``, output discarded."""
    env = {**os.environ, "ARGIL_API_KEY": sim.api_key, "ARGIL_BASE_URL": sim.base_url}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "argil_async", "batch", "run", str(jobs), "--out", str(out),
        "--concurrency", "6", "--poll-interval", "0.05", "--progress", "off",
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def test_sigkill_at_random_moments_then_resume_makes_each_video_once(
    sim_factory: SimFactory, tmp_path: Path
):
    """Four SIGKILLs mid-run, then a full run: one video per job and a complete results file."""
    sim = await sim_factory(render_audio_time=0.2, render_video_time=0.3, latency=0.02)
    keys = write_jobs(sim, tmp_path / "jobs.jsonl")
    out = tmp_path / "results.jsonl"
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    for _ in range(4):
        process = await start_cli(sim, tmp_path / "jobs.jsonl", out)
        await asyncio.sleep(rng.uniform(0.5, 1.5))
        if process.returncode is None:
            process.send_signal(signal.SIGKILL)
        await process.wait()
    process = await start_cli(sim, tmp_path / "jobs.jsonl", out)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, (seed, stderr.decode()[-2000:])
    per_key = {key: len(sim.state.videos_with_extras(**{JOB_KEY_EXTRA: key})) for key in keys}
    assert set(per_key.values()) == {1}, (seed, per_key)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(line["key"] for line in lines) == keys, seed
    assert {line["status"] for line in lines} == {"DONE"}, seed
    assert len(sim.state.videos) == JOBS, seed


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_sigterm_or_ctrl_c_stops_cleanly_and_a_rerun_finishes(
    sim_factory: SimFactory, tmp_path: Path, stop: signal.Signals
):
    """SIGTERM or Ctrl-C mid-run: exit 130, a complete results file; the rerun ends the job."""
    sim = await sim_factory(render_audio_time=0.3, render_video_time=0.3, latency=0.02)
    keys = write_jobs(sim, tmp_path / "jobs.jsonl", 12)
    out = tmp_path / "results.jsonl"
    process = await start_cli(sim, tmp_path / "jobs.jsonl", out)
    while len(sim.state.videos) < 6 and process.returncode is None:
        await asyncio.sleep(0.01)
    process.send_signal(stop)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 130, stderr.decode()[-2000:]
    assert "run the same command again to resume" in stderr.decode()
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(line["key"] for line in lines) == keys
    assert {line["status"] for line in lines} != {"DONE"}
    process = await start_cli(sim, tmp_path / "jobs.jsonl", out)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()[-2000:]
    per_key = {key: len(sim.state.videos_with_extras(**{JOB_KEY_EXTRA: key})) for key in keys}
    assert set(per_key.values()) == {1}, per_key

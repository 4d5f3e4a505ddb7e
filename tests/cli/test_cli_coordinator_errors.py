"""`--coordinator URL` refusals: a URL that is no Redis URL, or a batch in Redis that belongs
to other jobs, exit 2 with a message (nothing sent), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cli import cli, write_jobs

from argil_async.batch import RedisCoordinator, load_jobs
from argil_async.testing import ArgilSimulator


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:6379/0", "redis://h:notaport/0", "redis://h:99999/0"]
)
async def test_run_with_a_bad_redis_url_exits_2_and_sends_nothing(
    sim: ArgilSimulator, use_sim, tmp_path: Path, capsys, url: str
):
    """`batch run --coordinator BAD`: exit 2, one error line naming --coordinator, no request."""
    use_sim(sim)
    jobs = write_jobs(sim, tmp_path / "jobs.jsonl", 2)
    code = await cli(
        "batch", "run", str(jobs), "--out", str(tmp_path / "r.jsonl"), "--coordinator", url
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "coordinator" in err
    assert "Traceback" not in err
    assert sim.stats.by_route["POST /videos"] == 0
    assert not (tmp_path / "r.jsonl.coordinator").exists()


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:6379/0", "redis://h:notaport/0", "redis://h:99999/0"]
)
async def test_status_with_a_bad_redis_url_exits_2(tmp_path: Path, capsys, url: str):
    """`batch status --coordinator BAD --batch B`: exit 2 and a message, no traceback."""
    (tmp_path / "r.jsonl").write_text("")
    code = await cli(
        "batch", "status", str(tmp_path / "r.jsonl"), "--coordinator", url, "--batch", "b"
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "coordinator" in err
    assert "Traceback" not in err


async def test_run_joining_a_batch_of_other_jobs_exits_2(
    sim: ArgilSimulator, use_sim, tmp_path: Path, capsys, redis_url: str, redis_name: str
):
    """A worker whose job file differs from the Redis batch of that name: BatchMismatchError,
    exit 2 (nothing sent, not "run again to resume")."""
    use_sim(sim)
    first = write_jobs(sim, tmp_path / "a.jsonl", 2)
    async with RedisCoordinator(redis_url, batch=redis_name) as coordinator:
        await coordinator.open(load_jobs(first), sim.base_url)
    other = write_jobs(sim, tmp_path / "b.jsonl", 3)
    code = await cli(
        "batch", "run", str(other), "--out", str(tmp_path / "r.jsonl"),
        "--coordinator", redis_url, "--batch", redis_name,
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert "holds other jobs" in err
    assert "resume" not in err
    assert sim.stats.by_route["POST /videos"] == 0

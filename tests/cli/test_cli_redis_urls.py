"""`--coordinator URL`: a URL that is no Redis URL exits 2 with a message, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cli import cli, write_jobs

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

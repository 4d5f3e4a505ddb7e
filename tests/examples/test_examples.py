"""Every example runs to completion against a simulator (CI's smoke test of examples/)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from support.cli import write_jobs

from argil_async.testing import ArgilSimulator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


async def _run(
    script: str, sim: ArgilSimulator, cwd: Path, *args: str, expect: int = 0, **extra_env: str
) -> str:
    env = {**os.environ, "ARGIL_API_KEY": sim.api_key, "ARGIL_BASE_URL": sim.base_url, **extra_env}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / script),
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    text = output.decode()
    assert process.returncode == expect, text
    return text


def test_every_example_is_covered():
    """Each script in examples/ has a smoke test (fastapi_app.py: test_fastapi_example.py;
    celery_app.py and saq_app.py: tests/queues/)."""
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(
        [
            "batch_operator.py",
            "bulk_upload.py",
            "celery_app.py",
            "fastapi_app.py",
            "fleet_upload.py",
            "quickstart.py",
            "quickstart_sync.py",
            "saq_app.py",
            "webhook_app.py",
        ]
    )


@pytest.mark.parametrize("script", ["quickstart.py", "quickstart_sync.py"])
async def test_quickstarts_render_and_download(sim: ArgilSimulator, tmp_path: Path, script: str):
    """The quickstarts render a video and download it."""
    text = await _run(script, sim, tmp_path, "out.mp4")
    assert "DONE" in text
    assert (tmp_path / "out.mp4").stat().st_size > 0


async def test_webhook_app_receives_the_render_event(sim: ArgilSimulator, tmp_path: Path):
    """The webhook app renders with a callback and prints the success event."""
    text = await _run("webhook_app.py", sim, tmp_path)
    assert "VIDEO_GENERATION_SUCCESS" in text
    assert "webhook: VideoGenerationSucceeded" in text
    assert sim.deliveries


async def test_bulk_upload_uploads_everything(sim: ArgilSimulator, tmp_path: Path):
    """The bulk upload example uploads 12 assets with no 429 from the limit."""
    urls = [f"https://img.test/{i}.png" for i in range(12)]
    text = await _run("bulk_upload.py", sim, tmp_path, *urls)
    assert text.count(" READY after ") == 12
    assert sim.stats.asset_rate_limited == 0
    assert sim.stats.max_processing_assets <= 5


@pytest.mark.slow
async def test_fleet_upload_shares_the_limit_between_processes(
    sim: ArgilSimulator, tmp_path: Path, redis_url: str
):
    """Two fleet_upload processes sharing Redis upload 16 assets with no 429 from the limit."""
    runs = [
        _run("fleet_upload.py", sim, tmp_path, *(f"https://img.test/{p}/{i}.png" for i in range(8)),
             ARGIL_REDIS_URL=redis_url)
        for p in range(2)
    ]  # fmt: skip
    texts = await asyncio.gather(*runs)
    assert sum(text.count(" READY") for text in texts) == 16
    assert sim.stats.asset_rate_limited == 0
    assert sim.stats.max_processing_assets <= 5


@pytest.mark.slow
async def test_batch_operator_runs_retries_reports_and_downloads(
    sim: ArgilSimulator, tmp_path: Path
):
    """The operator script: a failing job retried once, listed with its cause; the rest saved."""
    write_jobs(sim, tmp_path / "jobs.jsonl", 4, failing=frozenset({2}))
    args = ("jobs.jsonl", "results.jsonl", "videos")
    text = await _run("batch_operator.py", sim, tmp_path, *args, expect=1)
    assert "4 jobs: 3 done, 1 failed" in text
    assert "line 3 k2: FAILED" in text
    assert sorted(p.name for p in (tmp_path / "videos").iterdir()) == ["k0.mp4", "k1.mp4", "k3.mp4"]
    assert len(sim.state.videos_with_extras(argilJobKey="k2")) == 2  # retried exactly once
    refused = await _run("batch_operator.py", sim, tmp_path, "jobs.jsonl", "new.jsonl", "v", "1",
                         expect=2)  # fmt: skip
    assert "above 1 credits: nothing sent" in refused

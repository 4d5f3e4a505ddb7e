"""Operator features of a batch: retrying failed jobs, stopping after failures in a row, the
CSV report."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import pytest
from support.cli import cli, restore_logging, use_sim, write_jobs  # noqa: F401
from support.client_fixtures import client_for
from test_batch_damage import damage
from test_batch_run import make_jobs, results_of, run

from argil_async.batch import JOB_KEY_EXTRA, Job, JournalError, read_status
from argil_async.testing import ArgilSimulator


def fixed(job: Job) -> Job:
    """The job with the simulator's failure marker removed (an operator's fix)."""
    return dataclasses.replace(job, extras={"n": "fixed"})


async def test_retry_failed_reruns_each_failed_job_once_into_the_same_results(
    sim: ArgilSimulator, tmp_path: Path
):
    """--retry-failed: edited failed jobs get one new video each; done jobs are untouched."""
    jobs = make_jobs(sim, 5, failing=frozenset({1, 3}))
    out = tmp_path / "out.jsonl"
    async with client_for(sim) as client:
        first = await run(client, jobs, out)
        assert (first.done, first.failed) == (3, 2)
        edited = [fixed(job) if i in (1, 3) else job for i, job in enumerate(jobs)]
        with pytest.raises(JournalError, match="--retry-failed"):
            await run(client, edited, out)
        again = await run(client, edited, out, retry_failed=True)
        assert (again.done, again.failed, again.finished_before) == (5, 0, 3)
        assert (await run(client, edited, out, retry_failed=True)).done == 5  # nothing to retry
    per_key = {k: len(sim.state.videos_with_extras(**{JOB_KEY_EXTRA: k})) for k in results_of(out)}
    assert per_key == {"job-0000": 1, "job-0001": 2, "job-0002": 1, "job-0003": 2, "job-0004": 1}
    assert {line["status"] for line in results_of(out).values()} == {"DONE"}
    assert len(sim.state.videos) == 7


async def test_a_retried_job_is_recovered_to_its_new_video_when_the_journal_is_lost(
    sim: ArgilSimulator, tmp_path: Path
):
    """After a retry the journal is lost: recovery adopts the new video, not the retired one."""
    jobs = make_jobs(sim, 3, failing=frozenset({0}))
    out = tmp_path / "out.jsonl"
    edited = [fixed(jobs[0]), *jobs[1:]]
    async with client_for(sim) as client:
        await run(client, jobs, out)
        await run(client, edited, out, retry_failed=True)
        damage(out, "delete journal and identity")
        summary = await run(client, edited, out)
    assert (summary.done, len(sim.state.videos)) == (3, 4)
    assert results_of(out)["job-0000"]["video_status"] == "DONE"


async def test_retrying_an_unedited_failure_makes_one_new_attempt(
    sim: ArgilSimulator, tmp_path: Path
):
    """A job that fails again on retry stays FAILED after exactly one more video."""
    jobs = make_jobs(sim, 2, failing=frozenset({0}))
    out = tmp_path / "out.jsonl"
    async with client_for(sim) as client:
        await run(client, jobs, out)
        summary = await run(client, jobs, out, retry_failed=True)
    assert (summary.done, summary.failed) == (1, 1)
    assert len(sim.state.videos_with_extras(**{JOB_KEY_EXTRA: "job-0000"})) == 2
    assert results_of(out)["job-0000"]["attempts"] == 2


async def test_max_failures_stops_starting_jobs_and_says_why(sim: ArgilSimulator, tmp_path: Path):
    """Two failures in a row with max_failures=2: the rest stay PENDING, summary.stopped set."""
    jobs = make_jobs(sim, 6, failing=frozenset(range(6)))
    out = tmp_path / "out.jsonl"
    async with client_for(sim) as client:
        summary = await run(client, jobs, out, concurrency=1, max_failures=2)
    assert (summary.failed, summary.counts.get("PENDING"), summary.ok) == (2, 4, False)
    assert summary.stopped is not None
    assert "2 jobs failed in a row" in summary.stopped
    assert len(sim.state.videos) == 2


async def test_a_success_resets_the_failure_streak(sim: ArgilSimulator, tmp_path: Path):
    """Failures separated by successes never reach max_failures=2."""
    jobs = make_jobs(sim, 6, failing=frozenset({0, 2, 4}))
    async with client_for(sim) as client:
        summary = await run(client, jobs, tmp_path / "o.jsonl", concurrency=1, max_failures=2)
    assert (summary.done, summary.failed, summary.stopped) == (3, 3, None)


@pytest.mark.parametrize("value", [0, -1, True, "3"])
async def test_max_failures_must_be_a_positive_integer(
    sim: ArgilSimulator, tmp_path: Path, value: object
):
    """A bad max_failures is refused before anything is sent."""
    async with client_for(sim) as client:
        with pytest.raises(ValueError, match="max_failures"):
            await run(client, make_jobs(sim, 1), tmp_path / "o.jsonl", max_failures=value)
    assert sim.stats.requests == 0


async def test_cli_retry_stop_and_report(sim: ArgilSimulator, use_sim, tmp_path, capsys):  # noqa: F811
    """`--max-failures` exits 1 saying why; `batch retry` fixes; `status --report` writes CSV."""
    use_sim(sim)
    jobs = write_jobs(sim, tmp_path / "jobs.jsonl", 4, failing=frozenset({0, 1, 2, 3}))
    out = tmp_path / "res.jsonl"
    run_args = ("batch", "run", str(jobs), "--out", str(out), "--progress", "off")
    assert await cli(*run_args, "--concurrency", "1", "--max-failures", "2") == 1
    assert "stopped early: 2 jobs failed in a row" in capsys.readouterr().out
    write_jobs(sim, jobs, 4)  # the operator fixes the rows
    assert await cli("batch", "retry", str(jobs), "--out", str(out), "--json") == 0
    assert json.loads(capsys.readouterr().out)["done"] == 4
    report = tmp_path / "report.csv"
    assert await cli("batch", "status", str(out), "--report", str(report)) == 0
    with report.open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [row["key"] for row in rows] == ["k0", "k1", "k2", "k3"]
    assert {row["status"] for row in rows} == {"DONE"}
    assert all(row["video_url"].startswith("http") for row in rows)
    assert read_status(out).failed == 0


async def test_report_cells_never_open_as_spreadsheet_formulas(
    sim: ArgilSimulator,
    use_sim,  # noqa: F811
    tmp_path: Path,
):
    """A key starting with = (or + - @) is written to the CSV report as text, not a formula."""
    use_sim(sim)
    jobs = write_jobs(sim, tmp_path / "jobs.jsonl", 2)
    rows = [json.loads(line) for line in jobs.read_text().splitlines()]
    rows[0]["key"], rows[1]["key"] = '=HYPERLINK("http://evil.test","x")', "@SUM(1)"
    jobs.write_text("".join(json.dumps(row) + "\n" for row in rows))
    out, report = tmp_path / "res.jsonl", tmp_path / "report.csv"
    assert await cli("batch", "run", str(jobs), "--out", str(out), "--progress", "off") == 0
    assert await cli("batch", "status", str(out), "--report", str(report)) == 0
    with report.open(newline="") as stream:
        keys = [row["key"] for row in csv.DictReader(stream)]
    assert keys == ["'" + rows[0]["key"], "'@SUM(1)"]

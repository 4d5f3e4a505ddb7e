"""Resuming and sharing results paths: reused keys, edited job files, live status, bad options."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from support.client_fixtures import client_for
from test_batch_run import FAST, assert_one_video_per_job, avatar_of, make_jobs, results_of, run

from argil_async import LocalStorageError
from argil_async.batch import BatchOptions, Job, journal_path, read_status
from argil_async.batch._records import CREATING, TIMED_OUT
from argil_async.batch._sqlite._journal import Journal
from argil_async.testing import ArgilSimulator

SimFactory = Callable[..., Awaitable[ArgilSimulator]]


async def test_a_key_reused_by_another_batch_never_adopts_its_video(
    sim_factory: SimFactory, tmp_path: Path
):
    """Reconciling a CREATING job ignores a video that another batch made under the same key."""
    sim = await sim_factory()
    earlier = make_jobs(sim, 1)
    moment = {"avatarId": avatar_of(sim), "transcript": "Another text"}
    other = Job.from_dict({"key": earlier[0].key, "name": "Another batch", "moments": [moment]})
    out = tmp_path / "b.jsonl"
    async with client_for(sim) as client:
        await run(client, earlier, tmp_path / "a.jsonl")
        journal = Journal(journal_path(out))
        records = journal.prepare([other], client.base_url)
        journal.save([records[other.key].moved(state=CREATING)])  # killed before the create
        journal.close()
        summary = await run(client, [other], out)
    assert summary.ok
    video = sim.state.videos[results_of(out)[other.key]["video_id"]]
    assert video.name == "Another batch"
    assert len(sim.state.videos) == 2


async def test_status_covers_the_jobs_of_the_latest_job_file(sim: ArgilSimulator, tmp_path: Path):
    """Jobs dropped from the job file leave the status as they left the results file."""
    jobs = make_jobs(sim, 3)
    out = tmp_path / "out.jsonl"
    async with client_for(sim) as client:
        await run(client, jobs, out)
        summary = await run(client, jobs[:2], out)
    assert (summary.total, len(results_of(out))) == (2, 2)
    assert read_status(out).counts == {"DONE": 2}
    async with client_for(sim) as client:
        assert (await run(client, jobs, out)).finished_before == 3  # re-added: still known


async def test_status_can_be_read_while_a_run_writes_the_journal(
    sim_factory: SimFactory, tmp_path: Path
):
    """read_status, from another thread during a run, always sees every job exactly once."""
    sim = await sim_factory(render_video_time=0.2)
    jobs = make_jobs(sim, 12)
    out = tmp_path / "out.jsonl"
    async with client_for(sim) as client:
        task = asyncio.ensure_future(run(client, jobs, out, concurrency=4))
        totals = set()
        while not task.done():
            if journal_path(out).exists():
                totals.add((await asyncio.to_thread(read_status, out)).total)
            await asyncio.sleep(0.02)
        assert (await task).ok
    assert totals <= {0, 12}  # before the first commit, or all of them
    assert 12 in totals


def test_status_of_a_file_that_is_not_a_journal_is_a_clear_error(tmp_path: Path):
    """A corrupt journal gives JournalError (a LocalStorageError; exit 2 in the CLI)."""
    journal_path(tmp_path / "out.jsonl").parent.mkdir()
    journal_path(tmp_path / "out.jsonl").write_text("not sqlite")
    with pytest.raises(LocalStorageError, match="is not a batch journal"):
        read_status(tmp_path / "out.jsonl")


@pytest.mark.parametrize(
    "changes",
    [
        {"timeout": 0},
        {"poll_interval": 0},
        {"check_interval": -1},
        {"retries": -1},
        {"retry_wait": -0.5},
        {"progress_interval": 0},
    ],
)
def test_options_out_of_range_are_refused(changes: dict[str, float]):
    """A zero poll interval would fail every job after its render was paid for: refused early."""
    with pytest.raises(ValueError, match=next(iter(changes))):
        BatchOptions(**changes)


async def test_a_directory_as_results_path_is_refused_before_any_request(
    sim: ArgilSimulator, tmp_path: Path
):
    """The results file is written last: a directory there would lose every job's result."""
    async with client_for(sim) as client:
        with pytest.raises(ValueError, match="out"):
            await run(client, make_jobs(sim, 1), tmp_path)
    assert sim.stats.requests == 0


async def test_a_failed_results_write_still_releases_the_journal(
    sim: ArgilSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """If the results file cannot be written the journal is closed and unlocked all the same."""

    def full_disk(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("argil_async.batch._runner.write_results", full_disk)
    out = tmp_path / "out.jsonl"
    async with client_for(sim) as client:
        with pytest.raises(OSError, match="No space"):
            await run(client, make_jobs(sim, 1), out, options=FAST)
    Journal(journal_path(out)).close()  # not "another run is using this journal"


@pytest.mark.parametrize(
    "faults",
    [
        {"fault_methods": frozenset({"GET"})},  # while waiting for the render
        {"fault_path_prefix": "/videos/"},  # the render request too: RENDERING is left
    ],
)
async def test_an_api_down_after_the_render_request_leaves_the_job_to_the_next_run(
    sim_factory: SimFactory, tmp_path: Path, faults: dict[str, object]
):
    """Transient errors past every retry once a render may be paid: TIMED_OUT, not FAILED."""
    sim = await sim_factory(render_video_time=0.1)
    jobs = make_jobs(sim, 3)
    out = tmp_path / "out.jsonl"
    options = dataclasses.replace(FAST, retries=1)
    async with client_for(sim, max_retries=0) as client:
        for name, value in {**faults, "server_error_every": 1}.items():
            setattr(sim.config, name, value)
        first = await run(client, jobs, out, callback="off", options=options)
        assert (first.counts, first.ok) == ({TIMED_OUT: 3}, False)
        sim.config.server_error_every = None
        second = await run(client, jobs, out, callback="off")
    assert second.ok
    assert_one_video_per_job(sim, jobs)
    assert all(video.status == "DONE" for video in sim.state.videos.values())


async def test_a_journal_from_before_batch_ids_still_reconciles_by_key(
    sim: ArgilSimulator, tmp_path: Path
):
    """A journal without a batch id matches its videos on the job key alone, as it was written."""
    jobs = make_jobs(sim, 1)
    out = tmp_path / "out.jsonl"
    async with client_for(sim) as client:
        landed = await client.videos.create(**jobs[0].create_arguments({}))
        with Journal(journal_path(out)) as journal:
            records = journal.prepare(jobs, client.base_url)
            journal.save([records[jobs[0].key].moved(state=CREATING)])
        with sqlite3.connect(journal_path(out)) as db:
            db.execute("DELETE FROM meta WHERE name = 'batch'")
        db.close()
        sim.stats.by_route.clear()
        assert (await run(client, jobs, out)).ok
    assert sim.stats.by_route["POST /videos"] == 0
    assert results_of(out)[jobs[0].key]["video_id"] == landed.id

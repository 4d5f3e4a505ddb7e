"""run_batch against the simulator: faults, failures, callbacks, polling, resuming, limits."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from support.client_fixtures import client_for

from argil_async import AsyncArgil, AuthenticationError
from argil_async.batch import (
    JOB_KEY_EXTRA,
    BatchOptions,
    CallbackServer,
    Job,
    JobFileError,
    JournalError,
    journal_path,
    run_batch,
)
from argil_async.batch._records import CREATING, RENDERING, TIMED_OUT
from argil_async.batch._sqlite._journal import Journal
from argil_async.testing import ArgilSimulator

SimFactory = Callable[..., Awaitable[ArgilSimulator]]
FAST = BatchOptions(poll_interval=0.05, retry_wait=0.01, check_interval=0.2, progress_interval=0.5)


def avatar_of(sim: ArgilSimulator) -> str:
    """The id of an IDLE stock avatar."""
    return next(a.id for a in sim.state.avatars.values() if a.status == "IDLE")


def make_jobs(
    sim: ArgilSimulator, count: int, *, failing: frozenset[int] = frozenset()
) -> list[Job]:
    """``count`` jobs keyed job-0000...; those in ``failing`` end FAILED in the simulator."""
    avatar = avatar_of(sim)
    return [
        Job.from_dict(
            {
                "key": f"job-{i:04d}",
                "name": f"Video {i}",
                "moments": [{"avatarId": avatar, "transcript": f"Hello number {i}!"}],
                "extras": {"simOutcome": "FAILED"} if i in failing else {"n": str(i)},
            },
            line=i + 1,
        )
        for i in range(count)
    ]


def results_of(out: Path) -> dict[str, dict[str, Any]]:
    """The results file as {key: line}, checking there is one line per key."""
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    keyed = {line["key"]: line for line in lines}
    assert len(keyed) == len(lines)
    return keyed


def assert_one_video_per_job(sim: ArgilSimulator, jobs: list[Job]) -> None:
    """Every job key is carried by exactly one video in the simulator."""
    counts = {
        job.key: len(sim.state.videos_with_extras(**{JOB_KEY_EXTRA: job.key})) for job in jobs
    }
    assert set(counts.values()) == {1}, {k: n for k, n in counts.items() if n != 1}


async def run(client: AsyncArgil, jobs: list[Job], out: Path, **kwargs: Any) -> Any:
    """run_batch with fast test options and no progress display."""
    kwargs.setdefault("options", FAST)
    kwargs.setdefault("progress", "off")
    return await run_batch(client, jobs, out=out, **kwargs)


@pytest.mark.slow
async def test_200_jobs_through_429s_5xx_and_drops_all_end_done(sim_factory: SimFactory, tmp_path):
    """Injected 429s, 5xx and dropped connections: every job DONE, one video each."""
    sim = await sim_factory(
        rate_limit_every=7, server_error_every=11, drop_every=13, render_video_time=0.05
    )
    jobs = make_jobs(sim, 200)
    async with client_for(sim) as client:
        summary = await run(client, jobs, tmp_path / "out.jsonl", concurrency=25)
    assert (summary.done, summary.failed, summary.ok) == (200, 0, True)
    faults = (sim.stats.injected_429, sim.stats.injected_5xx, sim.stats.injected_drops)
    assert min(faults) > 0, faults
    assert_one_video_per_job(sim, jobs)
    results = results_of(tmp_path / "out.jsonl")
    assert {line["status"] for line in results.values()} == {"DONE"}
    assert all(line["video_url"] for line in results.values())


async def test_failed_jobs_are_recorded_and_the_run_goes_on(sim_factory: SimFactory, tmp_path):
    """Renders the simulator fails end FAILED with their error; the others still finish."""
    sim = await sim_factory()
    jobs = make_jobs(sim, 12, failing=frozenset({2, 7}))
    async with client_for(sim) as client:
        summary = await run(client, jobs, tmp_path / "out.jsonl", concurrency=4)
    assert (summary.done, summary.failed, summary.ok) == (10, 2, False)
    failed = {k: v for k, v in results_of(tmp_path / "out.jsonl").items() if v["status"] != "DONE"}
    assert set(failed) == {"job-0002", "job-0007"}
    assert all("GenerationFailedError" in line["error"] for line in failed.values())
    assert {line["video_status"] for line in failed.values()} == {"FAILED"}


async def test_a_job_the_api_refuses_fails_without_stopping_the_run(
    sim_factory: SimFactory, tmp_path
):
    """A 400 on create (unknown avatar) fails that job only."""
    sim = await sim_factory(check_spec=False)
    jobs = make_jobs(sim, 3)
    bad = Job.from_dict(
        {"key": "bad", "name": "x", "moments": [{"avatarId": "nope", "transcript": "x"}]}
    )
    async with client_for(sim) as client:
        summary = await run(client, [*jobs, bad], tmp_path / "out.jsonl")
    assert summary.counts == {"DONE": 3, "FAILED": 1}
    assert "BadRequestError" in results_of(tmp_path / "out.jsonl")["bad"]["error"]


async def test_callbacks_take_three_calls_per_video(sim_factory: SimFactory, tmp_path):
    """With the loopback receiver each video costs create, render and one confirming GET."""
    sim = await sim_factory()
    jobs = make_jobs(sim, 20)
    async with client_for(sim) as client:
        summary = await run(client, jobs, tmp_path / "out.jsonl", concurrency=20)
    assert (summary.callbacks, summary.ok) == (True, True)
    assert sim.stats.requests == 3 * 20
    assert len(sim.deliveries) == 20


async def test_polling_mode_needs_no_receiver(sim_factory: SimFactory, tmp_path):
    """callback='off' polls with GET and sends renders without a callback URL."""
    sim = await sim_factory()
    jobs = make_jobs(sim, 5)
    async with client_for(sim) as client:
        summary = await run(client, jobs, tmp_path / "out.jsonl", callback="off")
    assert (summary.callbacks, summary.ok) == (False, True)
    assert not sim.deliveries
    assert all(b"callbackUrl" not in r.body for r in sim.received if r.route.endswith("/render"))


async def test_a_lost_callback_falls_back_to_a_get(sim_factory: SimFactory, tmp_path):
    """Deliveries that never arrive cost one check interval, then a GET finds the video DONE."""
    sim = await sim_factory()
    jobs = make_jobs(sim, 3)
    lost = CallbackServer(public_url="http://127.0.0.1:9/")  # nothing listens there
    async with client_for(sim) as client:
        summary = await run(client, jobs, tmp_path / "out.jsonl", callback=lost)
    assert summary.ok
    assert all(delivery.error for delivery in sim.deliveries)


async def test_concurrency_bounds_renders_in_flight(sim_factory: SimFactory, tmp_path):
    """No more than ``concurrency`` videos are rendering at any moment."""
    sim = await sim_factory(render_audio_time=0.05, render_video_time=0.1)
    jobs = make_jobs(sim, 24)
    peak = 0

    async def sample() -> None:
        nonlocal peak
        while True:
            rendering = [v for v in sim.state.videos.values() if v.status.startswith("GENERATING")]
            peak = max(peak, len(rendering))
            await asyncio.sleep(0.005)

    sampler = asyncio.ensure_future(sample())
    async with client_for(sim) as client:
        await run(client, jobs, tmp_path / "out.jsonl", concurrency=4)
    sampler.cancel()
    assert 2 <= peak <= 4


async def test_broll_urls_upload_once_each(sim_factory: SimFactory, tmp_path):
    """Jobs sharing a B-roll URL upload it once; the videos use the READY asset."""
    sim = await sim_factory()
    avatar = avatar_of(sim)
    moment = {"avatarId": avatar, "transcript": "x", "broll": {"url": "https://img.test/b.png"}}
    jobs = [Job.from_dict({"key": f"b{i}", "name": "b", "moments": [moment]}) for i in range(4)]
    async with client_for(sim) as client:
        summary = await run(client, jobs, tmp_path / "out.jsonl")
    assert summary.ok
    assert sim.stats.by_route["POST /assets"] == 1
    asset_ids = {v.moments[0]["broll"]["assetId"] for v in sim.state.videos.values()}
    assert len(asset_ids) == 1


async def test_a_second_run_redoes_nothing(sim_factory: SimFactory, tmp_path):
    """Running a finished batch again sends no request and rewrites the same results."""
    sim = await sim_factory()
    jobs = make_jobs(sim, 5)
    out = tmp_path / "out.jsonl"
    async with client_for(sim) as client:
        await run(client, jobs, out)
        before, text = sim.stats.requests, out.read_text()
        summary = await run(client, jobs, out)
    assert (sim.stats.requests, summary.finished_before, summary.ok) == (before, 5, True)
    assert out.read_text() == text


async def test_resume_reconciles_each_intermediate_state(sim_factory: SimFactory, tmp_path):
    """CREATING and RENDERING are settled with the API, never by creating or rendering twice."""
    sim = await sim_factory()
    jobs = make_jobs(sim, 4)
    out = tmp_path / "out.jsonl"
    async with client_for(sim) as client:
        journal = Journal(journal_path(out))
        records = journal.prepare(jobs, client.base_url)
        batch = journal.batch  # the videos of this journal's jobs carry it
        landed = await client.videos.create(**jobs[0].create_arguments({}, batch))
        rendered = await client.videos.create(**jobs[2].create_arguments({}, batch))
        await client.videos.render(rendered.id)
        idle = await client.videos.create(**jobs[3].create_arguments({}, batch))
        journal.save(
            [
                records["job-0000"].moved(state=CREATING),  # the create landed
                records["job-0001"].moved(state=CREATING),  # it did not
                records["job-0002"].moved(state=RENDERING, video_id=rendered.id),  # landed
                records["job-0003"].moved(state=RENDERING, video_id=idle.id),  # did not
            ]
        )
        journal.close()
        sim.stats.by_route.clear()
        summary = await run(client, jobs, out)
    assert summary.ok
    assert_one_video_per_job(sim, jobs)
    assert sim.stats.by_route["POST /videos"] == 1  # only job-0001
    assert sim.stats.by_route["POST /videos/{id}/render"] == 3  # 0000, 0001, 0003
    assert results_of(out)["job-0000"]["video_id"] == landed.id


async def test_an_overdue_render_times_out_and_the_next_run_waits_again(
    sim_factory: SimFactory, tmp_path
):
    """Past the wait's deadline a job is TIMED_OUT (a failure); the next run finishes it."""
    sim = await sim_factory(render_video_time=0.5)
    jobs = make_jobs(sim, 2)
    out = tmp_path / "out.jsonl"
    short = BatchOptions(timeout=0.1, poll_interval=0.05, retry_wait=0.01, check_interval=0.05)
    async with client_for(sim) as client:
        first = await run(client, jobs, out, options=short)
        assert (first.counts, first.ok) == ({TIMED_OUT: 2}, False)
        await asyncio.sleep(0.6)
        second = await run(client, jobs, out)
    assert second.ok
    assert {line["attempts"] for line in results_of(out).values()} == {2}
    assert sim.stats.by_route["POST /videos/{id}/render"] == 2


async def test_a_bad_api_key_stops_the_run_and_keeps_it_resumable(
    sim_factory: SimFactory, tmp_path
):
    """401 ends the run with AuthenticationError; the journal and results stay consistent."""
    sim = await sim_factory(check_spec=False)
    jobs = make_jobs(sim, 3)
    out = tmp_path / "out.jsonl"
    async with AsyncArgil(api_key="wrong", base_url=sim.base_url, max_retries=0) as client:
        with pytest.raises(AuthenticationError):
            await run(client, jobs, out)
    assert {line["status"] for line in results_of(out).values()} <= {"PENDING", "CREATING"}
    async with client_for(sim) as client:
        assert (await run(client, jobs, out)).ok
    assert_one_video_per_job(sim, jobs)


async def test_resuming_against_another_api_is_refused(sim_factory: SimFactory, tmp_path):
    """A journal written against one simulator cannot be resumed against another."""
    first, second = await sim_factory(), await sim_factory()
    jobs = make_jobs(first, 1)
    async with client_for(first) as client:
        await run(client, jobs, tmp_path / "out.jsonl")
    async with client_for(second) as client:
        with pytest.raises(JournalError):
            await run(client, jobs, tmp_path / "out.jsonl")
    assert second.stats.requests == 0


@pytest.mark.parametrize(
    "callback",
    [
        CallbackServer(host="0.0.0.0"),
        CallbackServer(public_url="http://hooks.example.com"),
        "sometimes",
    ],
)
async def test_unreachable_callback_settings_are_refused(sim: ArgilSimulator, tmp_path, callback):
    """A receiver no one can reach, or a plain-http public URL, is refused before any request."""
    async with client_for(sim) as client:
        with pytest.raises(ValueError, match="callback"):
            await run(client, make_jobs(sim, 1), tmp_path / "out.jsonl", callback=callback)
    assert sim.stats.requests == 0


async def test_jobs_built_in_code_are_validated_too(sim: ArgilSimulator, tmp_path):
    """Duplicate keys, no jobs or bad arguments raise before any request or file."""
    jobs = make_jobs(sim, 2)
    async with client_for(sim) as client:
        with pytest.raises(JobFileError, match="duplicate"):
            await run(client, [jobs[0], jobs[0]], tmp_path / "out.jsonl")
        with pytest.raises(JobFileError, match="no jobs"):
            await run(client, [], tmp_path / "out.jsonl")
        with pytest.raises(ValueError, match="concurrency"):
            await run(client, jobs, tmp_path / "out.jsonl", concurrency=0)
        with pytest.raises(ValueError, match="progress"):
            await run(client, jobs, tmp_path / "out.jsonl", progress="fancy")
    assert sim.stats.requests == 0
    assert list(tmp_path.iterdir()) == []

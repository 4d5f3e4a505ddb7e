"""Before a run: the cost estimate, the online check, names resolved to ids, the spending gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import cli, restore_logging, use_sim  # noqa: F401
from support.client_fixtures import client_for

from argil_async.batch import Job, estimate_cost
from argil_async.batch._online import check_online, resolve_names
from argil_async.testing import ArgilSimulator


def one_job(words: int, **extra: object) -> Job:
    """A one-moment job of ``words`` words on ``avatar`` (default "av")."""
    avatar = extra.pop("avatar", "av")
    moment = {"avatarId": avatar, "transcript": " ".join(["word"] * words)}
    return Job.from_dict({"key": "k", "name": "n", "moments": [moment], **extra}, line=1)


def test_the_price_pages_worked_example_costs_130_credits():
    """30 s on a v1 avatar with 3 AI-image B-rolls: 70 + 10 + 20 + 30 = 130."""
    auto = {"enable": True, "source": "GENERATION", "intensity": "MEDIUM"}
    estimate = estimate_cost([one_job(75, autoBrolls=auto)], royalty_avatars={"av"})
    cost = estimate.jobs[0]
    assert (cost.seconds, cost.video, cost.voice, cost.royalty, cost.broll) == (30, 70, 10, 20, 30)
    assert estimate.total == 130
    assert "estimate from Argil's published prices" in str(estimate)


def test_own_avatars_audio_and_stock_videos_are_priced_by_their_lines():
    """No royalty for an own avatar; audio pays no voice; stock video B-roll is 20 each."""
    auto = {"enable": True, "source": "STOCKS_VIDEO", "intensity": "HIGH"}
    audio = Job.from_dict(
        {"key": "a", "name": "a", "autoBrolls": auto,
         "moments": [{"avatarId": "own", "audioUrl": "https://x.test/a.mp3"}]}
    )  # fmt: skip
    lengths = {"https://x.test/a.mp3": 15.0}
    known = estimate_cost([audio], royalty_avatars=set(), audio_seconds=lengths)
    assert known.jobs[0].to_dict() == {
        "key": "a", "line": 0, "seconds": 15.0, "video": 35.0, "voice": 0.0, "royalty": 0.0,
        "broll": 60.0, "total": 95,
    }  # fmt: skip
    assert estimate_cost([audio]).jobs[0].seconds == 40  # unknown length: the maximum


@pytest.mark.parametrize("seed", range(20))
def test_the_total_is_the_sum_of_whole_credit_jobs(seed: int):
    """Each job rounds up; the total adds them; more words never cost less."""
    import random

    rng = random.Random(seed)
    words = [rng.randint(1, 90) for _ in range(rng.randint(1, 20))]
    jobs = [one_job(n) for n in words]
    estimate = estimate_cost(jobs)
    assert estimate.total == sum(job.total for job in estimate.jobs)
    assert all(job.total >= 20 for job in estimate.jobs)  # the royalty, assumed
    longer = estimate_cost([one_job(n + 1) for n in words])
    assert longer.total >= estimate.total


@pytest.mark.parametrize("wpm", [0, -5, "fast", True, 5000])
def test_a_bad_speech_rate_is_refused(wpm: object):
    """words_per_minute must be a plausible number."""
    with pytest.raises(ValueError, match="words_per_minute"):
        estimate_cost([one_job(3)], words_per_minute=wpm)  # type: ignore[arg-type]


async def test_check_online_reports_every_bad_reference_with_its_line(sim: ArgilSimulator):
    """Unknown avatar, voice, gesture, style, asset; a busy avatar; a long transcript warned."""
    idle = next(a for a in sim.state.avatars.values() if a.status == "IDLE")
    voice = next(iter(sim.state.voices.values()))
    good = {"avatarId": idle.name, "voiceId": voice.name, "transcript": "Hi"}
    rows = [
        {"key": "ok", "name": "ok", "moments": [good]},
        {"key": "a", "name": "a", "moments": [{**good, "avatarId": "Nobody"}]},
        {"key": "b", "name": "b", "moments": [{**good, "gestureSlug": "moonwalk"}]},
        {"key": "c", "name": "c", "moments": [{**good, "transcript": "x" * 501}]},
        {"key": "e", "name": "e", "moments": [good], "subtitles": {"styleId": "nope"}},
        {"key": "f", "name": "f", "moments": [{**good, "broll": {"assetId": "gone"}}]},
    ]
    jobs = [Job.from_dict(row, line=i + 1) for i, row in enumerate(rows)]
    requests = sim.stats.requests
    async with client_for(sim) as client:
        checked = await check_online(client, jobs)
    assert {(p.line, p.field) for p in checked.problems} == {
        (2, "moments[0].avatarId"), (3, "moments[0].gestureSlug"),
        (5, "subtitles.styleId"), (6, "moments[0].broll.assetId"),
    }  # fmt: skip
    assert [(p.line, p.field) for p in checked.warnings] == [(4, "moments[0].transcript")]
    assert checked.jobs[0].moments[0].avatar_id == idle.id  # names resolved to ids
    assert checked.jobs[0].moments[0].voice_id == voice.id
    assert sim.stats.by_route["POST /videos"] == 0
    assert sim.stats.requests - requests <= 6  # lists once, each asset once


async def test_names_resolve_without_requests_when_every_value_is_an_id(sim: ArgilSimulator):
    """resolve_names sends nothing for a job file of ids."""
    idle = next(a for a in sim.state.avatars.values() if a.status == "IDLE")
    async with client_for(sim) as client:
        resolved = await resolve_names(client, [one_job(3, avatar=idle.id)])
    assert resolved.ok
    assert sim.stats.requests == 0


async def test_run_refuses_above_max_credits_and_runs_names(
    sim: ArgilSimulator,
    use_sim,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
):
    """--max-credits below the estimate: exit 2, nothing sent; above it, names run as ids."""
    use_sim(sim)
    idle = next(a for a in sim.state.avatars.values() if a.status == "IDLE")
    row = {"key": "k", "name": "n", "moments": [{"avatarId": idle.name, "transcript": "Hi"}]}
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text(json.dumps(row) + "\n")
    out = tmp_path / "out.jsonl"
    args = ("batch", "run", str(jobs), "--out", str(out), "--progress", "off", "--poll-interval")
    assert await cli(*args, "0.05", "--max-credits", "1") == 2
    assert "above --max-credits 1" in capsys.readouterr().err
    assert sim.stats.by_route["POST /videos"] == 0
    assert await cli(*args, "0.05", "--max-credits", "1000") == 0
    err = capsys.readouterr().err
    assert "estimate from Argil's published prices" in err
    assert next(iter(sim.state.videos.values())).moments[0]["avatarId"] == idle.id


async def test_cli_estimate_and_check_online(
    sim: ArgilSimulator,
    use_sim,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
):
    """`batch estimate --json` totals the jobs; `batch check --online` exits 2 on a bad ref."""
    use_sim(sim)
    jobs = tmp_path / "jobs.jsonl"
    row = {"key": "k", "name": "n", "moments": [{"avatarId": "Nobody", "transcript": "Hi"}]}
    jobs.write_text(json.dumps(row) + "\n")
    assert await cli("batch", "estimate", str(jobs), "--json") == 0
    assert json.loads(capsys.readouterr().out)["total"] == 22  # 0.4 s: 0.93 + 0.13 + 20
    assert await cli("batch", "check", str(jobs), "--online") == 2
    assert "line 1: moments[0].avatarId: no avatar has this id or name" in capsys.readouterr().out


@pytest.mark.parametrize("moments", ["x", [5], None, [{"avatarId": "a", "transcript": 5}]])
async def test_run_batch_and_check_online_refuse_a_bad_job_built_in_code(
    sim: ArgilSimulator, tmp_path: Path, moments: object
):
    """Job(..., moments=<junk>) given to run_batch or check_online: JobFileError, no request."""
    from argil_async.batch import JobFileError, run_batch

    bad = Job("k", "n", moments)  # type: ignore[arg-type]
    requests = sim.stats.requests
    async with client_for(sim) as client:
        with pytest.raises(JobFileError, match="moments"):
            await run_batch(client, [bad], out=tmp_path / "out.jsonl", progress="off")
        with pytest.raises(JobFileError, match="moments"):
            await check_online(client, [bad])
    assert sim.stats.requests == requests
    assert not (tmp_path / "out.jsonl").exists()


def _long_jobs(path: Path, count: int) -> Path:
    """``count`` jobs; the second has a 612-character transcript, the third a 45 s audio."""
    rows = []
    for i in range(count):
        moment: dict[str, object] = {"avatarId": "av", "transcript": f"Hello {i}"}
        if i == 1:
            moment["transcript"] = "x" * 612
        if i == 2:
            moment = {"avatarId": "av", "audioUrl": "https://cdn.test/long.mp3"}
        rows.append({"key": f"k{i}", "name": "n", "moments": [moment]})
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_job_warnings_name_the_limits_without_refusing(tmp_path: Path):
    """A transcript over 500 characters and audio known to last over 40 s are warnings."""
    from argil_async.batch import job_warnings, load_jobs

    jobs = load_jobs(_long_jobs(tmp_path / "jobs.jsonl", 4))
    lengths = {"https://cdn.test/long.mp3": 45.0}
    warned = job_warnings(jobs, audio_seconds=lengths)
    assert [(w.line, w.field) for w in warned] == [
        (2, "moments[0].transcript"), (3, "moments[0].audioUrl"),
    ]  # fmt: skip
    assert "612 characters" in warned[0].rule
    assert "45 s" in warned[1].rule
    assert job_warnings(jobs, audio_seconds={"https://cdn.test/long.mp3": 40}) == warned[:1]


async def test_cli_check_warns_about_argils_limits_and_still_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """`batch check` prints the warnings and exits 0; --json lists them; audio via a file."""
    jobs = _long_jobs(tmp_path / "jobs.jsonl", 4)
    lengths = tmp_path / "lengths.json"
    lengths.write_text(json.dumps({"https://cdn.test/long.mp3": 45}))
    assert await cli("batch", "check", str(jobs)) == 0
    out = capsys.readouterr().out
    assert "warning: line 2: moments[0].transcript: 612 characters" in out
    assert "4 valid jobs" in out
    assert await cli("batch", "check", str(jobs), "--audio-seconds", str(lengths), "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert [(w["line"], w["field"]) for w in report["warnings"]] == [
        (2, "moments[0].transcript"), (3, "moments[0].audioUrl"),
    ]  # fmt: skip
    assert report["ok"] is True


async def test_cli_estimate_prints_the_summary_and_rows_on_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """200 jobs: `batch estimate` prints a few summary lines; --verbose one row per job."""
    jobs = _long_jobs(tmp_path / "jobs.jsonl", 200)
    assert await cli("batch", "estimate", str(jobs)) == 0
    short = capsys.readouterr().out.splitlines()
    assert len(short) <= 4
    assert short[0].startswith("total: about ")
    assert "for 200 jobs" in short[0]
    assert await cli("batch", "estimate", str(jobs), "--verbose") == 0
    rows = capsys.readouterr().out.splitlines()
    assert sum(line.split()[:1] == [f"{i + 1}"] for line in rows for i in range(200)) == 200
    assert rows[-2:] == short[:2]  # the same total and assumptions after the rows

"""Downloading a batch's videos: named by key, resumable, atomic; `argil videos download`."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.cli import cli, restore_logging, use_sim  # noqa: F401
from support.client_fixtures import client_for
from test_batch_run import make_jobs, run

from argil_async.batch import Job, download_results
from argil_async.batch._fetch import file_stem, file_stems
from argil_async.errors import InvalidRequestError
from argil_async.testing import ArgilSimulator


async def test_every_done_video_is_downloaded_once_by_key(sim: ArgilSimulator, tmp_path: Path):
    """DONE jobs become <key>.mp4 (+ .vtt); a failed job has no file; a rerun skips them all."""
    jobs = make_jobs(sim, 4, failing=frozenset({2}))
    out = tmp_path / "out.jsonl"
    folder = tmp_path / "videos"
    async with client_for(sim) as client:
        await run(client, jobs, out)
        first = await download_results(client, out, folder, subtitles="vtt", concurrency=2)
        downloads = sim.stats.requests
        again = await download_results(client, out, folder, subtitles="vtt")
    assert (sorted(first.downloaded), first.failed) == (["job-0000", "job-0001", "job-0003"], {})
    names = sorted(path.name for path in folder.iterdir())
    assert names == [f"job-000{i}.{ext}" for i in (0, 1, 3) for ext in ("mp4", "vtt")]
    assert all(path.stat().st_size > 0 for path in folder.iterdir())
    assert (len(again.skipped), again.downloaded, sim.stats.requests) == (3, [], downloads)


async def test_a_partly_downloaded_batch_fetches_only_what_is_missing(
    sim: ArgilSimulator, tmp_path: Path
):
    """A missing file (an interrupted earlier download) is fetched; the others are kept."""
    jobs = make_jobs(sim, 3)
    out = tmp_path / "out.jsonl"
    folder = tmp_path / "videos"
    async with client_for(sim) as client:
        await run(client, jobs, out)
        await download_results(client, out, folder)
        (folder / "job-0001.mp4").unlink()
        kept = (folder / "job-0000.mp4").stat().st_mtime_ns
        report = await download_results(client, out, folder)
    assert (report.downloaded, len(report.skipped)) == (["job-0001"], 2)
    assert (folder / "job-0000.mp4").stat().st_mtime_ns == kept
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no partial files


async def test_a_video_deleted_in_argil_is_reported_not_raised(sim: ArgilSimulator, tmp_path: Path):
    """A failure of one download is listed by key; the others complete."""
    jobs = make_jobs(sim, 2)
    out = tmp_path / "out.jsonl"
    async with client_for(sim) as client:
        await run(client, jobs, out)
        gone = json.loads(out.read_text().splitlines()[0])["video_id"]
        del sim.state.videos[gone]
        report = await download_results(client, out, tmp_path / "v")
    assert list(report.failed) == ["job-0000"]
    assert "NotFoundError" in report.failed["job-0000"]
    assert report.downloaded == ["job-0001"]


@pytest.mark.parametrize(
    ("key", "plain"),
    [("cust-001", True), ("../../etc/passwd", False), (".hidden", False), ("a/b", False)],
)
def test_file_names_stay_in_the_folder_and_apart(key: str, plain: bool):
    """Keys become plain file names; unsafe ones are rewritten with a digest."""
    stem = file_stem(key)
    assert (stem == key) is plain
    assert "/" not in stem
    assert not stem.startswith(".")
    assert file_stem("a/b") != file_stem("a_b")


async def test_cli_batch_download_and_videos_download(
    sim: ArgilSimulator,
    use_sim,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
):
    """`batch download --to` writes the files (exit 0); `videos download ID` one file."""
    use_sim(sim)
    avatar = next(a.id for a in sim.state.avatars.values() if a.status == "IDLE")
    row = Job.from_dict({"key": "k1", "name": "n", "moments": [{"avatarId": avatar,
                                                               "transcript": "Hi"}]})  # fmt: skip
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text(json.dumps(row.to_dict()) + "\n")
    out = tmp_path / "out.jsonl"
    args = ("--progress", "off", "--poll-interval", "0.05", "--yes")
    assert await cli("batch", "run", str(jobs), "--out", str(out), *args) == 0
    capsys.readouterr()
    assert await cli("batch", "download", str(out), "--to", str(tmp_path / "v"), "--json") == 0
    assert json.loads(capsys.readouterr().out)["downloaded"] == 1
    assert (tmp_path / "v" / "k1.mp4").stat().st_size > 0
    video_id = json.loads(out.read_text())["video_id"]
    assert await cli("videos", "download", video_id, "--to", str(tmp_path)) == 0
    assert (tmp_path / f"{video_id}.mp4").exists()


def _lookalike(key: str) -> str:
    """The name file_stem gave ``key`` before keys were kept apart: safe form + digest."""
    return "a_b-" + hashlib.sha256(key.encode()).hexdigest()[:10]


async def test_keys_that_once_shared_a_file_get_a_file_each(sim: ArgilSimulator, tmp_path: Path):
    """Keys `a/b` and `a_b-<digest of a/b>` (and `K`/`k`) download to four distinct files."""
    keys = ["a/b", _lookalike("a/b"), "K", "k"]
    jobs = [
        dataclasses.replace(job, key=key) for job, key in zip(make_jobs(sim, 4), keys, strict=True)
    ]
    out = tmp_path / "out.jsonl"
    folder = tmp_path / "videos"
    async with client_for(sim) as client:
        await run(client, jobs, out)
        report = await download_results(client, out, folder)
    assert (sorted(report.downloaded), report.failed) == (sorted(keys), {})
    names = {path.name.casefold() for path in folder.iterdir()}
    assert len(names) == 4  # apart on case-insensitive file systems too


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=30), unique=True, max_size=8))
def test_no_two_keys_of_a_batch_share_a_file_name(keys: list[str]):
    """file_stems is one-to-one, case-insensitively, with plain names kept as they are."""
    keys += [_lookalike(key) for key in keys] + [key.upper() for key in keys]
    keys = list(dict.fromkeys(keys))
    stems = file_stems(keys)
    assert len({stem.casefold() for stem in stems.values()}) == len(keys)
    assert all("/" not in stem and not stem.startswith(".") for stem in stems.values())


async def test_a_folder_that_cannot_be_created_is_a_typed_error(
    sim: ArgilSimulator, tmp_path: Path
):
    """--to under a file: InvalidRequestError naming `to`, nothing requested."""
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    requests = sim.stats.requests
    async with client_for(sim) as client:
        with pytest.raises(InvalidRequestError) as caught:
            await download_results(client, tmp_path / "out.jsonl", blocker / "videos")
    assert caught.value.field == "to"
    assert sim.stats.requests == requests


async def test_cli_batch_download_into_an_impossible_folder_exits_2(
    sim: ArgilSimulator,
    use_sim,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
):
    """`batch download --to` a folder that cannot be made: a one-line error and exit 2."""
    use_sim(sim)
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    out = tmp_path / "out.jsonl"
    out.write_text("")
    code = await cli("batch", "download", str(out), "--to", str(blocker / "v"))
    err = capsys.readouterr().err
    assert code == 2
    assert "to: must be a folder that can be created" in err
    assert "Traceback" not in err

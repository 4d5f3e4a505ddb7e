"""Damaged batch state on disk: lost, emptied or garbage journals, results without a journal,
read-only folders. Each ends in a recovery by job key or a clear refusal; never a second
video or render, never a traceback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from support.client_fixtures import client_for
from test_batch_kill import start_cli, write_jobs
from test_batch_run import make_jobs, results_of, run

from argil_async.batch import JOB_KEY_EXTRA, JournalError, ResultsWriteError, read_status
from argil_async.batch._layout import state_paths
from argil_async.testing import ArgilSimulator

SimFactory = Callable[..., Awaitable[ArgilSimulator]]


def damage(out: Path, how: str) -> None:
    """Damage the batch state of ``out`` as an operator or a crash would."""
    paths = state_paths(out)
    if how == "delete journal":
        for path in paths.journal_files():
            path.unlink(missing_ok=True)
    elif how == "empty journal":
        paths.journal.write_bytes(b"")
        for path in paths.journal_files()[1:]:
            path.unlink(missing_ok=True)
    elif how == "delete wal":
        Path(f"{paths.journal}-wal").unlink(missing_ok=True)
        Path(f"{paths.journal}-shm").unlink(missing_ok=True)
    elif how == "delete state folder":
        shutil.rmtree(paths.folder)
    elif how == "delete journal and identity":
        for path in [*paths.journal_files(), paths.identity]:
            path.unlink(missing_ok=True)
    else:
        raise AssertionError(how)


def renders(sim: ArgilSimulator) -> int:
    """Render requests that reached the simulator."""
    return sum(n for route, n in sim.stats.by_route.items() if route.endswith("/render"))


@pytest.mark.parametrize(
    "how", ["delete journal", "empty journal", "delete wal", "delete state folder"]
)
async def test_a_finished_batch_with_its_journal_lost_makes_nothing_again(
    sim: ArgilSimulator, tmp_path: Path, how: str
):
    """After a full run the journal is lost: the rerun adopts every video, creates nothing."""
    jobs = make_jobs(sim, 8, failing=frozenset({3}))
    out = tmp_path / "out.jsonl"
    async with client_for(sim) as client:
        first = await run(client, jobs, out)
        before = (len(sim.state.videos), renders(sim), sim.stats.by_route["POST /videos"])
        damage(out, how)
        again = await run(client, jobs, out)
    assert (len(sim.state.videos), renders(sim), sim.stats.by_route["POST /videos"]) == before
    assert (first.done, first.failed) == (again.done, again.failed) == (7, 1)
    assert {k: v["video_id"] for k, v in results_of(out).items()} == {
        video.extras[JOB_KEY_EXTRA]: video.id for video in sim.state.videos.values()
    }


async def test_a_results_file_without_journal_or_batch_id_is_refused(
    sim: ArgilSimulator, tmp_path: Path
):
    """A v0.1-style results file alone: JournalError before any request."""
    jobs = make_jobs(sim, 3)
    out = tmp_path / "out.jsonl"
    async with client_for(sim) as client:
        await run(client, jobs, out)
        damage(out, "delete state folder")
        lines = [json.loads(line) for line in out.read_text().splitlines()]
        out.write_text("".join(json.dumps({**line, "batch": None}) + "\n" for line in lines))
        requests = sim.stats.requests
        with pytest.raises(JournalError, match="no batch id is left"):
            await run(client, jobs, out)
    assert sim.stats.requests == requests


async def test_a_journal_that_is_not_a_database_is_refused(sim: ArgilSimulator, tmp_path: Path):
    """Garbage in the journal: JournalError naming it, nothing sent; moved away, it recovers."""
    jobs = make_jobs(sim, 3)
    out = tmp_path / "out.jsonl"
    async with client_for(sim) as client:
        await run(client, jobs, out)
        journal = state_paths(out).journal
        damage(out, "delete journal")
        journal.write_bytes(b"\x00garbage, not SQLite" * 100)
        requests = sim.stats.requests
        with pytest.raises(JournalError, match="is not a batch journal"):
            await run(client, jobs, out)
        assert sim.stats.requests == requests
        journal.rename(tmp_path / "kept-aside")
        assert (await run(client, jobs, out)).done == 3
    assert len(sim.state.videos) == 3


async def test_damaged_results_lines_are_skipped_when_the_identity_survives(
    sim: ArgilSimulator, tmp_path: Path
):
    """Journal gone, results file half garbage: recovered from the API, nothing made twice."""
    jobs = make_jobs(sim, 5)
    out = tmp_path / "out.jsonl"
    async with client_for(sim) as client:
        await run(client, jobs, out)
        damage(out, "delete journal")
        out.write_bytes(out.read_bytes()[:150] + b"\xff\xfe{{{ not json\n")
        assert (await run(client, jobs, out)).done == 5
    assert len(sim.state.videos) == 5


async def test_status_of_a_damaged_results_file_is_a_clear_error(
    sim: ArgilSimulator, tmp_path: Path
):
    """batch status on a damaged results file with no journal names the line."""
    jobs = make_jobs(sim, 2)
    out = tmp_path / "out.jsonl"
    async with client_for(sim) as client:
        await run(client, jobs, out)
    damage(out, "delete state folder")
    out.write_text(out.read_text() + "{broken\n")
    with pytest.raises(JournalError, match="line 3 is damaged"):
        read_status(out)
    result = _cli("batch", "status", str(out))
    assert result.returncode == 2
    assert "line 3 is damaged" in result.stderr
    assert "Traceback" not in result.stderr


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "argil_async", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.parametrize(
    "how",
    ["delete journal", "delete wal", "empty journal", "delete state folder",
     "delete journal and identity"],
)  # fmt: skip
async def test_sigkill_then_journal_lost_never_makes_a_second_video(
    sim_factory: SimFactory, tmp_path: Path, how: str
):
    """SIGKILL mid-run, the journal (its -wal, or the whole state folder) lost, rerun: one
    video and one render per job, exit 0."""
    sim = await sim_factory(render_audio_time=0.2, render_video_time=0.3, latency=0.02)
    jobs = tmp_path / "jobs.jsonl"
    keys = write_jobs(sim, jobs, 30)
    out = tmp_path / "results.jsonl"
    process = await start_cli(sim, jobs, out)
    while len(sim.state.videos) < 12 and process.returncode is None:
        await asyncio.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    await process.wait()
    damage(out, how)
    process = await start_cli(sim, jobs, out)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()[-2000:]
    per_key = {key: len(sim.state.videos_with_extras(**{JOB_KEY_EXTRA: key})) for key in keys}
    assert set(per_key.values()) == {1}, per_key
    assert len(sim.state.videos) == 30
    assert renders(sim) == 30  # no second paid render
    assert {line["status"] for line in results_of(out).values()} == {"DONE"}


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make ``folder`` read-only for this process: chmod, or a read-only bind mount as root."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    mount = ["mount", "--bind", str(folder), str(folder)]
    if subprocess.run(mount, capture_output=True).returncode != 0:
        pytest.skip("cannot make a read-only folder here (root without mount)")
    try:
        remount = ["mount", "-o", "remount,ro,bind", str(folder)]
        subprocess.run(remount, check=True, capture_output=True)
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True, capture_output=True)


pytestmark_posix = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")


@pytestmark_posix
async def test_a_read_only_folder_is_refused_before_anything_is_sent(
    sim: ArgilSimulator, tmp_path: Path
):
    """A results folder that cannot be written: JournalError, no request, no traceback."""
    folder = tmp_path / "ro"
    folder.mkdir()
    jobs = make_jobs(sim, 2)
    with read_only(folder):
        async with client_for(sim) as client:
            with pytest.raises(JournalError, match="cannot be written here"):
                await run(client, jobs, folder / "out.jsonl")
    assert sim.stats.requests == 0


@pytestmark_posix
async def test_a_folder_made_read_only_at_the_end_keeps_every_outcome(
    sim: ArgilSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Read-only just before the results are written: ResultsWriteError with the summary;
    once writable, the rerun writes the results and sends nothing."""
    from argil_async.batch import _runner

    folder = tmp_path / "work"
    folder.mkdir()
    out = folder / "out.jsonl"
    jobs = make_jobs(sim, 4)
    real_write = _runner.write_results
    stack = contextlib.ExitStack()

    def write_after_lockdown(*args: object) -> None:
        stack.enter_context(read_only(folder))
        real_write(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(_runner, "write_results", write_after_lockdown)
    with stack:
        async with client_for(sim) as client:
            with pytest.raises(ResultsWriteError, match="every outcome is kept") as caught:
                await run(client, jobs, out)
    assert caught.value.summary is not None
    assert caught.value.summary.done == 4
    monkeypatch.setattr(_runner, "write_results", real_write)
    requests = sim.stats.by_route.copy()
    async with client_for(sim) as client:
        assert (await run(client, jobs, out)).done == 4
    assert sim.stats.by_route["POST /videos"] == requests["POST /videos"] == 4
    assert len(results_of(out)) == 4


async def test_a_v01_journal_beside_the_results_still_resumes(sim: ArgilSimulator, tmp_path: Path):
    """A v0.1 batch (journal at results.jsonl.journal, no retired column) resumes in place."""
    import sqlite3

    jobs = make_jobs(sim, 4)
    out = tmp_path / "out.jsonl"
    async with client_for(sim) as client:
        await run(client, jobs[:2], out)
    paths = state_paths(out)
    legacy = tmp_path / "out.jsonl.journal"
    paths.journal.rename(legacy)
    shutil.rmtree(paths.folder)
    with sqlite3.connect(legacy) as db:
        db.execute("ALTER TABLE jobs DROP COLUMN retired")
    db.close()
    assert state_paths(out).journal == legacy
    async with client_for(sim) as client:
        summary = await run(client, jobs, out)
    assert (summary.done, summary.finished_before, len(sim.state.videos)) == (4, 2, 4)
    assert summary.journal == legacy

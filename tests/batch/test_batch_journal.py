"""The SQLite journal: adoption of jobs across runs, group commit, results file and status."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import stat
import sys
from pathlib import Path

import pytest

from argil_async import InvalidRequestError, LocalStorageError
from argil_async.batch import Job, JournalError, journal_path, read_status
from argil_async.batch._records import DONE, FAILED, PENDING, RENDER_SENT
from argil_async.batch._results import write_results
from argil_async.batch._sqlite._journal import Journal, JournalWriter


def make_jobs(count: int) -> list[Job]:
    """``count`` valid jobs keyed j0, j1, ..."""
    return [
        Job.from_dict(
            {"key": f"j{i}", "name": f"v{i}", "moments": [{"avatarId": "a", "transcript": "hi"}]},
            line=i + 1,
        )
        for i in range(count)
    ]


def test_journal_path_sits_in_a_hidden_folder_beside_the_results(tmp_path: Path):
    """results.jsonl keeps its journal in .argil-batch/results.jsonl.journal."""
    expected = tmp_path / ".argil-batch" / "results.jsonl.journal"
    assert journal_path(tmp_path / "results.jsonl") == expected


def test_prepare_adds_new_jobs_and_keeps_known_states(tmp_path: Path):
    """A second prepare keeps the saved state of known jobs and adds the new ones as PENDING."""
    with Journal(tmp_path / "j") as journal:
        first = journal.prepare(make_jobs(2), "https://api")
        journal.save([first["j0"].moved(state=DONE, video_id="v0")])
        again = journal.prepare(make_jobs(3), "https://api")
    assert [(r.key, r.state) for r in again.values()] == [
        ("j0", DONE),
        ("j1", PENDING),
        ("j2", PENDING),
    ]
    with Journal(tmp_path / "j") as reopened:
        assert reopened.records()["j0"].video_id == "v0"


def test_a_journal_from_another_api_is_refused(tmp_path: Path):
    """Resuming against another endpoint raises JournalError (a LocalStorageError)."""
    with Journal(tmp_path / "j") as journal:
        journal.prepare(make_jobs(1), "https://api")
        with pytest.raises(JournalError, match="was written against https://api"):
            journal.prepare(make_jobs(1), "http://127.0.0.1:1/v1")
    assert issubclass(JournalError, LocalStorageError)  # the disk's state, not bad input
    assert not issubclass(JournalError, (InvalidRequestError, ValueError))


def test_a_started_job_may_not_change_but_a_pending_one_may(tmp_path: Path):
    """Editing a job whose video may exist is refused; editing a PENDING job is adopted."""
    edited = [dataclasses.replace(job, name="edited") for job in make_jobs(2)]
    with Journal(tmp_path / "j") as journal:
        records = journal.prepare(make_jobs(2), "api")
        journal.save([records["j0"].moved(state=RENDER_SENT, video_id="v")])
        with pytest.raises(JournalError, match="1 started job"):
            journal.prepare(edited, "api")
        adopted = journal.prepare([make_jobs(1)[0], edited[1]], "api")
    assert adopted["j1"].fingerprint == edited[1].fingerprint()


async def test_concurrent_saves_share_commits(tmp_path: Path):
    """Saves queued while a commit is under way join the next one (group commit)."""
    with Journal(tmp_path / "j") as journal:
        records = journal.prepare(make_jobs(200), "api")
        writer = JournalWriter(journal)
        await asyncio.gather(*(writer.save(r.moved(state=DONE)) for r in records.values()))
        await writer.aclose()
        assert writer.commits < 50
        assert {r.state for r in journal.records().values()} == {DONE}


async def test_a_cancelled_saver_does_not_cancel_the_commit(tmp_path: Path):
    """Cancelling a task waiting on save() still leaves its record committed."""
    with Journal(tmp_path / "j") as journal:
        record = journal.prepare(make_jobs(1), "api")["j0"]
        writer = JournalWriter(journal)
        task = asyncio.ensure_future(writer.save(record.moved(state=FAILED)))
        await asyncio.sleep(0)
        task.cancel()
        await writer.aclose()
        assert journal.records()["j0"].state == FAILED


def test_results_are_written_whole_one_line_per_job(tmp_path: Path):
    """write_results replaces the file atomically with one JSON line per record."""
    with Journal(tmp_path / "r.jsonl.journal") as journal:
        records = list(journal.prepare(make_jobs(3), "api").values())
    out = tmp_path / "r.jsonl"
    out.write_text("stale\n" * 10)
    write_results(out, records)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["key"] for line in lines] == ["j0", "j1", "j2"]
    assert set(lines[0]) == {
        "key", "status", "video_id", "video_status", "video_url", "error", "cause", "line",
        "attempts", "batch", "timings",
    }  # fmt: skip
    assert list(tmp_path.glob(".r.jsonl.*")) == []


def test_status_reads_the_journal_or_else_the_results(tmp_path: Path):
    """read_status counts states, lists failures with errors and unfinished keys."""
    out = tmp_path / "r.jsonl"
    journal = Journal(journal_path(out))
    records = journal.prepare(make_jobs(3), "api")
    journal.save([records["j0"].moved(state=DONE), records["j1"].moved(state=FAILED, error="x")])
    journal.close()
    status = read_status(out)
    assert (status.counts, status.failed, status.unfinished) == (
        {PENDING: 1, DONE: 1, FAILED: 1},
        1,
        ["j2"],
    )
    assert [(f.key, f.error, f.cause) for f in status.failures] == [("j1", "x", "error")]
    journal = Journal(journal_path(out))
    write_results(out, journal.records().values())
    journal.close()
    journal_path(out).unlink()
    assert read_status(out).to_dict()["counts"] == {PENDING: 1, DONE: 1, FAILED: 1}


def test_status_of_nothing_is_an_error(tmp_path: Path):
    """A path with neither a results file nor a journal raises InvalidRequestError."""
    with pytest.raises(InvalidRequestError):
        read_status(tmp_path / "none.jsonl")


def test_one_run_at_a_time_holds_a_journal(tmp_path: Path):
    """A second writer on a journal in use is refused; once closed, it may be reopened."""
    first = Journal(tmp_path / "j")
    with pytest.raises(JournalError, match="another run is using this journal"):
        Journal(tmp_path / "j")
    first.close()
    Journal(tmp_path / "j").close()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_the_results_file_mode_follows_the_umask(tmp_path: Path):
    """The results file is created like any other file (0644 under umask 022), not 0600."""
    previous = os.umask(0o022)
    try:
        write_results(tmp_path / "r.jsonl", [])
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "r.jsonl").stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["r.jsonl"]

"""The operator's public reads of a batch: read_results, remaining_jobs, batch_identity,
forget_batch, check_run_options, and the counts BatchStatus and BatchSummary share."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.client_fixtures import client_for
from test_batch_damage import damage
from test_batch_run import make_jobs, results_of, run

from argil_async import InvalidRequestError
from argil_async.batch import (
    STATES,
    BatchStatus,
    BatchSummary,
    CallbackServer,
    JobResult,
    JournalError,
    batch_identity,
    check_run_options,
    estimate_cost,
    forget_batch,
    read_results,
    read_status,
    remaining_jobs,
)
from argil_async.batch._layout import state_paths
from argil_async.batch._results import status_of
from argil_async.batch._sqlite._journal import Journal
from argil_async.testing import ArgilSimulator


async def _finished_batch(sim: ArgilSimulator, out: Path, count: int = 4) -> Any:
    """A batch of ``count`` jobs run to its end, job 1 FAILED; returns (jobs, summary)."""
    jobs = make_jobs(sim, count, failing=frozenset({1}))
    async with client_for(sim) as client:
        summary = await run(client, jobs, out)
    return jobs, summary


async def test_read_results_gives_typed_rows_equal_to_the_results_file(
    sim: ArgilSimulator, tmp_path: Path
):
    """Each row is the results-file line, typed; to_dict() gives the line back exactly."""
    out = tmp_path / "out.jsonl"
    await _finished_batch(sim, out)
    rows = read_results(out)
    assert [row.key for row in rows] == ["job-0000", "job-0001", "job-0002", "job-0003"]
    assert [row.line for row in rows] == [1, 2, 3, 4]
    assert (rows[0].status, rows[1].status, rows[1].cause) == ("DONE", "FAILED", "FAILED")
    assert rows[0].video_url
    assert rows[0].total_s is not None
    assert rows[0].attempts == 1
    assert {row.key: row.to_dict() for row in rows} == results_of(out)


async def test_read_results_prefers_the_live_journal_over_a_stale_results_file(
    sim: ArgilSimulator, tmp_path: Path
):
    """A results file older than the journal (lines still PENDING) reads as the journal says."""
    out = tmp_path / "out.jsonl"
    await _finished_batch(sim, out)
    stale = [{**line, "status": "PENDING", "video_id": None} for line in results_of(out).values()]
    out.write_text("".join(json.dumps(line) + "\n" for line in stale) + "not json\n")
    assert [row.status for row in read_results(out)] == ["DONE", "FAILED", "DONE", "DONE"]
    damage(out, "delete journal")
    assert {row.status for row in read_results(out)} == {"PENDING"}  # the damaged line is skipped


def test_read_results_without_a_batch_is_a_typed_error(tmp_path: Path):
    """Neither a results file nor a journal: InvalidRequestError naming the path."""
    with pytest.raises(InvalidRequestError, match="neither"):
        read_results(tmp_path / "none.jsonl")


async def test_read_results_on_a_damaged_journal_is_a_journal_error(
    sim: ArgilSimulator, tmp_path: Path
):
    """A journal that is not SQLite any more: JournalError, not a silent half answer."""
    out = tmp_path / "out.jsonl"
    await _finished_batch(sim, out, count=2)
    state_paths(out).journal.write_bytes(b"garbage, not a database" * 100)
    with pytest.raises(JournalError):
        read_results(out)


async def test_remaining_jobs_leaves_out_what_a_run_would_skip(sim: ArgilSimulator, tmp_path: Path):
    """Finished jobs are skipped; FAILED ones come back with retry_failed; new jobs stay."""
    out = tmp_path / "out.jsonl"
    jobs, _ = await _finished_batch(sim, out)
    extra = make_jobs(sim, 6)[4:]
    assert remaining_jobs(jobs + extra, out) == extra
    assert remaining_jobs(jobs + extra, out, retry_failed=True) == [jobs[1], *extra]
    assert estimate_cost(remaining_jobs(jobs, out)).total == 0
    assert remaining_jobs(jobs, tmp_path / "new.jsonl") == jobs


async def test_remaining_jobs_on_unreadable_state_never_underestimates(
    sim: ArgilSimulator, tmp_path: Path
):
    """A damaged journal (the run will recover or refuse it): every job counts as remaining."""
    out = tmp_path / "out.jsonl"
    jobs, _ = await _finished_batch(sim, out, count=2)
    state_paths(out).journal.write_bytes(b"garbage, not a database" * 100)
    assert remaining_jobs(jobs, out) == jobs


async def test_batch_identity_names_the_batch_its_videos_carry(sim: ArgilSimulator, tmp_path: Path):
    """The identity's id is the results' batch id and the videos' extras; the endpoint the sim."""
    out = tmp_path / "out.jsonl"
    await _finished_batch(sim, out, count=2)
    identity = batch_identity(out)
    assert identity is not None
    assert identity.endpoint == sim.base_url
    assert {line["batch"] for line in results_of(out).values()} == {identity.batch}
    assert len(sim.state.videos_with_extras(argilBatchId=identity.batch)) == 2
    state_paths(out).identity.unlink()
    assert batch_identity(out) == identity  # read from the journal then
    assert batch_identity(tmp_path / "never-run.jsonl") is None
    assert repr(identity).startswith("BatchIdentity(")
    assert type(identity).__module__ == "argil_async.batch"


async def test_forget_batch_starts_the_next_run_afresh(sim: ArgilSimulator, tmp_path: Path):
    """After forget_batch the state and results are gone, and a run makes new videos."""
    out = tmp_path / "out.jsonl"
    jobs, _ = await _finished_batch(sim, out, count=2)
    forget_batch(out)
    paths = state_paths(out)
    assert not any(p.exists() for p in [*paths.journal_files(), paths.identity, out])
    assert batch_identity(out) is None
    async with client_for(sim) as client:
        again = await run(client, jobs, out)
    assert (again.finished_before, len(sim.state.videos)) == (0, 4)
    forget_batch(tmp_path / "never-run.jsonl")  # nothing to forget is not an error


async def test_forget_batch_refuses_while_a_run_holds_the_batch(
    sim: ArgilSimulator, tmp_path: Path
):
    """A run holding the journal's lock: JournalError, and nothing is deleted."""
    out = tmp_path / "out.jsonl"
    await _finished_batch(sim, out, count=1)
    paths = state_paths(out)
    with Journal(paths.journal, lock=paths.lock), pytest.raises(JournalError, match="another run"):
        forget_batch(out)
    assert paths.journal.exists()
    assert out.exists()


async def test_check_run_options_says_callbacks_or_polling_and_refuses_bad_ones(
    sim: ArgilSimulator,
):
    """None when the run would poll, the server when it would listen; bad values refused."""
    async with client_for(sim) as client:
        assert check_run_options(client, callback="off") is None
        assert check_run_options(client) == CallbackServer()  # the simulator is on loopback
        public = CallbackServer("0.0.0.0", 8080, "http://example.com/hooks")
        refused: list[dict[str, Any]] = [
            {"concurrency": 0},
            {"concurrency": True},
            {"max_failures": 0},
            {"progress": "loud"},
            {"callback": "sometimes"},
            {"callback": public},
        ]
        for kwargs in refused:
            with pytest.raises(InvalidRequestError):
                check_run_options(client, **kwargs)
        with pytest.raises(InvalidRequestError, match="concurrency"):
            await run(client, make_jobs(sim, 1), Path("unused.jsonl"), concurrency=0)


async def test_status_and_summary_count_alike(sim: ArgilSimulator, tmp_path: Path):
    """A run's summary and read_status agree on total, done and failed."""
    out = tmp_path / "out.jsonl"
    _, summary = await _finished_batch(sim, out)
    status = read_status(out)
    assert (status.total, status.done, status.failed) == (summary.total, summary.done, 1)
    assert (summary.total, summary.done, summary.failed) == (4, 3, 1)


@given(st.lists(st.sampled_from([*STATES, "SOMETHING_NEW"]), max_size=30))
def test_failed_counts_exactly_the_listed_failures(states: list[str]):
    """For any mix of states, failed == len(failures), total == jobs, and a summary agrees."""
    rows = [(f"k{i}", state, None, i, None, None) for i, state in enumerate(states)]
    status = status_of(rows)
    assert status.failed == len(status.failures)
    assert status.total == len(states)
    summary = BatchSummary(status.counts, 0, 0.0, Path("r"), Path("j"), callbacks=False)
    assert (summary.total, summary.done, summary.failed) == (
        status.total,
        status.done,
        status.failed,
    )
    assert isinstance(status, BatchStatus)


_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5)
)


@given(
    st.fixed_dictionaries(
        {"key": st.text(min_size=1, max_size=8)},
        optional={
            name: _VALUES
            for name in ("status", "line", "video_id", "error", "cause", "attempts", "batch")
        }
        | {"timings": st.one_of(_VALUES, st.dictionaries(st.sampled_from(["total_s"]), _VALUES))},
    )
)
def test_job_result_reads_any_line_and_round_trips(row: dict[str, Any]):
    """Any results line with a key reads without error; wrong types read as None (or 0)."""
    result = JobResult.from_line(row)
    assert result.key == row["key"]
    assert result.line is None or type(result.line) is int
    assert result.total_s is None or isinstance(result.total_s, float)
    assert isinstance(result.attempts, int)
    assert JobResult.from_line(result.to_dict()) == result


_LINES = st.one_of(
    st.binary(max_size=40),
    st.builds(
        lambda row: json.dumps(row).encode(),
        st.dictionaries(st.sampled_from(["key", "status", "line", "timings", "attempts"]), _VALUES),
    ),
)


@given(st.lists(_LINES, max_size=8))
def test_read_results_on_any_results_file_gives_rows_or_a_typed_error(lines: list[bytes]):
    """Damaged results files (no journal): typed rows for the readable lines, or a JournalError."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out.jsonl"
        out.write_bytes(b"\n".join(lines))
        try:
            rows = read_results(out)
        except JournalError:
            return
        assert all(isinstance(row, JobResult) for row in rows)
        assert remaining_jobs([], out) == []


def test_read_results_reads_out_of_range_timings_as_none(tmp_path: Path):
    """A damaged line whose timings overflow a float reads them as None, not OverflowError."""
    out = tmp_path / "out.jsonl"
    huge = "1" + "0" * 400
    out.write_text(
        f'{{"key": "a", "status": "DONE", "timings": {{"create_s": {huge}, "total_s": -{huge},'
        ' "render_s": 2}}\n'
    )
    [row] = read_results(out)
    assert (row.key, row.create_s, row.total_s, row.render_s) == ("a", None, None, 2.0)


@pytest.mark.parametrize("row", [{}, {"key": 7}, ["key"], None])
def test_job_result_from_a_line_without_a_key_is_a_typed_error(row: Any):
    """JobResult.from_line on something that is not a results line: InvalidRequestError."""
    with pytest.raises(InvalidRequestError, match="string key"):
        JobResult.from_line(row)


async def test_forget_batch_spares_a_run_that_starts_right_after_its_check(
    sim: ArgilSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A run that creates the state folder just after forget_batch looked keeps its journal."""
    out = tmp_path / "out.jsonl"
    out.write_text("")
    paths = state_paths(out)
    opened: list[Journal] = []
    real_is_dir = Path.is_dir

    def is_dir_then_a_run_starts(self: Path) -> bool:
        found = real_is_dir(self)
        if self == paths.folder and not opened:
            opened.append(Journal(paths.journal, lock=paths.lock))  # the run's lock and journal
        return found

    monkeypatch.setattr(Path, "is_dir", is_dir_then_a_run_starts)
    try:
        forget_batch(out)
        assert opened
        assert paths.journal.exists()
    finally:
        for journal in opened:
            journal.close()
    assert not out.exists()


def test_forget_batch_on_a_path_it_cannot_delete_is_a_journal_error(tmp_path: Path):
    """A results path that is a folder cannot be deleted: JournalError naming it."""
    (tmp_path / "out.jsonl").mkdir()
    with pytest.raises(JournalError, match="cannot be deleted"):
        forget_batch(tmp_path / "out.jsonl")


def test_coordinator_for_results_with_a_damaged_note_is_a_typed_error(tmp_path: Path):
    """A .coordinator note that is not UTF-8 text: InvalidRequestError, not UnicodeDecodeError."""
    from argil_async.batch import RedisCoordinator

    (tmp_path / "out.jsonl.coordinator").write_bytes(b"\xff\xfe\x00batch")
    with pytest.raises(InvalidRequestError, match="must name the batch"):
        RedisCoordinator.for_results("redis://127.0.0.1:1/0", tmp_path / "out.jsonl")


async def test_a_batch_run_refuses_a_client_that_is_not_async(sim: ArgilSimulator, tmp_path: Path):
    """A sync Argil (or None) is refused with InvalidRequestError before anything is sent."""
    from argil_async import Argil

    out = tmp_path / "out.jsonl"
    with Argil(api_key=sim.api_key, base_url=sim.base_url) as sync_client:
        for client in (sync_client, None):
            with pytest.raises(InvalidRequestError, match="AsyncArgil"):
                check_run_options(client)  # type: ignore[arg-type]
            with pytest.raises(InvalidRequestError, match="AsyncArgil"):
                await run(client, make_jobs(sim, 1), out)  # type: ignore[arg-type]
    assert not sim.state.videos
    assert not out.exists()

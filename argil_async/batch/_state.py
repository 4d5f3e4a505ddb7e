"""A batch seen from its results file: every job's row, what is left, which batch it is.

These are the reads (and the one reset) behind ``argil batch status --report``, the cost
shown before a resumed run and the CLI's handling of simulated runs, public so that an
operator's own script can do the same without touching the journal:

```python
from argil_async.batch import load_jobs, read_results, remaining_jobs, estimate_cost

for row in read_results("results.jsonl"):          # live, even during a run
    if row.status == "FAILED":
        print(row.line, row.key, row.cause, row.error)
left = remaining_jobs(load_jobs("jobs.jsonl"), "results.jsonl")
print(estimate_cost(left))                         # what the next run would still spend
```
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import _validation as check
from ..errors import InvalidRequestError
from ._jobs import Job
from ._layout import BatchIdentity, JournalError, read_identity, state_paths
from ._records import FAILED, FINISHED
from ._results import NEITHER as _NEITHER
from ._results import as_float, as_int, as_text, read_result_rows, result_line
from ._sqlite._journal import _RunLock, reading

__all__ = [
    "JobResult",
    "batch_identity",
    "forget_batch",
    "read_results",
    "remaining_jobs",
    "result_lines",
]


@dataclass(frozen=True)
class JobResult:
    """One job of a batch, as a results-file line says it (see
    [`read_results()`][argil_async.batch.read_results]).

    ``status`` is the job's state (DONE, FAILED, TIMED_OUT, or an unfinished one),
    ``cause`` why it did not end DONE (FAILED, CONTENT_MODERATED, TIMED_OUT or ``error``),
    ``batch`` the batch id its video carries; the timings are flattened from the line's
    ``timings`` object (ISO 8601 UTC times, durations in seconds). ``to_dict()`` gives the
    results-file line back.
    """

    key: str
    status: str
    line: int | None = None
    video_id: str | None = None
    video_status: str | None = None
    video_url: str | None = None
    error: str | None = None
    cause: str | None = None
    attempts: int = 0
    batch: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    create_s: float | None = None
    render_s: float | None = None
    total_s: float | None = None

    @classmethod
    def from_line(cls, row: Mapping[str, Any]) -> JobResult:
        """A results-file line (a decoded JSON object); fields of the wrong type read as None.

        InvalidRequestError when ``row`` is not a mapping with a string ``key``.
        """
        key = row.get("key") if isinstance(row, Mapping) else None
        if not isinstance(key, str):
            raise check.fail("row", "must be a results line: an object with a string key", row)
        timings = row.get("timings")
        timings = timings if isinstance(timings, Mapping) else {}
        return cls(
            key=key,
            status=str(row.get("status")),
            line=as_int(row.get("line")),
            video_id=as_text(row.get("video_id")),
            video_status=as_text(row.get("video_status")),
            video_url=as_text(row.get("video_url")),
            error=as_text(row.get("error")),
            cause=as_text(row.get("cause")),
            attempts=as_int(row.get("attempts")) or 0,
            batch=as_text(row.get("batch")),
            started_at=as_text(timings.get("started_at")),
            finished_at=as_text(timings.get("finished_at")),
            create_s=as_float(timings.get("create_s")),
            render_s=as_float(timings.get("render_s")),
            total_s=as_float(timings.get("total_s")),
        )

    def to_dict(self) -> dict[str, Any]:
        """The results-file line of this job (``timings`` nested again)."""
        flat = dict(vars(self))
        timings = {name: flat.pop(name) for name in _TIMINGS}
        return {**flat, "timings": timings}


_TIMINGS = ("started_at", "finished_at", "create_s", "render_s", "total_s")


def read_results(results: str | os.PathLike[str]) -> list[JobResult]:
    """Every job of a batch, in job-file order: the journal's live state over the results file.

    The results file is rewritten only when a run ends; the journal beside it is current,
    even while a run is going, so its rows win. Damaged results lines are left out (logged);
    a damaged journal gives [`JournalError`][argil_async.batch.JournalError], and
    InvalidRequestError when neither file exists. Example:

    ```python
    failed = [r for r in read_results("results.jsonl") if r.status == "FAILED"]
    ```
    """
    rows = result_lines(Path(results))
    ordered = sorted(rows.values(), key=lambda row: as_int(row.get("line")) or 0)
    return [JobResult.from_line(row) for row in ordered]


def result_lines(results: Path, *, dropped: bool = False) -> dict[str, dict[str, Any]]:
    """Results lines by key, the journal's over the file's (see
    [`read_results()`][argil_async.batch.read_results]).

    ``dropped`` keeps the journal's jobs that are no longer in the job file (their videos
    still exist: ``download_results`` fetches them).
    """
    journal = state_paths(results).journal
    if not results.exists() and not journal.exists():
        raise check.fail("results", _NEITHER, str(results))
    rows = dict(read_result_rows(results))
    rows.update(_journal_rows(journal, dropped))
    return rows


def _journal_rows(path: Path, dropped: bool) -> Iterable[tuple[str, dict[str, Any]]]:
    if not path.exists():
        return []
    with reading(path) as journal:
        batch = journal.batch
        records = journal.records().values() if dropped else journal.current()
        return [(record.key, result_line(record, batch)) for record in records]


def remaining_jobs(
    jobs: Iterable[Job], results: str | os.PathLike[str], *, retry_failed: bool = False
) -> list[Job]:
    """The jobs a run with this results file may still pay for (to give to ``estimate_cost``).

    Finished jobs are left out: DONE and FAILED ones are skipped by the run (FAILED ones are
    kept with ``retry_failed``, as the run renders them again), and a TIMED_OUT render is
    waited for again, not paid again. When the batch's state cannot be read (none yet, or
    damaged: the run recovers or refuses it), every job is returned, so an estimate built on
    this is never too low. Example:

    ```python
    estimate = estimate_cost(remaining_jobs(jobs, "results.jsonl", retry_failed=True))
    ```
    """
    jobs = list(jobs)
    try:
        rows = read_results(results)
    except (InvalidRequestError, JournalError):
        return jobs
    redo = {FAILED} if retry_failed else set()
    skipped = {r.key for r in rows if r.status in FINISHED and r.status not in redo}
    return [job for job in jobs if job.key not in skipped]


def batch_identity(results: str | os.PathLike[str]) -> BatchIdentity | None:
    """Which batch a results file belongs to: its id and the API it was made on, or None.

    The id is what the batch's videos carry in ``extras["argilBatchId"]`` (so
    ``client.videos.list(extras_filter=...)`` finds them); the endpoint tells a simulated
    batch from a real one. Read from the identity file, else the journal (a v0.1 journal
    has no batch id: ``batch`` is then ``""``). Example:

    ```python
    identity = batch_identity("results.jsonl")
    if identity is not None and identity.endpoint.startswith("http://127.0.0.1"):
        forget_batch("results.jsonl")      # made on a simulator that is gone
    ```
    """
    paths = state_paths(results)
    identity = read_identity(paths.identity)
    if identity is not None or not paths.journal.exists():
        return identity
    with reading(paths.journal) as journal:
        endpoint, batch = journal.meta("endpoint"), journal.batch
    return None if endpoint is None else BatchIdentity(batch or "", endpoint)


def forget_batch(results: str | os.PathLike[str]) -> None:
    """Delete a batch's journal, identity file and results, so the next run starts afresh.

    For a batch whose videos no longer exist (made on a simulator that has stopped); on a
    real batch the next run would create and pay for every video again, since nothing then
    remembers them. The videos themselves are not touched.
    [`JournalError`][argil_async.batch.JournalError] while a run holds the batch (nothing is deleted
    then) or when a file cannot be deleted. Example:

    ```python
    forget_batch("results.jsonl")
    ```
    """
    paths = state_paths(results)
    if not paths.lock.parent.is_dir():
        # No state folder, so no journal: only the results are ours to delete. A run that
        # creates the folder from now on holds its lock, and its files are not touched.
        _delete([paths.results])
        return
    lock = _RunLock(paths.lock)
    try:
        _delete([*paths.journal_files(), paths.identity, paths.results])
    finally:
        lock.release()


def _delete(paths: Iterable[Path]) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise JournalError(str(path), f"cannot be deleted: {exc.strerror or exc}") from None

"""The results file (one JSON line per job, rewritten whole from the journal) and ``status``.

A results line:

```python
{"key": "cust-001", "status": "DONE", "video_id": "3c90...", "video_status": "DONE",
 "video_url": "https://...", "error": null, "cause": null, "line": 1, "attempts": 1,
 "batch": "5f0c...",
 "timings": {"started_at": "2025-01-01T02:00:00Z", "finished_at": "...",
             "create_s": 0.21, "render_s": 183.5, "total_s": 184.0}}
```

``status`` is the job's journal state: DONE, FAILED, TIMED_OUT, or an unfinished state
(PENDING ... RENDER_SENT) when the run was interrupted. ``cause`` says why a job did not end
DONE (see [`JobFailure`][argil_async.batch.JobFailure]); ``batch`` is the batch id its video
carries. The file is written to a temporary name, flushed to disk and renamed over the old one, so
readers never see a half-written file and it holds exactly one line per job after every run.
"""

from __future__ import annotations

import logging
import math
import os
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

import msgspec

from .. import _validation as check
from ..models import VIDEO_FAILED_STATUSES
from ._layout import JournalError, journal_path
from ._outcome import JobCounts
from ._records import FAILED, FINISHED, STATES, TIMED_OUT, JobRecord
from ._sqlite._journal import reading

__all__ = [
    "BatchStatus",
    "JobFailure",
    "ResultsWriteError",
    "as_float",
    "as_int",
    "as_text",
    "failure_cause",
    "read_result_rows",
    "read_status",
    "result_line",
    "status_of_records",
    "write_results",
]

#: The rule when a results path has neither file (read_status, read_results).
NEITHER = "must be a results file or its journal; neither exists"

logger = logging.getLogger("argil_async.batch")


def result_line(record: JobRecord, batch: str | None = None) -> dict[str, Any]:
    """The results-file object of one job."""
    failed = record.state in (FAILED, TIMED_OUT)
    return {
        "key": record.key,
        "status": record.state,
        "video_id": record.video_id,
        "video_status": record.video_status,
        "video_url": record.video_url,
        "error": record.error,
        "cause": failure_cause(record.state, record.video_status) if failed else None,
        "line": record.line,
        "attempts": record.attempts,
        "batch": batch,
        "timings": _timings(record),
    }


def _timings(record: JobRecord) -> dict[str, Any]:
    def span(start: float | None, end: float | None) -> float | None:
        return None if start is None or end is None else round(end - start, 3)

    return {
        "started_at": _iso(record.started_at),
        "finished_at": _iso(record.finished_at),
        "create_s": span(record.started_at, record.created_at),
        "render_s": span(record.render_sent_at, record.finished_at),
        "total_s": span(record.started_at, record.finished_at),
    }


def _iso(stamp: float | None) -> str | None:
    if stamp is None:
        return None
    moment = datetime.fromtimestamp(stamp, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_results(
    path: Path,
    records: Iterable[JobRecord] | Callable[[], Iterable[JobRecord]],
    batch: str | None = None,
) -> None:
    """Replace ``path`` atomically with one line per record.

    ``records`` may be a function giving them, called once per attempt, so that a large
    batch's records are streamed from the journal instead of held in memory. When the
    folder no longer takes new files (it became read-only during the run) an existing,
    writable results file is rewritten in place; failing that, ResultsWriteError (the
    outcomes stay in the journal, and the next run writes them).
    """
    if not callable(records):
        kept = list(records)
        records = lambda: kept  # noqa: E731
    try:
        _write_atomically(path, _lines(records(), batch))
    except OSError as exc:
        if not (path.is_file() and os.access(path, os.W_OK)):
            raise ResultsWriteError(str(path), _unwritable(exc)) from None
        try:
            with path.open("r+b") as stream:
                stream.truncate(0)
                _write_all(stream, _lines(records(), batch))
        except OSError as again:
            raise ResultsWriteError(str(path), _unwritable(again)) from None


def _lines(records: Iterable[JobRecord], batch: str | None) -> Iterator[bytes]:
    encode = msgspec.json.Encoder().encode
    return (encode(result_line(record, batch)) + b"\n" for record in records)


def _unwritable(exc: OSError) -> str:
    return (
        f"cannot be written ({exc.strerror or exc}); every outcome is kept in the journal: "
        "make the folder writable and run the same command again (nothing is sent again), "
        "or read them with `argil batch status`"
    )


def _write_atomically(path: Path, lines: Iterable[bytes]) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    # Not mkstemp: its 0600 would become the results file's mode; this one follows the umask.
    fd = os.open(
        temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666
    )
    try:
        with os.fdopen(fd, "wb") as stream:
            _write_all(stream, lines)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _write_all(stream: BinaryIO, lines: Iterable[bytes]) -> None:
    for line in lines:
        stream.write(line)
    stream.flush()
    os.fsync(stream.fileno())


class ResultsWriteError(JournalError):
    """The results file could not be written; ``summary`` is the run's outcome (kept in the
    journal, so a rerun writes the file without sending anything)."""

    summary: Any = None


@dataclass(frozen=True)
class JobFailure:
    """A job that did not end DONE: where it came from, why, and its video if any.

    ``cause`` is ``FAILED`` or ``CONTENT_MODERATED`` (the render ended so), ``TIMED_OUT``
    (its outcome was not learned in time; the next run waits again) or ``error`` (the API
    refused a request, or an upload failed).
    """

    key: str
    line: int | None
    cause: str
    error: str | None
    video_id: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "key": self.key,
            "line": self.line,
            "cause": self.cause,
            "error": self.error,
            "video_id": self.video_id,
        }


def failure_cause(state: str, video_status: str | None) -> str:
    """FAILED / CONTENT_MODERATED (from the video), TIMED_OUT, or error."""
    if state == TIMED_OUT:
        return TIMED_OUT
    if video_status in VIDEO_FAILED_STATUSES:
        return str(video_status)
    return "error"


@dataclass(frozen=True)
class BatchStatus(JobCounts):
    """Where a batch stands: counts per state, the failures with their causes, the rest.

    ``total``, ``done`` and ``failed`` (a count: the jobs that ended FAILED or TIMED_OUT) mean
    what they mean on [`BatchSummary`][argil_async.batch.BatchSummary]; ``failures`` lists the
    failed jobs, with causes.
    """

    counts: Mapping[str, int]
    failures: list[JobFailure] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)

    def causes(self) -> dict[str, int]:
        """Failures by cause: ``{"FAILED": 2, "CONTENT_MODERATED": 1, "error": 4}``."""
        return dict(Counter(failure.cause for failure in self.failures))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the ``--json`` output of ``argil batch status``)."""
        return {
            "total": self.total,
            "done": self.done,
            "failed": self.failed,
            "counts": dict(self.counts),
            "causes": self.causes(),
            "failures": [failure.to_dict() for failure in self.failures],
            "unfinished": self.unfinished,
        }

    def __str__(self) -> str:
        counts = ", ".join(f"{state} {count}" for state, count in self.counts.items())
        causes = ", ".join(f"{cause} {count}" for cause, count in self.causes().items())
        text = f"{self.total} jobs: {counts or 'none'}"
        return f"{text}\nfailures by cause: {causes}" if causes else text


Row = tuple[str, str, "str | None", "int | None", "str | None", "str | None"]


def status_of_records(records: Iterable[JobRecord]) -> BatchStatus:
    """A BatchStatus from journal records (the caller passes the job file's: ``seq >= 0``)."""
    return status_of((r.key, r.state, r.error, r.line, r.video_id, r.video_status) for r in records)


def status_of(rows: Iterable[Row]) -> BatchStatus:
    """A BatchStatus from ``(key, state, error, line, video_id, video_status)`` rows."""
    counts: Counter[str] = Counter()
    failures, unfinished = [], []
    for key, state, error, line, video_id, video_status in rows:
        counts[state] += 1
        if state in (FAILED, TIMED_OUT):
            cause = failure_cause(state, video_status)
            failures.append(JobFailure(key, line, cause, error, video_id))
        elif state not in FINISHED:
            unfinished.append(key)
    ordered = {state: counts[state] for state in STATES if counts[state]}
    ordered.update((state, n) for state, n in counts.items() if state not in ordered)
    return BatchStatus(ordered, failures, unfinished)


def read_status(results: str | os.PathLike[str]) -> BatchStatus:
    """The status of a batch from its journal (live, even during a run), else its results file.

    Example: ``read_status("results.jsonl").counts`` gives ``{"DONE": 498, "FAILED": 2}``.
    A damaged journal or results file gives [`JournalError`][argil_async.batch.JournalError] naming
    it.
    """
    path = Path(results)
    journal = journal_path(path)
    if journal.exists():
        with reading(journal) as opened:
            if opened.started:  # streamed: a large batch is never all in memory
                return status_of_records(opened.current())
    if path.exists():
        return status_of(_results_rows(path))
    if journal.exists():  # a run whose first commit is under way
        return status_of([])
    raise check.fail("results", NEITHER, str(path))


def _results_rows(path: Path) -> Iterable[Row]:
    for number, row in _decoded_lines(path):
        if row is None:
            raise JournalError(
                str(path), f"line {number} is damaged (not a results line); its journal is gone"
            )
        yield (
            str(row["key"]),
            str(row.get("status")),
            as_text(row.get("error")),
            as_int(row.get("line")),
            as_text(row.get("video_id")),
            as_text(row.get("video_status")),
        )


def read_result_rows(path: Path) -> dict[str, dict[str, Any]]:
    """The readable lines of a results file by key; damaged lines are left out (logged)."""
    rows = {}
    damaged = 0
    for _, row in _decoded_lines(path):
        if row is None:
            damaged += 1
        else:
            rows[str(row["key"])] = row
    if damaged:
        logger.warning("%s: %d damaged line(s) ignored", path, damaged)
    return rows


def _decoded_lines(path: Path) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """``(line number, row)`` for each non-blank line; row None when it is not a result."""
    decoder = msgspec.json.Decoder(dict[str, Any])
    try:
        stream = path.open("rb")
    except FileNotFoundError:
        return
    except OSError as exc:
        raise JournalError(str(path), f"cannot be read: {exc.strerror or exc}") from None
    with stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                row: dict[str, Any] | None = decoder.decode(line)
            except msgspec.DecodeError:
                row = None
            if row is not None and not isinstance(row.get("key"), str):
                row = None
            yield number, row


def as_text(value: object) -> str | None:
    """A results-line field that should be a string; anything else (damage) reads as None."""
    return value if isinstance(value, str) else None


def as_int(value: object) -> int | None:
    """A results-line field that should be an integer (not a bool); else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_float(value: object) -> float | None:
    """A results-line field that should be a finite number (not a bool); else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        return None
    return number if math.isfinite(number) else None

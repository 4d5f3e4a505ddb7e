"""The results file (one JSON line per job, rewritten whole from the journal) and ``status``.

A results line::

    {"key": "cust-001", "status": "DONE", "video_id": "3c90...", "video_status": "DONE",
     "video_url": "https://...", "error": null, "line": 1, "attempts": 1,
     "timings": {"started_at": "2025-01-01T02:00:00Z", "finished_at": "...",
                 "create_s": 0.21, "render_s": 183.5, "total_s": 184.0}}

``status`` is the job's journal state: DONE, FAILED, TIMED_OUT, or an unfinished state
(PENDING ... RENDER_SENT) when the run was interrupted. The file is written to a temporary
name, flushed to disk and renamed over the old one, so readers never see a half-written file
and it holds exactly one line per job after every run, however many runs it took.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import msgspec

from ..errors import InvalidRequestError
from ._journal import DONE, FAILED, FINISHED, STATES, TIMED_OUT, JobRecord, Journal, journal_path

__all__ = ["BatchStatus", "read_status", "result_line", "write_results"]


def result_line(record: JobRecord) -> dict[str, Any]:
    """The results-file object of one job."""
    return {
        "key": record.key,
        "status": record.state,
        "video_id": record.video_id,
        "video_status": record.video_status,
        "video_url": record.video_url,
        "error": record.error,
        "line": record.line,
        "attempts": record.attempts,
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


def write_results(path: Path, records: Iterable[JobRecord]) -> None:
    """Replace ``path`` atomically with one line per record."""
    encoder = msgspec.json.Encoder()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    # Not mkstemp: its 0600 would become the results file's mode; this one follows the umask.
    fd = os.open(
        temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666
    )
    try:
        with os.fdopen(fd, "wb") as stream:
            for record in records:
                stream.write(encoder.encode(result_line(record)) + b"\n")
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class BatchStatus:
    """Where a batch stands: counts per state, the failed jobs with their errors, the rest."""

    counts: Mapping[str, int]
    failed: list[tuple[str, str | None]] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Every job."""
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        """Jobs whose video is rendered."""
        return self.counts.get(DONE, 0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the ``--json`` output of ``argil batch status``)."""
        return {
            "total": self.total,
            "counts": dict(self.counts),
            "failed": [{"key": key, "error": error} for key, error in self.failed],
            "pending": self.pending,
        }


def status_of(rows: Iterable[tuple[str, str, str | None]]) -> BatchStatus:
    """A BatchStatus from ``(key, state, error)`` rows."""
    counts: Counter[str] = Counter()
    failed, pending = [], []
    for key, state, error in rows:
        counts[state] += 1
        if state in (FAILED, TIMED_OUT):
            failed.append((key, error))
        elif state not in FINISHED:
            pending.append(key)
    ordered = {state: counts[state] for state in STATES if counts[state]}
    ordered.update((state, n) for state, n in counts.items() if state not in ordered)
    return BatchStatus(ordered, failed, pending)


def read_status(results: str | os.PathLike[str]) -> BatchStatus:
    """The status of a batch from its journal (live, even during a run), else its results file.

    Example: ``read_status("results.jsonl").counts`` gives ``{"DONE": 498, "FAILED": 2}``.
    """
    path = Path(results)
    journal_file = journal_path(path)
    if journal_file.exists():
        try:
            with Journal(journal_file, readonly=True) as journal:
                records = journal.records().values()
        except sqlite3.Error as exc:  # not a journal, or one whose first commit is under way
            raise InvalidRequestError(str(journal_file), f"cannot be read: {exc}") from None
        return status_of((r.key, r.state, r.error) for r in records if r.seq >= 0)
    if path.exists():
        return status_of(_results_rows(path))
    raise InvalidRequestError(str(path), "neither this results file nor its journal exists")


def _results_rows(path: Path) -> Iterable[tuple[str, str, str | None]]:
    decoder = msgspec.json.Decoder(dict[str, Any])
    for line in path.read_bytes().splitlines():
        if line.strip():
            row = decoder.decode(line)
            yield str(row.get("key")), str(row.get("status")), row.get("error")

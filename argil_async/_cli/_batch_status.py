"""``argil batch status RESULTS``: a summary, the failures, a merged CSV report.

By default a summary: counts by state and failures by cause (FAILED, CONTENT_MODERATED,
TIMED_OUT, error). ``--failed`` lists each failure with its job-file line, cause, video id
and error; ``--json`` prints everything as one document; ``--report report.csv`` writes one
row per job (the results merged with the journal's live state) for a spreadsheet.
Exit 0, or 2 when neither the journal nor the results file can be read.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import Any

from ..batch import JournalError, journal_path, read_status
from ..batch._journal import Journal
from ..batch._results import read_result_rows, result_line
from ..errors import ArgilError
from ._batch_coordinator import add_coordinator_arguments, coordinated_status
from ._session import print_json

__all__ = ["REPORT_COLUMNS", "add_status_command", "print_interrupted"]

REPORT_COLUMNS = (
    "key", "line", "status", "cause", "video_id", "video_status", "video_url", "error",
    "attempts", "started_at", "finished_at",
)  # fmt: skip


def add_status_command(status: argparse.ArgumentParser) -> None:
    """Arguments of ``argil batch status``."""
    status.add_argument("results", type=Path, help="the results file given to `run --out`")
    status.add_argument("--failed", action="store_true", help="list every failure")
    status.add_argument("--json", action="store_true", help="print JSON (failures included)")
    status.add_argument("--report", type=Path, metavar="CSV", help="write a CSV row per job")
    add_coordinator_arguments(status, run=False)
    status.set_defaults(handler=_status)


def _status(args: argparse.Namespace) -> int:
    try:
        coordinated = args.coordinator  # the whole batch, from Redis
        status = coordinated_status(args) if coordinated else read_status(args.results)
        if args.report is not None:
            rows = write_report(args.results, args.report)
            print(f"{args.report}: {rows} jobs", file=sys.stderr)
    except (ArgilError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print_json(status.to_dict())
        return 0
    print(status)
    if status.unfinished:
        print(f"unfinished: {len(status.unfinished)} (run the same command again to resume)")
    if args.failed:
        for failure in status.failures:
            video = failure.video_id or "-"
            print(f"line {failure.line}  {failure.key}  {failure.cause}  {video}  {failure.error}")
    elif status.failures:
        print("(--failed lists them)")
    return 0


def write_report(results: Path, report: Path) -> int:
    """Write the CSV report of a batch; return its number of jobs."""
    rows = _report_rows(results)
    with report.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, REPORT_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(_flat(row))
    return len(rows)


def _report_rows(results: Path) -> list[dict[str, Any]]:
    """The journal's rows (live) over the results file's (which may be older)."""
    merged: dict[str, dict[str, Any]] = dict(read_result_rows(results))
    path = journal_path(results)
    if path.exists():
        try:
            with Journal(path, readonly=True) as journal:
                batch = journal.batch
                for record in journal.records().values():
                    if record.seq >= 0:
                        merged[record.key] = result_line(record, batch)
        except Exception as exc:  # sqlite3.Error: the journal is damaged
            raise JournalError(str(path), f"cannot be read: {exc}") from None
    return sorted(merged.values(), key=lambda row: row.get("line") or 0)


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    timings = row.get("timings") or {}
    return {
        **row,
        "started_at": timings.get("started_at"),
        "finished_at": timings.get("finished_at"),
    }


def print_interrupted(results: Path) -> None:
    """After Ctrl-C: where the batch stands, and how to resume."""
    try:
        status = read_status(results)
    except (ArgilError, OSError):
        status = None
    if status is not None:
        print(status, file=sys.stderr)
    print("interrupted: run the same command again to resume", file=sys.stderr)

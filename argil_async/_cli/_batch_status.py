"""``argil batch status RESULTS``: a summary, the failures, a merged CSV report.

By default a summary: counts by state and failures by cause (FAILED, CONTENT_MODERATED,
TIMED_OUT, error). ``--failed`` lists each failure with its job-file line, cause, video id
and error; ``--json`` prints everything as one document; ``--report report.csv`` writes one
row per job (the results merged with the journal's live state) for a spreadsheet.

The exit code gates a pipeline (``argil batch status out.jsonl && publish``), whatever the
output: 0 every job DONE | 1 every job finished, some FAILED or TIMED_OUT | 2 neither the
journal nor the results file can be read | 3 some jobs are unfinished (run the batch again).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from ..batch import BatchStatus, JobResult, read_results, read_status
from ..errors import ArgilError
from ._batch_coordinator import add_coordinator_arguments, coordinated_status
from ._session import print_json

__all__ = ["REPORT_COLUMNS", "add_status_command", "print_interrupted", "status_exit_code"]

ALL_DONE, SOME_FAILED, UNREADABLE, UNFINISHED = 0, 1, 2, 3

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
        rows = None
        if args.coordinator:  # the whole batch, from Redis
            status, rows = coordinated_status(args)
        else:
            status = read_status(args.results)
        if args.report is not None:
            count = write_report(args.report, read_results(args.results) if rows is None else rows)
            print(f"{args.report}: {count} jobs", file=sys.stderr)
    except (ArgilError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        noted = args.results.with_name(args.results.name + ".coordinator")
        if not args.coordinator and noted.exists():  # a worker of a coordinated run wrote here
            print("(a coordinated batch: add --coordinator REDIS_URL to read it)", file=sys.stderr)
        return 2
    if args.json:
        print_json(status.to_dict())
        return status_exit_code(status)
    print(status)
    if status.unfinished:
        print(f"unfinished: {len(status.unfinished)} (run the same command again to resume)")
    if args.failed:
        for failure in status.failures:
            video = failure.video_id or "-"
            print(f"line {failure.line}  {failure.key}  {failure.cause}  {video}  {failure.error}")
    elif status.failures:
        print("(--failed lists them)")
    return status_exit_code(status)


def status_exit_code(status: BatchStatus) -> int:
    """0 all done, 1 all finished with failures, 3 some unfinished (see the module docstring)."""
    if status.unfinished:
        return UNFINISHED
    return SOME_FAILED if status.failed else ALL_DONE


def write_report(report: Path, rows: list[JobResult]) -> int:
    """Write the CSV report of a batch's rows; return its number of jobs."""
    with report.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, REPORT_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({name: _cell(value) for name, value in vars(row).items()})
    return len(rows)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """Text a spreadsheet would run as a formula (``=HYPERLINK(...)`` in a key or a server's
    error message) is written with a leading ``'``, which spreadsheets show as plain text."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def print_interrupted(results: Path) -> None:
    """After Ctrl-C: where the batch stands, and how to resume."""
    try:
        status = read_status(results)
    except (ArgilError, OSError):
        status = None
    if status is not None:
        print(status, file=sys.stderr)
    print("interrupted: run the same command again to resume", file=sys.stderr)

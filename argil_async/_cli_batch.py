"""``argil batch run JOBS --out RESULTS``, ``argil batch status RESULTS``, ``batch check JOBS``.

``run`` exits 0 when every job is DONE, 1 when any failed (or the run stopped early), 2 when
the job file is invalid (nothing was sent) or the journal belongs to another run, 130 when
interrupted (Ctrl-C, SIGTERM: run it again to resume). Progress goes to stderr (live with rich
on a terminal, else a log line every ``--progress-interval`` seconds), so stdout holds only the
summary: a sentence, or with ``--json`` one JSON document.

Without ``ARGIL_API_KEY`` the run uses the embedded simulator and adds to it the avatars,
voices, gestures, assets and subtitle styles the jobs name (so that any job file can be tried
offline). That simulator dies with the process, so a journal it left is started afresh.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._cli_common import Session, api_session, print_json
from .batch import (
    BatchOptions,
    CallbackServer,
    Job,
    JobFileError,
    journal_path,
    load_jobs,
    read_status,
    run_batch,
)
from .errors import ArgilError, InvalidRequestError

__all__ = ["add_batch_commands"]

EMBEDDED = "embedded-simulator"
_SIMULATOR_TIMINGS = {"render_audio_time": 0.5, "render_video_time": 1.0, "latency": 0.01}


def add_batch_commands(commands: Any) -> None:
    """Add ``batch run``, ``batch status`` and ``batch check`` to the ``argil`` parser."""
    batch = commands.add_parser("batch", help="render many videos from a job file, resumably")
    actions = batch.add_subparsers(dest="action", required=True)
    _add_run(actions.add_parser("run", help="create, render and wait for every job"))
    status = actions.add_parser("status", help="what is done, failed and pending")
    status.add_argument("results", type=Path, help="the results file given to `run --out`")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=_status)
    check = actions.add_parser("check", help="validate a job file without sending anything")
    check.add_argument("jobs", type=Path, help="a .jsonl or .csv job file")
    check.set_defaults(handler=_check)


def _add_run(run: argparse.ArgumentParser) -> None:
    run.add_argument("jobs", type=Path, help="a .jsonl or .csv job file")
    run.add_argument("--out", type=Path, required=True, help="the results file (JSONL)")
    run.add_argument("--concurrency", type=int, default=10, help="videos in flight (default 10)")
    run.add_argument("--poll", action="store_true", help="poll instead of using render callbacks")
    run.add_argument("--callback-host", help="serve the webhook receiver on this address")
    run.add_argument("--callback-port", type=int, default=0, help="... and port (default: any)")
    run.add_argument("--public-url", help="the https URL that reaches the receiver")
    run.add_argument("--timeout", type=float, default=3600.0, help="per render, seconds")
    run.add_argument("--poll-interval", type=float, default=5.0, help="first poll interval")
    run.add_argument("--retries", type=int, default=5, help="retries of transient failures")
    run.add_argument(
        "--progress", choices=("auto", "rich", "log", "off"), default="auto", help="display"
    )
    run.add_argument("--progress-interval", type=float, default=10.0, help="log line interval")
    run.add_argument("--json", action="store_true", help="print the summary as JSON")
    run.set_defaults(handler=_run)


def _check(args: argparse.Namespace) -> int:
    jobs = _load(args.jobs)
    if jobs is None:
        return 2
    print(f"{args.jobs}: {len(jobs)} valid jobs")
    return 0


def _load(path: Path) -> list[Job] | None:
    try:
        return load_jobs(path)
    except JobFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def _status(args: argparse.Namespace) -> int:
    try:
        status = read_status(args.results)
    except ArgilError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print_json(status.to_dict())
        return 0
    counts = ", ".join(f"{state} {count}" for state, count in status.counts.items())
    print(f"{status.total} jobs: {counts}")
    for key, error in status.failed:
        print(f"failed  {key}: {error}")
    for key in status.pending:
        print(f"pending {key}")
    return 0


def _run(args: argparse.Namespace) -> int:
    jobs = _load(args.jobs)  # validated before anything starts, simulator included
    if jobs is None:
        return 2
    if args.out.resolve() == args.jobs.resolve():
        print("error: --out names the job file; the results would overwrite it", file=sys.stderr)
        return 2
    _configure_logging()
    try:
        return asyncio.run(_run_async(args, jobs))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: run the same command again to resume", file=sys.stderr)
        return 130


async def _run_async(args: argparse.Namespace, jobs: list[Job]) -> int:
    with _cancel_on_sigterm():
        try:
            async with _session(args, jobs) as session:
                summary = await run_batch(
                    session.client,
                    jobs,
                    out=args.out,
                    concurrency=args.concurrency,
                    callback=_callback(args),
                    progress=args.progress,
                    options=_options(args, session),
                )
        except InvalidRequestError as exc:  # the job file, the journal, the flags
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except ArgilError as exc:
            print(f"error: {exc} (run the same command again to resume)", file=sys.stderr)
            return 1
    if args.json:
        print_json(summary.to_dict())
    else:
        print(summary)
    return 0 if summary.ok else 1


def _session(
    args: argparse.Namespace, jobs: list[Job]
) -> contextlib.AbstractAsyncContextManager[Session]:
    def prepare(sim: Any) -> None:
        from ._cli_simulated import adopt_job_resources  # imports the simulator: only offline

        adopt_job_resources(sim, jobs)
        _forget_embedded_journal(args.out)

    return api_session(
        json_output=args.json,
        notice_detail=" The avatars, voices and assets the jobs name are added to it.",
        simulator_config=_SIMULATOR_TIMINGS,
        prepare=prepare,
    )


def _callback(args: argparse.Namespace) -> Any:
    if args.poll:
        return "off"
    if args.callback_host or args.public_url:
        host = args.callback_host or "127.0.0.1"
        return CallbackServer(host, args.callback_port, args.public_url)
    return "auto"


def _options(args: argparse.Namespace, session: Session) -> BatchOptions:
    return BatchOptions(
        timeout=args.timeout,
        poll_interval=0.25 if session.simulator else args.poll_interval,
        retries=args.retries,
        progress_interval=args.progress_interval,
        endpoint=EMBEDDED if session.simulator else None,
    )


def _configure_logging() -> None:
    """Progress and retry lines on stderr; aiohttp's access log of the receiver stays quiet."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("argil_async").setLevel(logging.WARNING)
    logging.getLogger("argil_async.batch").setLevel(logging.INFO)


@contextlib.contextmanager
def _cancel_on_sigterm() -> Iterator[None]:
    """SIGTERM cancels the run like Ctrl-C does, so the results file is written on the way out."""
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGTERM, lambda: task and task.cancel())
    except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not the main thread
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


def _forget_embedded_journal(out: Path) -> None:
    """A journal left by an embedded-simulator run points at videos that died with it."""
    from .batch._journal import Journal

    path = journal_path(out)
    if not path.exists():
        return
    journal = Journal(path)
    try:
        embedded = journal.meta("endpoint") == EMBEDDED
    finally:
        journal.close()
    if embedded:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        print(f"(discarded {path}: it was left by an earlier simulated run)", file=sys.stderr)

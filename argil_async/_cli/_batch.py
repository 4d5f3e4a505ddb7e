"""``argil batch run|retry|status|check|estimate|download``: many videos from a job file.

Progress goes to stderr (live with rich on a terminal, else a log line every
``--progress-interval`` seconds), so stdout holds only the summary: a sentence, or with
``--json`` one JSON document. The exit codes and job-file columns are in ``BATCH_EPILOG``
(``argil batch --help``) and the README.

Without ``ARGIL_API_KEY`` a run uses the embedded simulator only when told (``--simulate``) or
when attached to a terminal, and says so on its first line; a cron job gets exit 2. The
simulator is given the avatars, voices, gestures, assets and subtitle styles the jobs name (so
that any job file can be tried offline); it dies with the process, so a journal it left is
started afresh.
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

from ..batch import (
    BatchMismatchError,
    BatchOptions,
    CallbackServer,
    Job,
    ResultsWriteError,
    batch_identity,
    check_run_options,
    forget_batch,
    run_batch,
)
from ..errors import ArgilError, InvalidRequestError, LocalStorageError
from ._batch_coordinator import add_coordinator_arguments, coordinator_from
from ._batch_status import add_status_command, print_interrupted
from ._batch_tools import (
    add_download_command,
    add_gate_flags,
    add_tool_commands,
    gate,
    load_job_file,
)
from ._session import EMBEDDED, NO_KEY_MESSAGE, Session, api_session, may_simulate, print_json

__all__ = ["BATCH_EPILOG", "add_batch_commands"]

_SIMULATOR_TIMINGS = {"render_audio_time": 0.5, "render_video_time": 1.0, "latency": 0.01}

BATCH_EPILOG = """\
job file: JSONL (one POST /videos body a line, plus a unique "key") or CSV with a header of
  key,name,avatarId,voiceId,transcript,audioUrl,gestureSlug,layout,brollAssetId,brollUrl,
  subtitles,subtitleStyleId,aspectRatio,model,musicAssetId,musicVolume,extras.<name>...
  (key, name and avatarId required; avatarId and voiceId may be names with `check --online`)

results file (JSONL, one line a job): key, status (DONE, FAILED, TIMED_OUT or an unfinished
  state), video_id, video_status, video_url, error, cause (FAILED, CONTENT_MODERATED,
  TIMED_OUT, error), line, attempts, batch, timings. Journal and lock: .argil-batch/ beside it.

exit codes: 0 every job DONE (or nothing wrong found) | 1 a job failed or timed out, the run
  stopped early (--max-failures), the API failed (run again to resume) or the results file
  could not be written | 2 nothing was sent: invalid job file or flags, a journal that cannot
  serve, no ARGIL_API_KEY (use --simulate), unknown names or references (check --online),
  estimate above --max-credits or declined |
  130 interrupted (Ctrl-C, SIGTERM: run the same command again to resume)
  `status`: 0 every job DONE | 1 all finished, some FAILED or TIMED_OUT | 2 unreadable |
  3 some jobs unfinished (run again to resume)
"""


def add_batch_commands(commands: Any) -> None:
    """Add ``batch run|retry|status|check|estimate|download`` to the ``argil`` parser."""
    batch = commands.add_parser(
        "batch",
        help="render many videos from a job file, resumably",
        epilog=BATCH_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = batch.add_subparsers(dest="action", required=True)
    _add_run(_sub(actions, "run", "create, render and wait for every job"), retry=False)
    _add_run(_sub(actions, "retry", "run the failed jobs of a results file again"), retry=True)
    add_status_command(_sub(actions, "status", "what is done, failed and unfinished"))
    add_tool_commands(
        _sub(actions, "check", "validate a job file (--online: against the API)"),
        _sub(actions, "estimate", "estimated credits, from the published prices"),
    )
    add_download_command(_sub(actions, "download", "fetch every finished video, resumably"))


def _sub(actions: Any, name: str, text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = actions.add_parser(
        name, help=text, epilog=BATCH_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    return parser


def _add_run(run: argparse.ArgumentParser, *, retry: bool) -> None:
    run.add_argument("jobs", type=Path, help="a .jsonl or .csv job file")
    run.add_argument("--out", type=Path, required=True, help="the results file (JSONL)")
    if not retry:
        run.add_argument(
            "--retry-failed", action="store_true", help="run FAILED jobs again (edits allowed)"
        )
    run.add_argument("--concurrency", type=int, default=10, help="videos in flight (default 10)")
    run.add_argument(
        "--max-failures", type=int, help="stop starting jobs after N failures in a row"
    )
    run.add_argument("--simulate", action="store_true", help="use the embedded simulator")
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
    add_coordinator_arguments(run, run=True)
    add_gate_flags(run)
    run.set_defaults(handler=_run, retry_failed=retry)


def _run(args: argparse.Namespace) -> int:
    jobs = load_job_file(args.jobs)  # validated before anything starts, simulator included
    if jobs is None:
        return 2
    if args.out.resolve() == args.jobs.resolve():
        print("error: --out names the job file; the results would overwrite it", file=sys.stderr)
        return 2
    if not _may_run(args):
        return 2
    _configure_logging()
    try:
        return asyncio.run(_run_async(args, jobs))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print_interrupted(args.out)
        return 130


def _may_run(args: argparse.Namespace) -> bool:
    """With no key, only ``--simulate`` or a terminal may use the simulator."""
    if may_simulate(args.simulate):
        return True
    print(NO_KEY_MESSAGE, file=sys.stderr)
    return False


async def _run_async(args: argparse.Namespace, jobs: list[Job]) -> int:
    with _cancel_on_sigterm():
        try:
            async with _session(args, jobs) as session:
                options = _options(args, session)
                _check_flags(args, session)  # before the gate's requests
                gated = await gate(session, args, jobs)
                if isinstance(gated, int):
                    return gated
                summary = await run_batch(
                    session.client,
                    gated,
                    out=args.out,
                    concurrency=args.concurrency,
                    callback=_callback(args),
                    progress=args.progress,
                    options=options,
                    retry_failed=args.retry_failed,
                    max_failures=args.max_failures,
                    coordinator=coordinator_from(args),
                )
        except ResultsWriteError as exc:  # every job went through; only the file is missing
            if exc.summary is not None:
                _print_summary(args, exc.summary)
            print(f"error: {exc}", file=sys.stderr)
            return 1
        except (InvalidRequestError, LocalStorageError, BatchMismatchError) as exc:  # unsent
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except ArgilError as exc:
            print(f"error: {exc} (run the same command again to resume)", file=sys.stderr)
            return 1
    _print_summary(args, summary)
    return 0 if summary.ok else 1


def _print_summary(args: argparse.Namespace, summary: Any) -> None:
    if args.json:
        print_json(summary.to_dict())
    else:
        print(summary)


def _session(
    args: argparse.Namespace, jobs: list[Job]
) -> contextlib.AbstractAsyncContextManager[Session]:
    def prepare(sim: Any) -> None:
        from ._simulated import adopt_job_resources  # imports the simulator: only offline

        adopt_job_resources(sim, jobs)
        _forget_embedded_batch(args.out)

    return api_session(
        json_output=args.json,
        notice_detail=" The avatars, voices and assets the jobs name are added to it.",
        simulator_config=_SIMULATOR_TIMINGS,
        prepare=prepare,
        simulate=args.simulate,
    )


def _check_flags(args: argparse.Namespace, session: Session) -> None:
    """InvalidRequestError for flags run_batch would refuse, before any request."""
    check_run_options(
        session.client, concurrency=args.concurrency, callback=_callback(args),
        progress=args.progress, max_failures=args.max_failures,
    )  # fmt: skip


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


def _forget_embedded_batch(out: Path) -> None:
    """A batch left by an embedded-simulator run points at videos that died with it."""
    identity = batch_identity(out)
    if identity is not None and identity.endpoint == EMBEDDED:
        forget_batch(out)
        print(f"(discarded {out}: it was left by an earlier simulated run)", file=sys.stderr)

"""``argil batch check [--online]``, ``estimate``, ``download``, and the gate before ``run``.

``check`` prints warnings (exit 0 still) for what Argil may refuse at render time although
the job is valid: transcripts over its current 500 characters, audio over 40 s when its length
is known (``--online`` measures each audio URL from its first bytes, WAV and MP3; and
``--audio-seconds FILE``, a JSON object of seconds by audio URL, gives lengths). ``estimate``
prints the total; ``--verbose`` (or ``--json``) each job too.

``download RESULTS --to DIR`` fetches every finished video (``--subtitled``: the subtitled
version; ``--subtitles vtt|ass``: the subtitles too), concurrently, atomically, named by job
key; run it again to resume. Exit 0, 1 when a download failed, 2 for a bad path, no key, or
a results file made on another endpoint (its videos live there: nothing is requested; an
``--simulate`` run's videos died with its simulator).

Before a run against the API, avatar and voice names are resolved to ids, and the estimated
cost of the jobs still to render is shown (stderr); on a terminal the run asks before
spending, ``--yes`` skips the question, and ``--max-credits N`` refuses a run estimated above
N credits (exit 2, nothing sent). The estimate is computed from Argil's published prices.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from .. import _validation as check
from ..batch import (
    CostEstimate,
    DownloadReport,
    Job,
    JobFileError,
    JobProblem,
    check_online,
    download_results,
    estimate_cost,
    job_warnings,
    load_jobs,
    remaining_jobs,
    resolve_names,
)
from ..errors import ArgilError, InvalidRequestError, LocalStorageError
from ._audio import audio_lengths
from ._session import (
    NO_KEY_MESSAGE,
    Session,
    api_session,
    on_terminal,
    print_json,
    print_table,
)

__all__ = [
    "add_download_command",
    "add_gate_flags",
    "add_tool_commands",
    "gate",
    "load_job_file",
    "on_terminal",
]


def add_tool_commands(check: argparse.ArgumentParser, estimate: argparse.ArgumentParser) -> None:
    """Arguments of ``batch check`` and ``batch estimate``."""
    for parser in (check, estimate):
        parser.add_argument("jobs", type=Path, help="a .jsonl or .csv job file")
        parser.add_argument("--online", action="store_true", help="look things up in the API")
        parser.add_argument("--simulate", action="store_true", help="use the embedded simulator")
        parser.add_argument("--json", action="store_true", help="print JSON")
    estimate.add_argument("--wpm", type=float, default=150.0, help="words per minute (150)")
    estimate.add_argument("--verbose", "-v", action="store_true", help="one row per job too")
    for parser in (check, estimate):
        parser.add_argument(
            "--audio-seconds",
            type=Path,
            help="a JSON file of {audio URL: seconds}: known audio lengths (warn above 40 s)",
        )
    check.set_defaults(handler=_check)
    estimate.set_defaults(handler=_estimate)


def add_download_command(download: argparse.ArgumentParser) -> None:
    """Arguments of ``batch download``."""
    download.add_argument("results", type=Path, help="the results file given to `run --out`")
    download.add_argument("--to", type=Path, required=True, help="the folder for the videos")
    download.add_argument("--subtitled", action="store_true", help="the subtitled versions")
    download.add_argument("--subtitles", choices=("vtt", "ass"), help="also the subtitles")
    download.add_argument("--concurrency", type=int, default=8, help="downloads at once (8)")
    download.add_argument("--simulate", action="store_true", help="use the embedded simulator")
    download.add_argument("--json", action="store_true", help="print JSON")
    download.set_defaults(handler=_download)


def _download(args: argparse.Namespace) -> int:
    if not (os.environ.get("ARGIL_API_KEY") or args.simulate):
        print(NO_KEY_MESSAGE, file=sys.stderr)
        return 2
    try:
        report = asyncio.run(_download_async(args))
    except (InvalidRequestError, LocalStorageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ArgilError as exc:
        print(f"error: {exc} (run it again: finished files are kept)", file=sys.stderr)
        return 1
    if args.json:
        print_json(report.to_dict())
    else:
        print(report)
        for key, error in report.failed.items():
            print(f"failed  {key}: {error}", file=sys.stderr)
    return 0 if report.ok else 1


async def _download_async(args: argparse.Namespace) -> DownloadReport:
    async with api_session(json_output=True, simulate=args.simulate) as session:
        return await download_results(
            session.client,
            args.results,
            args.to,
            subtitled=args.subtitled,
            subtitles=args.subtitles,
            concurrency=args.concurrency,
        )


def add_gate_flags(run: argparse.ArgumentParser) -> None:
    """``--yes``, ``--max-credits`` and ``--wpm`` of ``batch run``."""
    run.add_argument("--yes", action="store_true", help="do not ask before spending credits")
    run.add_argument("--max-credits", type=int, help="refuse a run estimated above N credits")
    run.add_argument("--wpm", type=float, default=150.0, help="speech rate of the estimate")


def load_job_file(path: Path) -> list[Job] | None:
    """The jobs of ``path``, or None once its faults are printed (the caller exits 2)."""
    try:
        return load_jobs(path)
    except JobFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def _audio_seconds(path: Path | None) -> dict[str, float] | None:
    """The ``--audio-seconds`` file: {audio URL: seconds}; InvalidRequestError if unreadable."""
    if path is None:
        return None
    try:
        lengths = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise check.fail(
            "audio_seconds", f"must be a readable JSON file ({exc})", str(path)
        ) from None
    if not isinstance(lengths, dict) or not all(
        isinstance(seconds, (int, float)) and not isinstance(seconds, bool)
        for seconds in lengths.values()
    ):
        raise check.fail("audio_seconds", "must hold {audio URL: seconds}", str(path))
    return {str(url): float(seconds) for url, seconds in lengths.items()}


def _problem_rows(problems: list[JobProblem]) -> list[dict[str, object]]:
    return [{"line": p.line, "field": p.field, "rule": p.rule} for p in problems]


def _print_warnings(warnings: list[JobProblem]) -> None:
    if warnings:
        print(f"{len(warnings)} warning(s) (valid, but Argil's current limits may refuse them):")
        for warning in warnings:
            print(f"  warning: {warning}")


def _check(args: argparse.Namespace) -> int:
    jobs = load_job_file(args.jobs)
    if jobs is None:
        return 2
    try:
        lengths = _audio_seconds(args.audio_seconds)
    except InvalidRequestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.online:
        warnings = job_warnings(jobs, audio_seconds=lengths)
        if args.json:
            report = {"jobs": len(jobs), "ok": True, "problems": []}
            print_json({**report, "warnings": _problem_rows(warnings)})
            return 0
        _print_warnings(warnings)
        print(f"{args.jobs}: {len(jobs)} valid jobs (offline; --online checks the references)")
        return 0
    return asyncio.run(_check_online(args, jobs, lengths))


async def _check_online(
    args: argparse.Namespace, jobs: list[Job], lengths: dict[str, float] | None
) -> int:
    try:
        async with api_session(json_output=args.json, simulate=args.simulate) as session:
            checked = await check_online(session.client, jobs)
            simulated = session.simulator is not None
    except ArgilError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    known = lengths or {}
    urls = [m.audio_url for job in checked.jobs for m in job.moments if m.audio_url]
    unknown = [url for url in urls if url not in known]
    # The embedded simulator's run is make-believe: its job file's audio is not fetched.
    measured = {} if simulated else await asyncio.to_thread(audio_lengths, unknown)
    warnings = job_warnings(checked.jobs, audio_seconds={**measured, **known})
    if args.json:
        problems = _problem_rows(checked.problems)
        print_json(
            {
                "jobs": len(jobs),
                "ok": checked.ok,
                "problems": problems,
                "warnings": _problem_rows(warnings),
            }
        )
        return 0 if checked.ok else 2
    _print_warnings(warnings)
    if checked.ok:
        print(f"{args.jobs}: {len(jobs)} valid jobs; every avatar, voice, gesture, asset and style")
        print("exists and can be used")
    else:
        print(f"{args.jobs}: {len(checked.problems)} problem(s), nothing was sent:")
        for problem in checked.problems:
            print(f"  {problem}")
    return 0 if checked.ok else 2


def _estimate(args: argparse.Namespace) -> int:
    jobs = load_job_file(args.jobs)
    if jobs is None:
        return 2
    royalty: set[str] | None = None
    if args.online:
        royalty = asyncio.run(_royalty_avatars(args))
    try:
        lengths = _audio_seconds(args.audio_seconds)
        estimate = estimate_cost(
            jobs, words_per_minute=args.wpm, royalty_avatars=royalty, audio_seconds=lengths
        )
    except ArgilError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print_json(estimate.to_dict())
        return 0
    if args.verbose:
        rows = [job.to_dict() for job in estimate.jobs]
        print_table(rows, ["line", "key", "seconds", "video", "voice", "royalty", "broll", "total"])
    minutes = sum(job.seconds for job in estimate.jobs) / 60
    print(
        f"total: about {estimate.total} credits for {len(estimate.jobs)} jobs "
        f"({minutes:.1f} min of video)"
    )
    print(estimate.assumptions())
    if not args.verbose:
        print("(--verbose lists each job, --json too)")
    return 0


async def _royalty_avatars(args: argparse.Namespace) -> set[str] | None:
    async with api_session(json_output=True, simulate=args.simulate) as session:
        return await _v1_public(session)


async def _v1_public(session: Session) -> set[str] | None:
    """Argil's public v1 avatars (those that pay the royalty), or None when unknown."""
    try:
        public = await session.client.avatars.list(visibility="public")
    except ArgilError:
        return None
    return {avatar.id for avatar in public if avatar.model == "ARGIL_V1"}


async def gate(session: Session, args: argparse.Namespace, jobs: list[Job]) -> list[Job] | int:
    """Jobs with names resolved, once the cost is accepted; else the exit code."""
    resolved = await resolve_names(session.client, jobs)
    if resolved.problems:
        count = len(resolved.problems)
        print(f"error: {count} name(s) not resolved, nothing was sent:", file=sys.stderr)
        for problem in resolved.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    if session.simulator is not None:
        return resolved.jobs  # nothing is paid
    remaining = remaining_jobs(resolved.jobs, args.out, retry_failed=args.retry_failed)
    royalty = await _v1_public(session)
    estimate = estimate_cost(remaining, words_per_minute=args.wpm, royalty_avatars=royalty)
    print(f"estimate: {estimate}", file=sys.stderr)
    if args.max_credits is not None and estimate.total > args.max_credits:
        print(
            f"error: about {estimate.total} credits is above --max-credits {args.max_credits}; "
            "nothing was sent",
            file=sys.stderr,
        )
        return 2
    if estimate.total > 0 and not args.yes and on_terminal() and not _confirm(estimate):
        print("nothing was sent", file=sys.stderr)
        return 2
    return resolved.jobs


def _confirm(estimate: CostEstimate) -> bool:
    try:
        answer = input(f"Spend about {estimate.total} credits? [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")

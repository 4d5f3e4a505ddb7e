"""What a batch run is told and what it reports, shared by the local and coordinated runs.

``run_batch`` (``_runner``) and ``run_coordinated`` (``_coordinated``) both import from here,
so neither has to import the other back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import _validation as check
from ._records import DONE, FAILED, TIMED_OUT, JobRecord

if TYPE_CHECKING:
    from ..events._receiver import WebhookReceiver

__all__ = [
    "BatchOptions",
    "BatchSummary",
    "Breaker",
    "CallbackServer",
    "JobCounts",
    "finished_count",
    "first_error",
    "serve_callbacks",
]


@dataclass(frozen=True)
class CallbackServer:
    """Where the run's webhook receiver listens, and the public URL that reaches it."""

    host: str = "127.0.0.1"
    port: int = 0
    public_url: str | None = None


@dataclass(frozen=True)
class BatchOptions:
    """Tuning that rarely needs changing (seconds unless said otherwise).

    ``timeout`` bounds each render's wait (an overdue job is TIMED_OUT, and the next run
    waits again); ``poll_interval`` is the first poll's interval when polling;
    ``check_interval`` how long a callback wait goes without a GET; ``retries`` and
    ``retry_wait`` the per-job retries of transient failures; ``endpoint`` the name of the
    API in the journal (default: the client's base URL).
    """

    timeout: float = 3600.0
    poll_interval: float = 5.0
    check_interval: float = 300.0
    retries: int = 5
    retry_wait: float = 1.0
    progress_interval: float = 10.0
    endpoint: str | None = None

    def __post_init__(self) -> None:
        # Checked before any request: a zero poll interval, say, would fail every job only
        # once its render was paid for.
        for name in ("timeout", "poll_interval", "check_interval", "progress_interval"):
            _check_number(name, getattr(self, name), "greater than 0", lambda v: v > 0)
        for name in ("retries", "retry_wait"):
            _check_number(name, getattr(self, name), "0 or more", lambda v: v >= 0)


def _check_number(name: str, value: object, rule: str, ok: Callable[[float], bool]) -> None:
    if not ok(check.number(name, value)):
        raise check.fail(name, f"must be {rule}", value)


class JobCounts:
    """``total``, ``done`` and ``failed``, read from ``counts`` (jobs per state).

    One definition for [`BatchSummary`][argil_async.batch.BatchSummary] (how a run ended) and
    [`BatchStatus`][argil_async.batch.BatchStatus] (where a batch stands), so the two can never
    disagree on what "failed" means: a count of the jobs that ended FAILED or TIMED_OUT.
    """

    counts: Mapping[str, int]

    @property
    def total(self) -> int:
        """Every job."""
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        """Jobs whose video is rendered."""
        return self.counts.get(DONE, 0)

    @property
    def failed(self) -> int:
        """Jobs that failed or timed out."""
        return self.counts.get(FAILED, 0) + self.counts.get(TIMED_OUT, 0)


@dataclass(frozen=True)
class BatchSummary(JobCounts):
    """How a run ended: job counts per final state, and where the files are."""

    counts: Mapping[str, int]
    finished_before: int
    elapsed: float
    results: Path
    journal: Path
    callbacks: bool
    stopped: str | None = None

    @property
    def ok(self) -> bool:
        """True when every job is DONE (and the run was not stopped early)."""
        return self.done == self.total and self.stopped is None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the ``--json`` output of ``argil batch run``)."""
        return {
            "total": self.total,
            "done": self.done,
            "failed": self.failed,
            "ok": self.ok,
            "counts": dict(self.counts),
            "finished_before": self.finished_before,
            "elapsed": round(self.elapsed, 3),
            "results": str(self.results),
            "journal": str(self.journal),
            "callbacks": self.callbacks,
            "stopped": self.stopped,
        }

    def __str__(self) -> str:
        skipped = f", {self.finished_before} finished earlier" if self.finished_before else ""
        text = (
            f"{self.total} jobs: {self.done} done, {self.failed} failed{skipped}, "
            f"in {self.elapsed:.1f} s; results in {self.results}"
        )
        return f"{text}\nstopped early: {self.stopped}" if self.stopped else text


@contextlib.asynccontextmanager
async def serve_callbacks(
    server: CallbackServer | None,
) -> AsyncIterator[tuple[WebhookReceiver | None, str | None]]:
    """The run's receiver and callback URL, or (None, None) to poll."""
    if server is None:
        yield None, None
        return
    from ..events._receiver import WebhookReceiver

    receiver = WebhookReceiver()
    async with receiver.serve(server.host, server.port, public_base_url=server.public_url) as url:
        try:
            yield receiver, url
        finally:
            await receiver.aclose()


async def first_error(coroutines: list[Awaitable[None]]) -> None:
    """Await all; on the first exception cancel the others and raise it as it is.

    (An anyio task group would wrap it in an ExceptionGroup, and ``except*`` needs 3.11.)
    """
    tasks = [asyncio.ensure_future(coroutine) for coroutine in coroutines]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            error = None if task.cancelled() else task.exception()
            if error is not None:
                raise error
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class Breaker:
    """Stops the run from starting jobs once ``limit`` jobs failed with no success between."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.streak = 0
        self.reason: str | None = None

    def record(self, state: str) -> None:
        """A job ended in ``state``."""
        if state == DONE:
            self.streak = 0
        elif state in (FAILED, TIMED_OUT):
            self.streak += 1
            if self.limit is not None and self.streak >= self.limit and self.reason is None:
                self.reason = (
                    f"{self.streak} jobs failed in a row (--max-failures {self.limit}); "
                    "jobs not started stay PENDING: fix the cause and run again"
                )


def finished_count(records: Iterable[JobRecord]) -> int:
    """Jobs already finished (DONE or FAILED) when a run or a worker starts."""
    return sum(record.state in (DONE, FAILED) for record in records)

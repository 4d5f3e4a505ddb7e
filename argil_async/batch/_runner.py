"""``run_batch``: every job created, rendered and awaited, ``concurrency`` at a time, resumably.

``concurrency`` workers take the unfinished jobs (those left mid-way by an earlier run first,
then the pending ones in file order) and drive each to its end, so at most ``concurrency``
videos are being created or rendered at once. Jobs finished by an earlier run are skipped.
The results file is rewritten from the journal when the run ends, however it ends (a crash
or SIGKILL leaves it to the next run, which resumes from the journal).

Callbacks (``callback=``): ``"auto"`` serves a
[`WebhookReceiver`][argil_async.events.WebhookReceiver] on loopback when the API itself is on
loopback (the simulator), and polls otherwise, since a loopback address cannot be reached from
Argil's servers; ``"off"`` always polls; a [`CallbackServer`][argil_async.batch.CallbackServer]
serves where you say, with ``public_url`` the https address that reaches it (a tunnel or reverse
proxy).
"""

from __future__ import annotations

import itertools
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

import anyio

from .. import _validation as check
from .._client import AsyncArgil
from .._urls import is_https_or_loopback, is_loopback_host
from ._driver import JobDriver, RetrySettings
from ._jobs import Job, check_jobs
from ._outcome import (
    BatchOptions,
    BatchSummary,
    Breaker,
    CallbackServer,
    finished_count,
    first_error,
    serve_callbacks,
)
from ._progress import Tracker, check_mode, show_progress
from ._records import CREATED, CREATING, DONE, FAILED, RENDER_SENT, RENDERING, TIMED_OUT, JobRecord
from ._results import ResultsWriteError, write_results
from ._sqlite._journal import Journal, JournalWriter
from ._sqlite._recovery import OpenedState, open_state, reconcile_batch
from ._waiting import Waiter, WaitSettings

if TYPE_CHECKING:
    from ._redis._coordinator import RedisCoordinator

__all__ = ["BatchOptions", "BatchSummary", "CallbackServer", "check_run_options", "run_batch"]

_RESUME = {RENDER_SENT: 0, TIMED_OUT: 0, RENDERING: 1, CREATED: 2, CREATING: 3}  # first to last


async def run_batch(
    client: AsyncArgil,
    jobs: Iterable[Job],
    *,
    out: str | os.PathLike[str],
    concurrency: int = 10,
    callback: Literal["auto", "off"] | CallbackServer = "auto",
    progress: Literal["auto", "rich", "log", "off"] = "auto",
    options: BatchOptions | None = None,
    retry_failed: bool = False,
    max_failures: int | None = None,
    coordinator: RedisCoordinator | None = None,
) -> BatchSummary:
    """Make one video per job; resumable from the journal beside ``out``. See the module doc.

    ``retry_failed`` runs the FAILED jobs of an earlier run again, once each, into the same
    results (a failed job may have been edited); ``max_failures`` stops starting jobs once
    that many have failed in a row (``summary.stopped`` says so). With a ``coordinator``
    this process is one worker of a batch shared through Redis, which replaces the SQLite
    journal (see [`RedisCoordinator`][argil_async.batch.RedisCoordinator]); there ``retry_failed``
    puts the failed jobs back when no worker is running the batch (so workers started together retry
    each once), and ``max_failures`` stops this worker, not the others.

    Example:

    ```python
    jobs = load_jobs("jobs.jsonl")
    async with AsyncArgil() as client:
        summary = await run_batch(client, jobs, out="results.jsonl", concurrency=20)
    print(summary)             # 500 jobs: 498 done, 2 failed, in 1520.3 s; results in ...
    ```
    """
    jobs = check_jobs(jobs)
    server = check_run_options(
        client, concurrency=concurrency, callback=callback, progress=progress,
        max_failures=max_failures,
    )  # fmt: skip
    options = options or BatchOptions()
    out_path = Path(out)
    if await anyio.Path(out_path).is_dir():  # else found when writing results, after every job
        raise check.fail("out", "must be a results file, not a directory", str(out_path))
    if coordinator is not None:
        from ._redis._coordinated import run_coordinated

        return await run_coordinated(
            client, jobs, out=out_path, concurrency=concurrency, server=server,
            progress=progress, options=options, coordinator=coordinator,
            retry_failed=retry_failed, max_failures=max_failures,
        )  # fmt: skip
    endpoint = options.endpoint or client.base_url
    opened = await anyio.to_thread.run_sync(
        lambda: open_state(out_path, jobs, endpoint, retry_failed=retry_failed)
    )
    journal = opened.journal
    summary: BatchSummary | None = None
    try:
        records = await reconcile_batch(client, opened, retry_failed=retry_failed)
        run = _Run(client, journal, options, records, max_failures)
        await run.execute(jobs, concurrency, server, progress)
        summary = run.summary(opened, callbacks=server is not None)
    finally:  # however the run ends, the results file reflects the journal (on-loop, once)
        try:
            _write(out_path, journal, summary)
        finally:
            journal.close()
    return summary


def _write(out: Path, journal: Journal, summary: BatchSummary | None) -> None:
    try:
        write_results(out, journal.current, journal.batch)  # streamed, in file order
    except ResultsWriteError as exc:
        exc.summary = summary
        raise


def check_run_options(
    client: AsyncArgil,
    *,
    concurrency: int = 10,
    callback: Literal["auto", "off"] | CallbackServer = "auto",
    progress: Literal["auto", "rich", "log", "off"] = "auto",
    max_failures: int | None = None,
) -> CallbackServer | None:
    """Refuse what [`run_batch()`][argil_async.batch.run_batch] would refuse, before anything is
    sent or spent.

    Checking first lets a script fail fast on a bad flag before the slower steps that
    precede a run (resolving names, estimating the cost, asking the operator). Returns where
    the run's webhook receiver would listen, or None when it would poll; raises
    [`InvalidRequestError`][argil_async.errors.InvalidRequestError] naming the bad argument.
    Example:

    ```python
    server = check_run_options(client, concurrency=20, callback="auto", progress="log")
    print("callbacks" if server else "polling")
    ```
    """
    # a sync Argil would fail only once requests are sent
    check.instance("client", client, AsyncArgil, "an AsyncArgil (batch runs are async)")
    check.integer("concurrency", concurrency, low=1)
    if max_failures is not None:
        check.integer("max_failures", max_failures, low=1)
    check_mode(progress)
    return _callback_server(client, callback)


def _callback_server(
    client: AsyncArgil, callback: Literal["auto", "off"] | CallbackServer
) -> CallbackServer | None:
    api_on_loopback = is_loopback_host(urlsplit(client.base_url).hostname)
    if callback == "off":
        return None
    if callback == "auto":
        return CallbackServer() if api_on_loopback else None
    check.instance("callback", callback, CallbackServer, "'auto', 'off' or a CallbackServer")
    if callback.public_url is None and not (api_on_loopback and is_loopback_host(callback.host)):
        raise check.fail("callback.public_url", "must be set: a URL that reaches the receiver")
    if callback.public_url is not None and not is_https_or_loopback(callback.public_url):
        check.url("callback.public_url", callback.public_url, https_only=True)  # Argil's rule
    return callback


class _Run:
    """One execution of a batch: the journal's records, the driver, the counts."""

    def __init__(
        self,
        client: AsyncArgil,
        journal: Journal,
        options: BatchOptions,
        records: dict[str, JobRecord],
        max_failures: int | None = None,
    ) -> None:
        self.client = client
        self.journal = journal
        self.options = options
        self.records = records  # taken out one by one as jobs start: only counts remain
        self.breaker = Breaker(max_failures)
        self.finished_before = finished_count(records.values())
        self.tracker = Tracker(Counter(record.state for record in records.values()))
        self.started = time.monotonic()

    async def execute(
        self, jobs: list[Job], concurrency: int, server: CallbackServer | None, progress: str
    ) -> None:
        """Drive every unfinished job; the journal holds the outcome."""
        writer = JournalWriter(self.journal)
        try:
            async with serve_callbacks(server) as (receiver, url):
                waiter = Waiter(self.client, self._wait_settings(), receiver, url)
                retry = RetrySettings(self.options.retries, self.options.retry_wait)
                driver = JobDriver(
                    self.client, writer, waiter, retry, self.tracker.move, self.journal.batch
                )
                async with show_progress(
                    self.tracker, progress, interval=self.options.progress_interval
                ):
                    await _workers(driver, self._todo(jobs), concurrency, self.breaker)
        finally:
            with anyio.CancelScope(shield=True):
                await writer.aclose()

    def _wait_settings(self) -> WaitSettings:
        options = self.options
        return WaitSettings(options.timeout, options.poll_interval, options.check_interval)

    def _todo(self, jobs: list[Job]) -> Iterator[tuple[Job, JobRecord]]:
        """Unfinished jobs, those left mid-way first (their renders already hold slots),
        then the pending ones in file order; each record is dropped from memory as its job
        starts (the driver keeps the running ones')."""
        records = self.records
        midway = [(job, records[job.key]) for job in jobs if records[job.key].state in _RESUME]
        midway.sort(key=lambda pair: _RESUME[pair[1].state])
        for job, _ in midway:
            del records[job.key]
        yield from midway
        for job in jobs:
            record = records.pop(job.key, None)
            if record is not None and record.state not in (DONE, FAILED):
                yield job, record

    def summary(self, opened: OpenedState, *, callbacks: bool) -> BatchSummary:
        """Counts from the journal once the run is over."""
        return BatchSummary(
            counts=self.journal.counts(),
            finished_before=self.finished_before,
            elapsed=time.monotonic() - self.started,
            results=opened.paths.results,
            journal=opened.paths.journal,
            callbacks=callbacks,
            stopped=self.breaker.reason,
        )


async def _workers(
    driver: JobDriver,
    todo: Iterator[tuple[Job, JobRecord]],
    concurrency: int,
    breaker: Breaker | None = None,
) -> None:
    """``concurrency`` tasks sharing one iterator of jobs; the first error cancels the rest.

    A task takes the next job only when its last one is finished, so jobs (and their
    records) are taken from the iterator as slots free up."""
    breaker = breaker or Breaker(None)
    first = next(todo, None)
    if first is None:
        return
    queue = itertools.chain([first], todo)

    async def work() -> None:
        for job, record in queue:
            if breaker.reason is not None:
                return
            breaker.record((await driver.drive(job, record)).state)

    await first_error([work() for _ in range(concurrency)])

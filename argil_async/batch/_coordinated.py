"""``run_batch(..., coordinator=RedisCoordinator(...))``: this process as one worker of a batch.

``concurrency`` tasks each claim a job, drive it with the same :class:`JobDriver` as a
single-machine run (its saves go to Redis, fenced by the claim), and claim the next; when
the queue is empty they wait for the jobs other workers hold, taking over any whose claim
expires, until every job of the batch is finished. Then the results file is written for the
whole batch, and ``<results>.coordinator`` names the batch for ``argil batch status``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, cast

import anyio

from .._client import AsyncArgil
from ._coordinator import (
    ClaimedWriter,
    ClaimLostError,
    Claims,
    RedisCoordinator,
    coordinator_file,
    finished_count,
)
from ._driver import JobDriver, RetrySettings
from ._jobs import Job
from ._journal import JobRecord, JournalWriter
from ._outcome import BatchOptions, BatchSummary, CallbackServer, first_error, serve_callbacks
from ._progress import Tracker, show_progress
from ._results import write_results
from ._waiting import Waiter, WaitSettings

__all__ = ["run_coordinated"]

logger = logging.getLogger("argil_async.batch")


async def run_coordinated(
    client: AsyncArgil,
    jobs: list[Job],
    *,
    out: Path,
    concurrency: int,
    server: CallbackServer | None,
    progress: Literal["auto", "rich", "log", "off"],
    options: BatchOptions,
    coordinator: RedisCoordinator,
) -> BatchSummary:
    """Work on the coordinated batch until every job is finished; see the module doc."""
    started = time.monotonic()
    batch_id, records = await coordinator.open(jobs, options.endpoint or client.base_url)
    await anyio.Path(coordinator_file(out)).write_text(f"{coordinator.batch}\n")
    worker = _Worker(client, coordinator, options, records, batch_id)
    try:
        await worker.run({job.key: job for job in jobs}, concurrency, server, progress)
    finally:
        with anyio.CancelScope(shield=True):
            await worker.claims.release_all()
            try:  # the whole batch as it stands, whoever did each job
                final = await coordinator.records()
                write_results(out, final.values(), batch_id)
            finally:
                await coordinator.aclose()
    return BatchSummary(
        counts=dict(Counter(record.state for record in final.values())),
        finished_before=finished_count(records.values()),
        elapsed=time.monotonic() - started,
        results=out,
        journal=coordinator_file(out),
        callbacks=server is not None,
    )


class _Worker:
    """This process's share of the batch: claims, the driver, the progress counts."""

    def __init__(
        self,
        client: AsyncArgil,
        coordinator: RedisCoordinator,
        options: BatchOptions,
        records: Mapping[str, JobRecord],
        batch_id: str,
    ) -> None:
        self.client = client
        self.coordinator = coordinator
        self.options = options
        self.batch_id = batch_id
        self.claims = Claims(coordinator)
        self.tracker = Tracker(Counter(record.state for record in records.values()))

    async def run(
        self,
        jobs: Mapping[str, Job],
        concurrency: int,
        server: CallbackServer | None,
        progress: Literal["auto", "rich", "log", "off"],
    ) -> None:
        """Drive claimed jobs with ``concurrency`` tasks until the batch is finished."""
        options = self.options
        async with serve_callbacks(server) as (receiver, url):
            settings = WaitSettings(options.timeout, options.poll_interval, options.check_interval)
            waiter = Waiter(self.client, settings, receiver, url)
            writer = cast(JournalWriter, ClaimedWriter(self.coordinator))
            retry = RetrySettings(options.retries, options.retry_wait)
            driver = JobDriver(
                self.client, writer, waiter, retry, self.tracker.move, self.batch_id,
                recheck=True,  # Redis may lose its last second of saves (appendfsync everysec)
            )  # fmt: skip
            renewer = asyncio.ensure_future(self.claims.renew_forever())
            try:
                async with show_progress(
                    self.tracker, progress, interval=options.progress_interval
                ):
                    await first_error([self._work(driver, jobs) for _ in range(concurrency)])
            finally:
                renewer.cancel()
                await asyncio.gather(renewer, return_exceptions=True)

    async def _work(self, driver: JobDriver, jobs: Mapping[str, Job]) -> None:
        while True:
            claimed_at = anyio.current_time()
            record, held, wait = await self.coordinator.claim()
            if record is None:
                if held == 0:
                    return  # every job of the batch is finished
                await anyio.sleep(min(max(wait, 0.05), 1.0))  # others' jobs may come back
                continue
            await self._drive(driver, jobs[record.key], record, claimed_at)

    async def _drive(
        self, driver: JobDriver, job: Job, record: JobRecord, claimed_at: float
    ) -> None:
        with self.claims.hold(job.key, claimed_at) as scope:
            try:
                await driver.drive(job, record)
            except ClaimLostError:
                logger.warning("job %s: taken over by another worker", job.key)
        self.claims.drop(job.key)
        if scope.cancelled_caught:
            logger.warning("job %s: claim not renewed in time; left to another worker", job.key)

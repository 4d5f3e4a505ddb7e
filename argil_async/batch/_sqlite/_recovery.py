"""Opening a batch's state for a run, and recovering it when the journal was damaged or lost.

A run starts from one of three situations, told apart before any request:

- the journal holds the batch: it resumes (a missing identity file is written again);
- nothing is known at this results path: a new batch, whose identity file is written and
  flushed to disk before the journal, and whose results file (every job PENDING, each line
  naming the batch) is written before anything is sent;
- the journal is missing, empty or was rolled back (its ``-wal`` deleted after a crash), or
  the whole state folder is gone, but the identity file or the results file names the
  batch: it is *recovered*.

Whenever the batch existed before this run, the videos carrying its batch id are listed
(``extras_filter`` on ``argilBatchId``, one paginated listing) and every job the journal
believes not yet created is matched by its ``argilJobKey``: its video is adopted, never made
again. A results file that names no batch (a v0.1 file, or one damaged beyond reading) with
no journal is refused: which videos exist could not be known, so nothing is sent.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from ..._client import AsyncArgil
from ...models import VIDEO_FAILED_STATUSES, Video
from .._jobs import BATCH_EXTRA, JOB_KEY_EXTRA, Job
from .._layout import (
    BatchIdentity,
    JournalError,
    StatePaths,
    check_writable,
    read_identity,
    state_paths,
    write_identity,
)
from .._records import CREATED, CREATING, DONE, FAILED, PENDING, RENDER_SENT, JobRecord
from .._results import as_text, read_result_rows, write_results
from ._journal import Journal

__all__ = ["OpenedState", "open_state", "reconcile_batch"]

logger = logging.getLogger("argil_async.batch")
_LIST_PAGE = 100


@dataclass
class OpenedState:
    """A journal ready for a run, and what must be reconciled before the first create."""

    journal: Journal
    records: dict[str, JobRecord]
    paths: StatePaths
    existed: bool = False
    restored: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def open_state(
    out: Path, jobs: Sequence[Job], endpoint: str, *, retry_failed: bool = False
) -> OpenedState:
    """Lock and open the batch's journal for ``jobs``; JournalError when it cannot serve."""
    paths = state_paths(out)
    check_writable(out.parent, "the results file")
    check_writable(paths.folder, "the batch's journal")
    journal = Journal(paths.journal, lock=paths.lock)
    try:
        return _adopt(journal, paths, jobs, endpoint, retry_failed)
    except BaseException:
        journal.close()
        raise


def _adopt(
    journal: Journal, paths: StatePaths, jobs: Sequence[Job], endpoint: str, retry: bool
) -> OpenedState:
    identity = read_identity(paths.identity)
    if journal.started:
        _check_same_batch(journal, paths, identity)
        records = journal.prepare(jobs, endpoint, retry_failed=retry)
        return OpenedState(journal, records, paths, existed=True)
    rows = read_result_rows(paths.results)
    known = identity or _identity_from_results(paths, rows, endpoint)
    if known is None:
        known = BatchIdentity(uuid.uuid4().hex, endpoint)
        write_identity(paths.identity, known)
        records = journal.prepare(jobs, endpoint, known.batch, retry_failed=retry)
        # The results file names the batch from the start (every line PENDING), so that a
        # crash followed by the loss of the whole state folder still leaves the id to recover by.
        write_results(paths.results, journal.current, known.batch)
        return OpenedState(journal, records, paths)
    if known.endpoint != endpoint:
        raise JournalError(
            str(paths.identity),
            f"the batch was made on {known.endpoint}, not {endpoint}: its videos live there; "
            "use another results path to start a new batch",
        )
    logger.warning(
        "batch %s: the journal %s was lost or emptied; recovering from the API by job key",
        known.batch,
        paths.journal,
    )
    if identity is None:
        write_identity(paths.identity, known)
    records = journal.prepare(jobs, endpoint, known.batch, retry_failed=retry)
    restored = {key: row for key, row in rows.items() if row.get("batch") == known.batch}
    return OpenedState(journal, records, paths, existed=True, restored=restored)


def _check_same_batch(journal: Journal, paths: StatePaths, identity: BatchIdentity | None) -> None:
    batch, endpoint = journal.batch, journal.meta("endpoint")
    if batch is None or endpoint is None:  # a v0.1 journal: no batch id to remember
        return
    if identity is None:
        write_identity(paths.identity, BatchIdentity(batch, endpoint))
    elif identity.batch != batch:
        raise JournalError(
            str(paths.journal),
            f"belongs to batch {batch} but {paths.identity} names batch {identity.batch}: "
            "the files of two batches were mixed; nothing was sent",
        )


def _identity_from_results(
    paths: StatePaths, rows: Mapping[str, Mapping[str, Any]], endpoint: str
) -> BatchIdentity | None:
    """The batch the results file names, when the journal and identity file are gone (the
    results do not name the API: the current one is assumed)."""
    if not paths.results.exists() or (not rows and paths.results.stat().st_size == 0):
        return None
    batches = {row.get("batch") for row in rows.values()} - {None}
    if len(batches) == 1:
        return BatchIdentity(str(batches.pop()), endpoint)
    raise JournalError(
        str(paths.results),
        "holds results but its journal is missing or empty, and no batch id is left to find "
        "its videos by: nothing was sent. Restore the journal "
        f"({paths.journal}), or choose another --out to start a new batch (new videos)",
    )


async def reconcile_batch(
    client: AsyncArgil, opened: OpenedState, *, retry_failed: bool = False
) -> dict[str, JobRecord]:
    """Adopt the videos the API holds for jobs the journal believes not yet created."""
    records = opened.records
    batch = opened.journal.batch
    open_keys = [k for k, r in records.items() if r.state in (PENDING, CREATING)]
    if not opened.existed or batch is None or not open_keys:
        return records
    videos = await _batch_videos(client, batch)
    changed = []
    for key in open_keys:
        row = opened.restored.get(key)
        new = reconciled(records[key], videos.get(key, []), row, retry_failed)
        if new != records[key]:
            changed.append(new)
    if changed:
        logger.info("batch %s: %d job(s) found made by an earlier run", batch, len(changed))
        await anyio.to_thread.run_sync(opened.journal.save, changed)
    records.update((record.key, record) for record in changed)  # in place: one copy in memory
    return records


async def _batch_videos(client: AsyncArgil, batch: str) -> dict[str, list[Video]]:
    """The batch's videos by job key, newest first."""
    found: dict[str, list[Video]] = {}
    listing = client.videos.list(extras_filter={BATCH_EXTRA: batch}, page_size=_LIST_PAGE)
    async for video in listing:
        key = (video.extras or {}).get(JOB_KEY_EXTRA)
        if isinstance(key, str):
            found.setdefault(key, []).append(video)
    return found


def reconciled(
    record: JobRecord,
    videos: Sequence[Video],
    row: Mapping[str, Any] | None,
    retry_failed: bool,
) -> JobRecord:
    """The record once what the API (and a surviving results line) says is taken in."""
    retired = set(record.retired_ids)
    if row is not None and row.get("status") == FAILED:
        if not retry_failed:
            return _from_row(record, row)
        if isinstance(row.get("video_id"), str):
            retired.add(row["video_id"])
    record = record.replaced(retired=",".join(sorted(retired)) or None)
    candidates = [video for video in videos if video.id not in retired]
    if candidates:
        return _adopted(record, min(enumerate(candidates), key=_rank)[1])
    if row is not None and row.get("status") == DONE and isinstance(row.get("video_id"), str):
        return _from_row(record, row)
    return record


def _rank(pair: tuple[int, Video]) -> tuple[int, int]:
    """Finished first, then under way, then IDLE, then failed; newest first among equals."""
    index, video = pair
    if video.status == "DONE":
        order = 0
    elif video.status in VIDEO_FAILED_STATUSES:
        order = 3
    else:
        order = 2 if video.status == "IDLE" else 1
    return order, index


def _adopted(record: JobRecord, video: Video) -> JobRecord:
    if video.status == "DONE":
        state, error = DONE, None
    elif video.status in VIDEO_FAILED_STATUSES:
        state, error = FAILED, f"GenerationFailedError: video {video.id} ended {video.status}"
    else:
        state, error = (CREATED if video.status == "IDLE" else RENDER_SENT), None
    finished = state in (DONE, FAILED)
    return record.moved(
        state=state,
        video_id=video.id,
        video_status=video.status,
        video_url=video.video_url if finished else None,
        error=error,
        finished_at=time.time() if finished else None,
    )


def _from_row(record: JobRecord, row: Mapping[str, Any]) -> JobRecord:
    """A finished outcome restored from the results file (its video may be gone)."""
    return record.moved(
        state=str(row["status"]),
        video_id=as_text(row.get("video_id")),
        video_status=as_text(row.get("video_status")),
        video_url=as_text(row.get("video_url")),
        error=as_text(row.get("error")),
    )

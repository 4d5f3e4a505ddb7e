"""A batch job's record and the stores that keep it: what both stores share.

A job moves through these states (an *intent* is saved before the request it announces):

```text
PENDING -> CREATING (intent) -> CREATED (video id) -> RENDERING (intent) -> RENDER_SENT
        -> DONE | FAILED | TIMED_OUT (the render's outcome was not learned in time: the
           wait's deadline passed or the API stayed unreachable; the next run waits again)
```

Each state change is a new `JobRecord`, saved to a `JobStore` before the
driver acts on it: the SQLite journal of a single-machine run (``_sqlite``:
``JournalWriter``) or the Redis of a coordinated one (``_redis``: ``ClaimedWriter``, fenced
by the worker's claim).
"""

from __future__ import annotations

import operator
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ._jobs import Job

__all__ = [
    "COLUMNS",
    "CREATED",
    "CREATING",
    "DONE",
    "FAILED",
    "FINISHED",
    "PENDING",
    "RENDERING",
    "RENDER_SENT",
    "STATES",
    "TIMED_OUT",
    "JobRecord",
    "JobStore",
    "as_row",
    "retried",
]

PENDING = "PENDING"
CREATING = "CREATING"
CREATED = "CREATED"
RENDERING = "RENDERING"
RENDER_SENT = "RENDER_SENT"
DONE = "DONE"
FAILED = "FAILED"
TIMED_OUT = "TIMED_OUT"
STATES = (PENDING, CREATING, CREATED, RENDERING, RENDER_SENT, DONE, FAILED, TIMED_OUT)
#: States a run does not take further: the job's outcome is known (or, TIMED_OUT, overdue).
FINISHED = frozenset({DONE, FAILED, TIMED_OUT})

COLUMNS = (
    "key", "seq", "line", "fingerprint", "state", "video_id", "video_status", "video_url",
    "error", "attempts", "started_at", "created_at", "render_sent_at", "finished_at",
    "updated_at", "retired",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class JobRecord:
    """A job's state in a batch: a row of the SQLite journal, a hash field in Redis; times
    are Unix timestamps."""

    key: str
    seq: int
    line: int
    fingerprint: str
    state: str = PENDING
    video_id: str | None = None
    video_status: str | None = None
    video_url: str | None = None
    error: str | None = None
    attempts: int = 0
    started_at: float | None = None
    created_at: float | None = None
    render_sent_at: float | None = None
    finished_at: float | None = None
    updated_at: float = 0.0
    retired: str | None = None

    @property
    def retired_ids(self) -> frozenset[str]:
        """Videos of earlier attempts that a retry replaced (never adopted again)."""
        return frozenset(self.retired.split(",")) if self.retired else frozenset()

    def moved(self, **changes: Any) -> JobRecord:
        """A copy with ``changes`` applied and ``updated_at`` set to now."""
        return self.replaced(**changes, updated_at=time.time())

    def replaced(self, **changes: Any) -> JobRecord:
        """A copy with ``changes`` applied (``dataclasses.replace``, without its cost)."""
        values = dict(zip(COLUMNS, as_row(self), strict=True))
        values.update(changes)
        return JobRecord(**values)


as_row = operator.attrgetter(*COLUMNS)  # a record as a tuple: a journal row


@runtime_checkable
class JobStore(Protocol):
    """Where a run saves its jobs' records: ``await save(record)`` returns once the record is
    durable (or raises: then the driver does not send the request the record announces), and
    ``aclose()`` waits for what is under way. The SQLite ``JournalWriter`` and the Redis
    ``ClaimedWriter`` implement it; ``JobDriver`` knows only this."""

    async def save(self, record: JobRecord) -> None:
        """Save ``record``; return once it would survive this process dying."""

    async def aclose(self) -> None:
        """Wait for saves under way; the store is not used afterwards."""


def retried(job: Job, seq: int, known: JobRecord) -> JobRecord:
    """A FAILED job's record back to PENDING for a retry, its earlier videos retired."""
    retired = sorted(known.retired_ids | ({known.video_id} if known.video_id else set()))
    return JobRecord(
        key=job.key,
        seq=seq,
        line=job.line,
        fingerprint=job.fingerprint(),
        attempts=known.attempts,
        retired=",".join(retired) or None,
    ).moved()

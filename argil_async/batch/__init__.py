"""Bulk video generation: a job file in, one rendered video per job out, exactly once.

```python
from argil_async import AsyncArgil
from argil_async.batch import load_jobs, run_batch

jobs = load_jobs("jobs.jsonl")            # the whole file is checked before any request
async with AsyncArgil() as client:
    summary = await run_batch(client, jobs, out="results.jsonl", concurrency=20)
print(summary)                            # 500 jobs: 500 done, 0 failed, in ...
```

Or from a shell: ``argil batch run jobs.jsonl --out results.jsonl --concurrency 20``, then
``argil batch status results.jsonl``.

**Job file.** JSONL, one job a line, in the API's camelCase (the ``POST /videos`` body plus a
unique ``key``):

```python
{"key": "cust-001", "name": "Welcome Ada", "moments": [{"avatarId": "...",
 "transcript": "Hi Ada!", "gestureSlug": "wave", "broll": {"url": "https://.../a.jpg"}}],
 "subtitles": true, "aspectRatio": "9:16", "backgroundMusic": {"assetId": "...",
 "volume": 0.2}, "extras": {"customer": "001"}}
```

or CSV, one single-moment job a row, with a header row of these columns (``key``, ``name``
and ``avatarId`` required, ``extras.<name>`` for each extra):

```python
key,name,avatarId,voiceId,transcript,audioUrl,gestureSlug,layout,brollAssetId,brollUrl,
subtitles,subtitleStyleId,aspectRatio,model,musicAssetId,musicVolume,extras.customer
```

See [`load_jobs()`][argil_async.batch.load_jobs] and [`Job`][argil_async.batch.Job] for the rules;
every fault is reported with its line number and field in one
[`JobFileError`][argil_async.batch.JobFileError], and then nothing is sent.

**Exactly once.** Each job's state lives in a SQLite journal in a hidden folder beside the
results file (``.argil-batch/results.jsonl.journal``), committed before every request that
creates something. Every video carries its job key in ``extras["argilJobKey"]`` and the
journal's batch id in ``extras["argilBatchId"]`` (so a job may set at most 8 extras of its
own), so a create that may or may not have landed (a crash, a dropped connection) is looked up
with ``extras_filter`` before it is sent again, never mistaking another batch's video for its
own; and the API itself refuses to render a video twice. Kill a run at any moment (SIGKILL
included) and run the same command again: finished jobs are skipped, the rest continue where
they were. A journal lost or damaged (deleted, emptied, its ``-wal`` removed) never starts a
second batch: the batch id is kept in ``.argil-batch/results.jsonl.batch`` and in the results,
and the next run adopts the batch's videos by job key before creating anything; what cannot be
recovered is refused with [`JournalError`][argil_async.batch.JournalError], nothing sent.

**Results.** ``results.jsonl`` holds one line per job (key, status, video id and URL, error,
timings), rewritten whole at the end of every run; [`read_status()`][argil_async.batch.read_status]
(counts, failures) and [`read_results()`][argil_async.batch.read_results] (one
[`JobResult`][argil_async.batch.JobResult] per job) read the journal during or after a run.
Everything ``argil batch`` does is built on this module's public names, so a script can do the same
(``examples/batch_operator.py``).
"""

from .._exports import rehome as _rehome
from ._estimate import CostEstimate as CostEstimate
from ._estimate import JobCost as JobCost
from ._estimate import estimate_cost as estimate_cost
from ._fetch import DownloadReport as DownloadReport
from ._fetch import download_results as download_results
from ._files import load_jobs as load_jobs
from ._jobs import BATCH_EXTRA as BATCH_EXTRA
from ._jobs import JOB_KEY_EXTRA as JOB_KEY_EXTRA
from ._jobs import Job as Job
from ._jobs import JobFileError as JobFileError
from ._jobs import JobProblem as JobProblem
from ._jobs import UploadBroll as UploadBroll
from ._layout import BatchIdentity as BatchIdentity
from ._layout import JournalError as JournalError
from ._layout import journal_path as journal_path
from ._online import OnlineCheck as OnlineCheck
from ._online import check_online as check_online
from ._online import job_warnings as job_warnings
from ._online import resolve_names as resolve_names
from ._outcome import BatchOptions as BatchOptions
from ._outcome import BatchSummary as BatchSummary
from ._outcome import CallbackServer as CallbackServer
from ._records import STATES as STATES
from ._redis._coordinator import BatchLostError as BatchLostError
from ._redis._coordinator import BatchMismatchError as BatchMismatchError
from ._redis._coordinator import ClaimLostError as ClaimLostError
from ._redis._coordinator import CoordinatorUnavailableError as CoordinatorUnavailableError
from ._redis._coordinator import RedisCoordinator as RedisCoordinator
from ._results import BatchStatus as BatchStatus
from ._results import JobFailure as JobFailure
from ._results import ResultsWriteError as ResultsWriteError
from ._results import read_status as read_status
from ._runner import check_run_options as check_run_options
from ._runner import run_batch as run_batch
from ._state import JobResult as JobResult
from ._state import batch_identity as batch_identity
from ._state import forget_batch as forget_batch
from ._state import read_results as read_results
from ._state import remaining_jobs as remaining_jobs

__all__ = [
    "BATCH_EXTRA",
    "JOB_KEY_EXTRA",
    "STATES",
    "BatchIdentity",
    "BatchLostError",
    "BatchMismatchError",
    "BatchOptions",
    "BatchStatus",
    "BatchSummary",
    "CallbackServer",
    "ClaimLostError",
    "CoordinatorUnavailableError",
    "CostEstimate",
    "DownloadReport",
    "Job",
    "JobCost",
    "JobFailure",
    "JobFileError",
    "JobProblem",
    "JobResult",
    "JournalError",
    "OnlineCheck",
    "RedisCoordinator",
    "ResultsWriteError",
    "UploadBroll",
    "batch_identity",
    "check_online",
    "check_run_options",
    "download_results",
    "estimate_cost",
    "forget_batch",
    "job_warnings",
    "journal_path",
    "load_jobs",
    "read_results",
    "read_status",
    "remaining_jobs",
    "resolve_names",
    "run_batch",
]

_rehome(__name__, globals())

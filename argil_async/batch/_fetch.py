"""Downloading a batch's finished videos: concurrent, resumable, atomic, named by job key.

Every DONE job's video goes to ``<dir>/<key>.mp4`` (``subtitled=True``: the subtitled
version), and with ``subtitles="vtt"`` or ``"ass"`` its subtitles to ``<key>.vtt``/``.ass``.
Each file is written under a temporary name and renamed once complete, so a file under its
final name is always whole: an interrupted download is simply run again, and files already
there are skipped. The video is fetched again first (one GET), since the URLs in a results
file may have expired. Keys that are not plain file names are made safe (other characters
become ``_``, and a short digest of the key keeps two keys apart); a plain key that looks like
such a name (``a_b-<10 hex digits>``), or that differs only in case from another key of the
batch (one file on macOS and Windows), gets a digest too, so two keys of a batch never share
a file. A folder that cannot be created is an
[`InvalidRequestError`][argil_async.errors.InvalidRequestError] (``to``), raised before anything is
requested; so is a batch made on another endpoint than the client's (``results``: its videos
live there, and every request here would come back 404).

Example:

```python
async with AsyncArgil() as client:
    report = await download_results(client, "results.jsonl", "videos/", concurrency=8)
print(report)              # 498 downloaded, 0 already there, 0 failed; in videos/
```
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import anyio

from .. import _validation as check
from .._client import AsyncArgil
from ..errors import ArgilError
from ._records import DONE
from ._state import batch_identity, result_lines

__all__ = ["DownloadReport", "download_results", "file_stem"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_DIGESTED = re.compile(r"-[0-9a-f]{10}$")  # the tail file_stem gives a key it rewrites


@dataclass
class DownloadReport:
    """What a download did: files written, files already there, failures by key."""

    folder: Path
    downloaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No download failed."""
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "folder": str(self.folder),
            "downloaded": len(self.downloaded),
            "skipped": len(self.skipped),
            "failed": dict(self.failed),
            "ok": self.ok,
        }

    def __str__(self) -> str:
        return (
            f"{len(self.downloaded)} downloaded, {len(self.skipped)} already there, "
            f"{len(self.failed)} failed; in {self.folder}"
        )


def file_stem(key: str, *, digest: bool = False) -> str:
    """A file name for a job key: the key itself when it is a plain name, else a safe form
    ending in a digest of the key (``digest=True``: that form for any key).

    One-to-one: a plain key never ends like a digest (such a key is given a digest of its
    own), so the two forms never meet, and two different keys never get the same safe form
    (but for a 40-bit digest collision, which
    [`download_results()`][argil_async.batch.download_results] refuses).
    """
    safe = _UNSAFE.sub("_", key)[:120]
    plain = safe == key and bool(key) and not key.startswith(".") and not _DIGESTED.search(key)
    if plain and not digest:
        return key
    hashed = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{safe.lstrip('.') or 'job'}-{hashed}"


def file_stems(keys: list[str]) -> dict[str, str]:
    """The file name of each key of a batch: `file_stem()`, with a digest for the keys
    whose names differ only in case (one file on a case-insensitive file system)."""
    stems = {key: file_stem(key) for key in keys}
    folded: dict[str, list[str]] = {}
    for key, stem in stems.items():
        folded.setdefault(stem.casefold(), []).append(key)
    for group in folded.values():
        if len(group) > 1:
            stems.update((key, file_stem(key, digest=True)) for key in group)
    return stems


async def download_results(
    client: AsyncArgil,
    results: str | os.PathLike[str],
    to: str | os.PathLike[str],
    *,
    subtitled: bool = False,
    subtitles: Literal["vtt", "ass"] | None = None,
    concurrency: int = 8,
) -> DownloadReport:
    """Download the video of every DONE job of a batch into ``to`` (see the module doc)."""
    check.choice("subtitles", subtitles, (None, "vtt", "ass"))
    check.integer("concurrency", concurrency, low=1)
    await anyio.to_thread.run_sync(_check_endpoint, Path(results), client.base_url)
    folder = Path(to)
    try:
        await anyio.to_thread.run_sync(lambda: folder.mkdir(parents=True, exist_ok=True))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        rule = f"must be a folder that can be created ({reason})"
        raise check.fail("to", rule, str(folder)) from None
    done = await anyio.to_thread.run_sync(_done_videos, Path(results))
    report = DownloadReport(folder)
    stems = file_stems([key for key, _ in done])
    shared = _shared_stems(stems)
    report.failed.update(shared)
    limit = asyncio.Semaphore(concurrency)

    async def fetch(key: str, video_id: str) -> None:
        async with limit:
            await _fetch_one(client, report, key, stems[key], video_id, subtitled, subtitles)

    await asyncio.gather(*(fetch(key, video_id) for key, video_id in done if key not in shared))
    return report


def _check_endpoint(results: Path, endpoint: str) -> None:
    """InvalidRequestError when the batch of ``results`` was made on another endpoint."""
    try:
        identity = batch_identity(results)
    except (ArgilError, OSError):
        return  # reading the results file below says what is wrong with it
    if identity is not None and identity.endpoint != endpoint:
        rule = f"was made on {identity.endpoint}, not {endpoint}: its videos live there"
        raise check.fail("results", f"the batch {rule}; nothing was requested")


def _shared_stems(stems: dict[str, str]) -> dict[str, str]:
    """The keys whose file name another key also has (a digest collision), as failures."""
    owners: dict[str, list[str]] = {}
    for key, stem in stems.items():
        owners.setdefault(stem.casefold(), []).append(key)
    return {
        key: f"its file name {stems[key]!r} is also key {other!r}'s: not downloaded"
        for group in owners.values()
        if len(group) > 1
        for key in group
        for other in group
        if other != key
    }


def _done_videos(results: Path) -> list[tuple[str, str]]:
    """``(key, video id)`` of every DONE job: the journal's view over the results file's."""
    return [
        (key, row["video_id"])
        for key, row in result_lines(results, dropped=True).items()
        if row.get("status") == DONE and isinstance(row.get("video_id"), str)
    ]


async def _fetch_one(
    client: AsyncArgil,
    report: DownloadReport,
    key: str,
    stem: str,
    video_id: str,
    subtitled: bool,
    subtitles: Literal["vtt", "ass"] | None,
) -> None:
    video_file = report.folder / f"{stem}.mp4"
    text_file = report.folder / f"{stem}.{subtitles}" if subtitles else None
    wanted = [path for path in (video_file, text_file) if path is not None]
    present = [await anyio.Path(path).exists() for path in wanted]
    if all(present):
        report.skipped.append(key)
        return
    try:
        if not present[0]:
            await client.videos.download(video_id, video_file, subtitled=subtitled)
        if text_file is not None and subtitles is not None:
            text = await client.subtitles.export(video_id, format=subtitles)
            await anyio.to_thread.run_sync(_write_text, text_file, text)
    except (ArgilError, OSError) as exc:
        report.failed[key] = f"{type(exc).__name__}: {exc}"
        return
    report.downloaded.append(key)


def _write_text(path: Path, text: str) -> None:
    from ._layout import atomic_write

    atomic_write(path, text.encode("utf-8"))

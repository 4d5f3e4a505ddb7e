"""Where a batch keeps its state: one hidden folder beside the results file.

For ``out/results.jsonl``:

```text
out/results.jsonl                           the results (the operator's file)
out/.argil-batch/results.jsonl.journal      the SQLite journal (+ -wal, -shm)
out/.argil-batch/results.jsonl.lock         held by the run using the journal
out/.argil-batch/results.jsonl.batch        the batch's identity (JSON, written once)
```

The identity file (batch id and API endpoint) is written and flushed to disk before the first
request of a new batch, and the batch id is also in every results line, so losing the journal
(deleted, emptied, its ``-wal`` removed after a crash) never starts a second batch: the next
run recovers by listing the videos that carry the batch id. A v0.1 batch keeps its journal
beside the results (``results.jsonl.journal``); it is read there, so it resumes as it was.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import msgspec

from ..errors import LocalStorageError

__all__ = [
    "STATE_DIR",
    "BatchIdentity",
    "JournalError",
    "StatePaths",
    "atomic_write",
    "check_writable",
    "journal_path",
    "read_identity",
    "state_paths",
    "write_identity",
]

STATE_DIR = ".argil-batch"


class JournalError(LocalStorageError):
    """The batch's state cannot serve this run: another run holds it, it was written against
    another API, jobs it started have been edited since, or its files are damaged or cannot
    be written. Raised before anything is sent.

    A [`LocalStorageError`][argil_async.errors.LocalStorageError], no longer an
    ``InvalidRequestError`` (nor a ``ValueError``); ``field`` names the file or batch, ``rule`` what
    is wrong.
    """

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")


@dataclass(frozen=True)
class StatePaths:
    """The files of the batch whose results file is ``results``."""

    results: Path
    journal: Path
    lock: Path
    identity: Path
    legacy: bool = False

    @property
    def folder(self) -> Path:
        """The hidden folder (it holds the identity file even for a v0.1 journal)."""
        return self.identity.parent

    def journal_files(self) -> list[Path]:
        """The journal and SQLite's companions."""
        return [Path(f"{self.journal}{suffix}") for suffix in ("", "-wal", "-shm")]


def state_paths(results: str | os.PathLike[str]) -> StatePaths:
    """The state files of a results file; a v0.1 journal beside it is kept where it is."""
    path = Path(results)
    folder = path.parent / STATE_DIR
    identity = folder / f"{path.name}.batch"
    legacy = path.with_name(path.name + ".journal")
    current = folder / f"{path.name}.journal"
    if legacy.exists() and not current.exists():
        return StatePaths(path, legacy, legacy.with_name(legacy.name + ".lock"), identity, True)
    return StatePaths(path, current, folder / f"{path.name}.lock", identity)


def journal_path(results: str | os.PathLike[str]) -> Path:
    """The journal of a results file: ``.argil-batch/results.jsonl.journal`` beside it."""
    return state_paths(results).journal


class BatchIdentity(msgspec.Struct, frozen=True):
    """What a batch is: the id its videos carry and the API they were made on."""

    batch: str
    endpoint: str


def read_identity(path: Path) -> BatchIdentity | None:
    """The identity file's content; None when absent, JournalError when unreadable."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise JournalError(str(path), f"cannot be read: {exc.strerror or exc}") from None
    try:
        return msgspec.json.decode(raw, type=BatchIdentity)
    except msgspec.DecodeError:
        raise JournalError(
            str(path), "is damaged (not a batch identity file); restore it or move it away"
        ) from None


def write_identity(path: Path, identity: BatchIdentity) -> None:
    """Write the identity file atomically and durably (before anything is created)."""
    atomic_write(path, msgspec.json.encode(identity) + b"\n")


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: a temporary file, fsync, rename, fsync of the folder."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(
        temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666
    )
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Flush a folder's entries (a rename) to disk where the platform allows it."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def check_writable(folder: Path, what: str) -> None:
    """JournalError unless a file can be created in ``folder`` (made if missing)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".argil-probe-{secrets.token_hex(6)}"
        probe.touch(exist_ok=False)
        probe.unlink()
    except OSError as exc:
        raise JournalError(
            str(folder),
            f"{what} cannot be written here ({exc.strerror or exc}); nothing was sent: "
            "make the folder writable or choose another --out",
        ) from None

"""Progress of a run: counts per state, rate and ETA, shown live or logged periodically.

``progress="auto"`` shows a live display with `rich <https://rich.readthedocs.io>`_ (the
optional extra ``argil-async[progress]``) on stderr when stderr is a terminal and rich imports
(stdout is left to results and ``--json`` output), and otherwise logs a line every
``interval`` seconds on the ``argil_async.batch`` logger:

```text
batch: 120/500 finished (118 done, 2 failed) | RENDER_SENT 40, PENDING 340 | 2.1 jobs/s ...
```

``"rich"`` and ``"log"`` force one of the two; ``"off"`` shows nothing. Rate and ETA count the
jobs finished by this run only, so a resumed run does not look faster than it is. While the
rich bar is shown, log handlers writing to its stream (retry warnings, the CLI's lines) print
above the bar instead of through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping
from typing import Any, Literal, TextIO

import anyio

from .. import _validation as check
from ._records import DONE, FAILED, FINISHED, STATES, TIMED_OUT

__all__ = ["ProgressMode", "Tracker", "check_mode", "show_progress"]

logger = logging.getLogger("argil_async.batch")

ProgressMode = Literal["auto", "rich", "log", "off"]
_MODES = ("auto", "rich", "log", "off")


class Tracker:
    """Live counts of jobs per journal state, fed by the runner as jobs move."""

    def __init__(self, states: Mapping[str, int]) -> None:
        self.counts: Counter[str] = Counter(states)
        self.total = sum(self.counts.values())
        self.started = time.monotonic()
        self._finished_now = 0  # by this run (a job TIMED_OUT before is waited for again)

    def move(self, old: str, new: str) -> None:
        """A job went from ``old`` to ``new``."""
        self.counts[old] -= 1
        self.counts[new] += 1
        if new in FINISHED and old not in FINISHED:
            self._finished_now += 1

    def replace(self, counts: Mapping[str, int]) -> None:
        """The counts as read elsewhere (a coordinated batch's, from Redis): jobs finished
        since the last counts (by any worker) count towards the rate."""
        before = self.finished
        self.counts = Counter(counts)
        self.total = sum(self.counts.values())
        self._finished_now += max(self.finished - before, 0)

    @property
    def finished(self) -> int:
        """Jobs in a finished state (DONE, FAILED, TIMED_OUT)."""
        return sum(self.counts[state] for state in FINISHED)

    def rate(self) -> float:
        """Jobs finished per second by this run."""
        elapsed = time.monotonic() - self.started
        return self._finished_now / elapsed if elapsed > 0 else 0.0

    def eta(self) -> float | None:
        """Seconds until every job is finished at the current rate (None before any)."""
        rate = self.rate()
        return (self.total - self.finished) / rate if rate > 0 else None

    def states_text(self) -> str:
        """``RENDER_SENT 40, PENDING 340``: the unfinished states with jobs in them."""
        live = [(s, self.counts[s]) for s in STATES if s not in FINISHED and self.counts[s] > 0]
        return ", ".join(f"{state} {count}" for state, count in live) or "nothing left"

    def outcome_text(self) -> str:
        """``118 done, 2 failed`` (timed-out jobs count as failed here)."""
        failed = self.counts[FAILED] + self.counts[TIMED_OUT]
        return f"{self.counts[DONE]} done, {failed} failed"

    def speed_text(self) -> str:
        """``2.10 jobs/s | ETA 3m01s``."""
        eta = self.eta()
        return f"{self.rate():.2f} jobs/s | ETA {_duration(eta) if eta is not None else '--'}"

    def line(self) -> str:
        """One plain progress line."""
        return (
            f"batch: {self.finished}/{self.total} finished ({self.outcome_text()}) | "
            f"{self.states_text()} | {self.speed_text()}"
        )


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


@contextlib.asynccontextmanager
async def show_progress(
    tracker: Tracker, mode: str = "auto", *, stream: TextIO | None = None, interval: float = 10.0
) -> AsyncIterator[None]:
    """Display ``tracker`` while the block runs, as ``mode`` says (see the module docstring)."""
    check_mode(mode)
    stream = stream if stream is not None else sys.stderr
    if mode == "auto":
        mode = "rich" if _isatty(stream) and _rich_available() else "log"
    if mode == "off":
        yield
    elif mode == "rich":
        async with _rich_display(tracker, stream):
            yield
    else:
        async with _log_lines(tracker, interval):
            yield


def check_mode(mode: str) -> None:
    """Raise InvalidRequestError unless ``mode`` is a progress mode that can be shown."""
    check.choice("progress", mode, _MODES)
    if mode == "rich" and not _rich_available():  # else an ImportError once the run started
        raise check.fail("progress", "can be 'rich' only with rich: argil-async[progress]")


def _isatty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _rich_available() -> bool:
    try:
        import rich.progress  # noqa: F401
    except ImportError:
        return False
    return True


@contextlib.asynccontextmanager
async def _log_lines(tracker: Tracker, interval: float) -> AsyncIterator[None]:
    async def tick() -> None:
        while True:
            await anyio.sleep(interval)
            logger.info("%s", tracker.line())

    async with _running(tick):
        yield
    logger.info("%s", tracker.line())


@contextlib.asynccontextmanager
async def _rich_display(tracker: Tracker, stream: TextIO) -> AsyncIterator[None]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    display = Progress(
        TextColumn("[bold]batch"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[outcome]} | {task.fields[states]} | {task.fields[speed]}"),
        console=Console(file=stream),
        transient=True,  # the last frame is cleared; the summary follows it
    )

    def fields() -> dict[str, Any]:
        return {
            "completed": tracker.finished,
            "outcome": tracker.outcome_text(),
            "states": tracker.states_text(),
            "speed": tracker.speed_text(),
        }

    async def refresh() -> None:
        while True:
            display.update(task, **fields())
            await anyio.sleep(0.25)

    with display, _logs_above(display.console, stream):
        task = display.add_task("batch", total=tracker.total, **fields())
        async with _running(refresh):
            yield
        display.update(task, **fields())


@contextlib.contextmanager
def _logs_above(console: Any, stream: TextIO) -> Iterator[None]:
    """Point the stream handlers that write to ``stream`` (on the batch logger and its
    ancestors: the CLI's, an application's, ARGIL_LOG's) at the live console for the block,
    so that each record prints as whole lines above the bar; put them back afterwards."""
    from rich.file_proxy import FileProxy

    proxy = FileProxy(console, stream)
    swapped: list[logging.StreamHandler[Any]] = []
    current: logging.Logger | None = logger
    while current is not None:
        swapped += [
            handler
            for handler in current.handlers
            if isinstance(handler, logging.StreamHandler) and handler.stream is stream
        ]
        current = current.parent if current.propagate else None
    for handler in swapped:
        handler.setStream(proxy)
    try:
        yield
    finally:
        for handler in swapped:
            handler.setStream(stream)
        proxy.flush()


@contextlib.asynccontextmanager
async def _running(loop: Callable[[], Coroutine[Any, Any, None]]) -> AsyncIterator[None]:
    """Run ``loop`` in a task while the block runs (not a task group: the block's own
    exceptions must come out as they are, not wrapped in an exception group)."""
    task = asyncio.get_running_loop().create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

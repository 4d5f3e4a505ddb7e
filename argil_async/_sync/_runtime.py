"""The hand-written half of the sync facade: one event-loop thread per ``Argil``, and ``Paginator``.

The generated classes in ``_sync/`` are thin: each method is
``self._runtime.call(lambda client: client.videos.get(id))``. This module owns the rest:

- an anyio blocking portal (a daemon thread running an asyncio loop), started on first use;
  the ``AsyncArgil`` and its aiohttp session are built on that loop, so they belong to it;
- each call hands one coroutine to that loop and waits (see ``_Call``); an exception in the
  caller while it waits (Ctrl-C included) cancels the task on the loop; many threads may
  share one client; a thread with a running loop of its own (Jupyter) is warned once that it
  blocks that loop;
- ``close()`` and a ``weakref.finalize`` safety net close the session on its own loop, then stop
  the loop and join the thread; a forked child starts a fresh loop of its own.

Callbacks passed to the client (``videos.download(progress=...)``) run on the loop thread; calling
the client from there would deadlock, so it raises instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import os
import select
import selectors
import sys
import threading
import warnings
import weakref
from asyncio import _get_running_loop
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from contextlib import AbstractContextManager
from threading import get_ident
from typing import Any, Generic, TypeVar

from anyio.from_thread import BlockingPortal, start_blocking_portal

from .._client import AsyncArgil
from .._config import ClientConfig
from .._pagination import AsyncPaginator, Page, check_limit

__all__ = ["PORTAL_THREAD_NAME", "Paginator", "SyncRuntime"]

T = TypeVar("T")
PORTAL_THREAD_NAME = "argil-sync-loop"
# Each call's task is named: on Python 3.10 and 3.11 an unnamed task formats "Task-<n>".
_TASK_NAME = "argil-sync-call"
_Task = asyncio.Task
_allocate_lock = threading.Lock


class _Loop:
    """A running portal, its asyncio loop, the AsyncArgil living on it, and the calls in flight."""

    __slots__ = (
        "client", "closing", "event_loop", "manager", "pid", "portal", "tasks", "thread_id", "wake"
    )  # fmt: skip

    def __init__(self, config: ClientConfig) -> None:
        self.pid = os.getpid()
        self.closing = False
        self.tasks: set[asyncio.Task[Any]] = set()
        self.manager: AbstractContextManager[BlockingPortal] = start_blocking_portal(
            "asyncio", name=PORTAL_THREAD_NAME
        )
        self.portal = self.manager.__enter__()
        try:
            built = self.portal.call(_build_on_loop, config)
        except BaseException:
            self.manager.__exit__(None, None, None)
            raise
        self.client, self.event_loop, self.thread_id, self.wake = built

    async def aclose(self) -> None:
        """On the loop: cancel the calls still in flight, then close the session."""
        self.closing = True  # calls reaching the loop from now on are refused (see _Call._start)
        tasks = list(self.tasks)  # (a copy: calls' tasks add themselves as they start)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.client.aclose()


def _direct_wake(loop: asyncio.AbstractEventLoop) -> Callable[[], None] | None:
    """How a caller's thread wakes ``loop`` after making a call's task there, or None.

    Run on the loop's thread. asyncio's own loops schedule a new task's first step with
    ``call_soon``, which outside debug mode only appends to the loop's ready queue, as
    ``call_soon_threadsafe`` does before it wakes the loop. Making the task in the caller's
    thread and then waking the loop saves a callback that would make it on the loop and a turn
    of the loop. The wake-up is an eventfd of our own where there is one (Linux: one C call
    by the caller; with an epoll selector it is registered edge-triggered, so the loop neither
    reads it nor runs a callback for it, where the loop's self-pipe reads until a
    BlockingIOError), else the loop's own ``_write_to_self``. Other loops (uvloop), debug mode
    (which checks the thread), Python 3.14 (tasks listed per thread) and free-threaded builds
    (3.13t: no GIL makes the ready queue's append and the task registration atomic) get a
    ``call_soon_threadsafe`` per call instead (None), asyncio's supported way. The eventfd
    closes when the last holder of the returned wake-up lets it go: a call that still holds it
    can never write to a closed (or reused) descriptor.

    This leans on asyncio's internals (a task made outside its loop's thread is unsupported);
    it is kept because it saves about a third of the instructions the sync facade adds per
    call (``benchmarks/bench_sync_instructions.py``), and tests/sync runs both ways.
    """
    wake = getattr(loop, "_write_to_self", None)
    usable = isinstance(loop, asyncio.BaseEventLoop) and not loop.get_debug()
    if not (usable and callable(wake) and sys.version_info < (3, 14)) or _free_threaded():
        return None
    if not hasattr(os, "eventfd") or not isinstance(loop, asyncio.SelectorEventLoop):
        return wake  # type: ignore[no-any-return]
    fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
    selector = getattr(loop, "_selector", None)
    if isinstance(selector, selectors.EpollSelector):
        # Edge-triggered and outside the selector's map: each write makes the loop's next
        # epoll return (an unknown descriptor, no callback to run), and nothing ever reads it
        # (its 64-bit count of wake-ups cannot fill up).
        epoll = selector._selector  # type: ignore[attr-defined]
        epoll.register(fd, select.EPOLLIN | select.EPOLLET)
    else:
        loop.add_reader(fd, os.eventfd_read, fd)  # readable only when written: never blocks
    own = functools.partial(os.eventfd_write, fd, 1)
    weakref.finalize(own, os.close, fd)
    return own


def _free_threaded() -> bool:
    """Whether this CPython was built without the GIL, or runs with it switched off."""
    import sysconfig  # (only here: once per loop, not at import)

    gil_enabled = getattr(sys, "_is_gil_enabled", None)
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED")) or (
        gil_enabled is not None and not gil_enabled()
    )


def _build_on_loop(
    config: ClientConfig,
) -> tuple[AsyncArgil, asyncio.AbstractEventLoop, int, Callable[[], None] | None]:
    loop = asyncio.get_running_loop()
    client = AsyncArgil._from_config(config)
    return client, loop, threading.get_ident(), _direct_wake(loop)


class _Call(Generic[T]):
    """One call crossing to the loop: a task there, a lock the caller waits on here.

    Calls go straight to the portal's asyncio loop: the task is made in the caller's thread and
    the loop woken (see ``_direct_wake``), or else one ``call_soon_threadsafe`` makes it there;
    the task hands its outcome back by releasing a plain lock. anyio's ``start_task_soon``
    waits for a second hand-off per call and a Future adds its own, which the 75 us budget of a
    call cannot afford. The caller's half is ``SyncRuntime.call``, inline, which fills the slots
    itself (no ``__init__``): one Python frame per call on the caller's side.
    """

    __slots__ = ("abandoned", "done", "error", "finished", "fn", "loop", "result", "task")

    abandoned: bool
    done: threading.Lock
    error: BaseException | None
    finished: bool
    fn: Callable[[AsyncArgil], Awaitable[T]]
    loop: _Loop
    result: T
    task: asyncio.Task[None] | None

    def _start(self) -> None:
        if self.abandoned:
            return
        if self.loop.closing:  # it must not reopen the session that is being closed
            self.error, self.finished = _closed_error(), True
            self.done.release()
            return
        self.task = self.loop.event_loop.create_task(self._run(), name=_TASK_NAME)

    def _unmake(self, run: Coroutine[Any, Any, None]) -> None:
        """Undo a task that failed to be made here (a Ctrl-C while asyncio.Task ran).

        Its first step may be queued on the loop already: marked abandoned, ``_run`` returns
        at once there (no "Task exception was never retrieved" from a closed coroutine). One
        never queued is closed on the loop after that point, as it never started (no "never
        awaited" warning); on a closed loop, here.
        """
        self.abandoned = True
        try:
            self.loop.event_loop.call_soon_threadsafe(_close_unstarted, run)
        except RuntimeError:
            run.close()

    async def _run(self) -> None:
        task = self.task
        if task is None:  # made in the caller's thread, which has not stored it yet
            task = self.task = asyncio.current_task()
        if self.abandoned:  # its caller gave up while making this task (see _unmake)
            return
        if self.loop.closing:  # it must not reopen the session that is being closed
            self.error, self.finished = _closed_error(), True
            self.done.release()
            return
        self.loop.tasks.add(task)  # type: ignore[arg-type]
        try:
            self.result = await self.fn(self.loop.client)
        except asyncio.CancelledError:
            self.error = _closed_error()
            raise
        except BaseException as exc:
            self.error = exc
        finally:
            self.loop.tasks.discard(task)
            self.finished = True
            self.done.release()

    def _cancel(self) -> None:
        self.abandoned = True
        if self.task is not None:
            self.task.cancel()


def _close_unstarted(coro: Coroutine[Any, Any, None]) -> None:
    if inspect.getcoroutinestate(coro) == inspect.CORO_CREATED:
        coro.close()


def _closed_error() -> RuntimeError:
    return RuntimeError("the sync Argil client was closed while this call ran")


def _shutdown(loop: _Loop) -> None:
    """Close the session on its own loop, then stop the loop and join its thread."""
    if loop.pid != os.getpid():
        return  # a forked child: that thread does not exist here
    if threading.get_ident() == loop.thread_id:
        # The last reference died on the loop thread, which cannot join itself.
        threading.Thread(target=_shutdown, args=(loop,), name="argil-sync-close").start()
        return
    try:
        loop.portal.call(loop.aclose)
    finally:
        loop.manager.__exit__(None, None, None)


class SyncRuntime:
    """Runs ``AsyncArgil`` calls on a private event-loop thread for the sync ``Argil``."""

    def __init__(self, config: ClientConfig) -> None:
        # Resolved (arguments checked, environment read) in the caller's thread, once.
        self.config = config
        # Re-entrant: close() from a signal handler may interrupt this thread while it holds it.
        self._lock = threading.RLock()
        self._loop: _Loop | None = None
        self._finalizer: weakref.finalize[[_Loop], SyncRuntime] | None = None
        self._warned = False
        _RUNTIMES.add(self)

    def call(self, fn: Callable[[AsyncArgil], Awaitable[T]]) -> T:
        """Run ``fn(async_client)`` on the loop and wait; an exception here cancels it there."""
        loop = self._loop
        # The checks of _started, inline for the common case: a loop running, called from a
        # thread that is not the loop's own and has no running loop (or was warned already).
        if (
            loop is None
            or get_ident() == loop.thread_id
            or not (self._warned or _get_running_loop() is None)
        ):
            loop = self._started()
        # The hand-off, inline (one Python frame per call): see _Call.
        call: _Call[T] = _Call()
        call.loop, call.fn = loop, fn
        call.abandoned = call.finished = False
        call.task = call.error = None
        done = call.done = _allocate_lock()
        done.acquire()
        try:
            wake = loop.wake
            try:
                if wake is None:
                    loop.event_loop.call_soon_threadsafe(call._start)
                else:  # the task is made here, its first step queued on the loop (_direct_wake)
                    run = call._run()
                    try:
                        call.task = _Task(run, loop=loop.event_loop, name=_TASK_NAME)
                    except BaseException:
                        call._unmake(run)
                        raise
                    wake()
            except RuntimeError:  # that loop closed after this call picked it
                raise _closed_error() from None
            while not done.acquire(True, 1.0):
                if loop.event_loop.is_closed():  # closed before our callback could run
                    raise _closed_error()
        except BaseException:
            # The caller gave up (Ctrl-C, a signal handler), maybe even before the submission
            # returned: cancel the task (or make it never start), unless it has finished.
            if not call.finished:
                with contextlib.suppress(RuntimeError):  # a closed loop has nothing to cancel
                    loop.event_loop.call_soon_threadsafe(call._cancel)
            raise
        error: BaseException | None = call.error  # (set on the loop: mypy saw it None here)
        if error is not None:
            call.error = None
            raise error
        return call.result

    def paginate(self, make: Callable[[AsyncArgil], AsyncPaginator[T]]) -> Paginator[T]:
        """A Paginator over what ``make(client)`` lists; its arguments are checked now.

        ``make`` runs once here, in the caller's thread, on a client with resources and
        nothing else (no configuration, session or limiter), only for its argument checks;
        each iteration makes its own AsyncPaginator on the client of the loop running then.
        """
        make(_UNSENT)
        return Paginator(self, make)

    def derive(self, config: ClientConfig) -> SyncRuntime:
        """A runtime on the same loop thread whose calls go to a client on ``config``.

        This is ``Argil.with_options``: the copy shares the loop, the session and the limiter.
        """
        return _DerivedRuntime(self, config)

    def close(self) -> None:
        """Close the session and stop the loop thread; a later call starts a fresh one."""
        loop = self._loop
        if loop is not None:
            self._check_thread(loop)
        with self._lock:
            finalizer, self._finalizer, self._loop = self._finalizer, None, None
        if finalizer is not None:
            finalizer()

    @property
    def thread(self) -> threading.Thread | None:
        """The loop thread while one runs (for tests and diagnostics)."""
        loop = self._loop
        if loop is None:
            return None
        return next((t for t in threading.enumerate() if t.ident == loop.thread_id), None)

    def _started(self) -> _Loop:
        loop = self._loop
        if loop is None:
            with self._lock:
                loop = self._loop
                if loop is None:
                    loop = self._loop = _Loop(self.config)
                    self._finalizer = weakref.finalize(self, _shutdown, loop)
        self._check_thread(loop)
        return loop

    def _check_thread(self, loop: _Loop) -> None:
        if threading.get_ident() == loop.thread_id:
            raise RuntimeError(
                "the sync Argil client was called from its own event-loop thread (from a "
                "callback such as download's progress?); that would deadlock. Hand the work "
                "to another thread, or use AsyncArgil in async code."
            )
        if not self._warned and asyncio._get_running_loop() is not None:
            self._warned = True
            warnings.warn(
                "the sync Argil client is blocking this thread's running event loop while it "
                "waits (fine in a notebook); in async code use AsyncArgil with await",
                RuntimeWarning,
                stacklevel=5,
            )

    def _forget_after_fork(self) -> None:
        self._lock = threading.RLock()
        if self._finalizer is not None:
            self._finalizer.detach()
        if self._loop is not None:
            # The parent's loop, thread and session: never touched (or collected) in the child,
            # whose inherited sockets and unclosed session would only produce noise.
            _ABANDONED_IN_CHILD.append(self._loop)
        self._loop, self._finalizer = None, None


_RUNTIMES: weakref.WeakSet[SyncRuntime] = weakref.WeakSet()
_ABANDONED_IN_CHILD: list[_Loop] = []


def _after_fork_in_child() -> None:
    for runtime in list(_RUNTIMES):
        runtime._forget_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _unsent() -> AsyncArgil:
    """An AsyncArgil holding its resources and nothing else, to run ``list()``'s checks on.

    Its paginators are made and dropped, never iterated: it has no configuration to send with.
    """
    client = AsyncArgil.__new__(AsyncArgil)
    client._attach_resources()
    return client


_UNSENT = _unsent()


class _DerivedRuntime(SyncRuntime):
    """A view of a parent runtime that hands each call a client on its own ``config``.

    That client is the loop's client derived once per loop (``AsyncArgil._derive``): it shares
    the session, limiter and retry pipelines.
    """

    def __init__(self, parent: SyncRuntime, config: ClientConfig) -> None:
        self._parent, self.config = parent, config
        self._made: tuple[AsyncArgil, AsyncArgil] | None = None

    def call(self, fn: Callable[[AsyncArgil], Awaitable[T]]) -> T:
        """Run ``fn`` on the parent's loop with this view's client."""
        return self._parent.call(lambda client: fn(self._client(client)))

    def close(self) -> None:
        """Close the shared session and loop (as the parent's ``close()`` would)."""
        self._parent.close()

    @property
    def thread(self) -> threading.Thread | None:
        """The shared loop thread."""
        return self._parent.thread

    def _client(self, client: AsyncArgil) -> AsyncArgil:
        made = self._made
        if made is None or made[0] is not client:
            made = self._made = (client, client._derive(self.config))
        return made[1]


class Paginator(Generic[T]):
    """The sync twin of ``AsyncPaginator``: iterate it for items, or ``.pages()`` for pages.

    Each page is fetched in one trip to the event loop, never one per item; each iteration
    starts again from page 1:

    ```python
    for asset in client.assets.list(status="READY", page_size=100):
        print(asset.id)
    ```
    """

    __slots__ = ("_make", "_runtime")

    def __init__(
        self, runtime: SyncRuntime, make: Callable[[AsyncArgil], AsyncPaginator[T]]
    ) -> None:
        self._runtime = runtime
        self._make = make  # bound to a client per use: the loop (and client) may be restarted

    def fetch_page(self, number: int = 1) -> Page[T]:
        """Fetch one page by number (from 1), e.g. to serve page N of a listing in a web UI."""
        return self._runtime.call(lambda client: self._make(client).fetch_page(number))

    def pages(self) -> Iterator[Page[T]]:
        """Yield each page in order, stopping at the last one."""
        # A generator left early (a break) is finalized by its loop's asyncgen hooks.
        started: list[tuple[AsyncArgil, AsyncIterator[Page[T]]]] = []

        async def next_page(client: AsyncArgil) -> Page[T] | None:
            """The next page, or None at the end (StopAsyncIteration must not cross threads).

            After the last page the generator is closed in the same trip, so the caller need
            not come back to learn that nothing follows.
            """
            if not started:
                started.append((client, self._make(client).pages()))
            owner, pages = started[0]
            if owner is not client:  # closed since the last page: that generator is gone
                raise RuntimeError("the sync Argil client was closed during this iteration")
            try:
                page = await pages.__anext__()
            except StopAsyncIteration:
                return None
            if page.is_last():
                aclose = getattr(pages, "aclose", None)
                if aclose is not None:
                    await aclose()
            return page

        while True:
            page = self._runtime.call(next_page)
            if page is None:
                return
            yield page
            if page.is_last():
                return

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.items

    def to_list(self, *, limit: int | None = None) -> list[T]:
        """Collect the items (at most ``limit`` of them) into a list."""
        if check_limit(limit) == 0:
            return []
        collected: list[T] = []
        for page in self.pages():
            collected.extend(page.items)
            if limit is not None and len(collected) >= limit:
                return collected[:limit]
        return collected

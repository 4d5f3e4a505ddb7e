"""The sync facade's runtime without sockets: its thread, cancellation, warnings, pagination."""

from __future__ import annotations

import asyncio
import gc
import os
import selectors
import signal
import sys
import sysconfig
import threading
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from support.fakes import LoopTransport, loop_threads, make_client

import argil_async._sync._runtime as runtime_module
from argil_async import Argil, InvalidRequestError, Paginator
from argil_async._sync._runtime import (
    PORTAL_THREAD_NAME,
    _direct_wake,  # the real one, even where hand_off swaps it
)

# Each test runs with calls handed to the loop both ways (see conftest.hand_off).
pytestmark = pytest.mark.usefixtures("hand_off")


def test_bad_arguments_raise_at_construction_without_a_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A missing key or a plain-http remote URL raises in the caller, before any thread starts."""
    monkeypatch.delenv("ARGIL_API_KEY", raising=False)
    before = loop_threads()
    with pytest.raises(InvalidRequestError, match="no API key"):
        Argil()
    with pytest.raises(InvalidRequestError, match="https"):
        Argil(api_key="k", base_url="http://api.example.test/v1")
    assert loop_threads() == before


def test_loop_starts_lazily_and_runs_the_calls(client: Argil, transport: LoopTransport) -> None:
    """No thread until the first call; calls then run on the client's own loop thread."""
    assert client._runtime.thread is None
    avatar = client.avatars.get("ava")
    assert avatar.id == "ava"
    thread = client._runtime.thread
    assert thread is not None
    assert thread.name == PORTAL_THREAD_NAME
    assert transport.threads == {thread.ident}


def test_environment_is_read_at_construction(
    monkeypatch: pytest.MonkeyPatch, transport: LoopTransport
) -> None:
    """The key and URL come from the environment as it was when Argil() ran."""
    monkeypatch.setenv("ARGIL_API_KEY", "key-from-env")
    monkeypatch.setenv("ARGIL_BASE_URL", "https://env.example.test/v1")
    with Argil(transport=transport) as client:
        monkeypatch.setenv("ARGIL_API_KEY", "changed")
        monkeypatch.delenv("ARGIL_BASE_URL")
        client.avatars.get("ava")
        async_client = client._runtime._started().client
        assert async_client._config.api_key == "key-from-env"
        assert async_client.base_url == "https://env.example.test/v1"
        assert client.base_url == "https://env.example.test/v1"


def test_repr_never_shows_the_key(client: Argil) -> None:
    """repr() names the URL and hides the key."""
    assert repr(client) == "Argil(base_url='https://api.example.test/v1', api_key='***')"
    assert "sk-secret" not in repr(client)


def test_close_closes_session_on_its_loop_and_stops_the_thread(transport: LoopTransport) -> None:
    """close() runs aclose on the loop thread, joins the thread, and is safe twice."""
    client = make_client(transport)
    client.avatars.get("ava")
    thread = client._runtime.thread
    assert thread is not None
    client.close()
    client.close()
    assert not thread.is_alive()
    assert transport.closed_on == thread.ident


def test_client_can_be_used_again_after_close(client: Argil) -> None:
    """Like AsyncArgil, a closed client opens again (on a new loop) when used."""
    client.avatars.get("a")
    client.close()
    assert client.avatars.get("b").id == "b"
    assert client._runtime.thread is not None


def test_finalizer_closes_a_forgotten_client(transport: LoopTransport) -> None:
    """A client dropped without close() has its session closed and its thread stopped."""
    client = make_client(transport)
    client.avatars.get("ava")
    thread = client._runtime.thread
    assert thread is not None
    del client
    gc.collect()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert transport.closed_on == thread.ident


class CallerGaveUp(Exception):
    """Raised by a signal handler in the waiting caller."""


def _raise_in_main_thread_when(event: threading.Event, signum: int) -> threading.Thread:
    def fire() -> None:
        if event.wait(5):
            os.kill(os.getpid(), signum)

    thread = threading.Thread(target=fire)
    thread.start()
    return thread


def test_exception_in_caller_cancels_the_task(client: Argil, transport: LoopTransport) -> None:
    """An exception raised in the waiting caller cancels the request inside the loop."""

    def give_up(signum: int, frame: object) -> None:
        raise CallerGaveUp

    previous = signal.signal(signal.SIGUSR1, give_up)
    try:
        firing = _raise_in_main_thread_when(transport.hanging, signal.SIGUSR1)
        with pytest.raises(CallerGaveUp):
            client.avatars.get("hang")
        firing.join()
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert transport.cancelled.wait(5)
    assert client.avatars.get("after").id == "after"


def test_ctrl_c_cancels_the_task(client: Argil, transport: LoopTransport) -> None:
    """Ctrl-C (SIGINT) while waiting raises KeyboardInterrupt and cancels the task."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        firing = _raise_in_main_thread_when(transport.hanging, signal.SIGINT)
        with pytest.raises(KeyboardInterrupt):
            client.avatars.get("hang")
        firing.join()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert transport.cancelled.wait(5)


@pytest.mark.parametrize("queued", [True, False], ids=["step-queued", "nothing-queued"])
def test_ctrl_c_while_the_task_is_made_leaves_nothing_behind(
    client: Argil,
    transport: LoopTransport,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    queued: bool,
) -> None:
    """Ctrl-C inside asyncio.Task in the caller's thread: nothing sent, logged or warned."""
    if client._runtime._started().wake is None:
        pytest.skip("on this path the calls' tasks are made on the loop")
    made = asyncio.Task

    def interrupted(coro: Any, **kwargs: Any) -> Any:
        if queued:  # the task exists and its first step is queued on the loop
            made(coro, **kwargs)
        raise KeyboardInterrupt

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        monkeypatch.setattr(runtime_module, "_Task", interrupted)
        with pytest.raises(KeyboardInterrupt):
            client.avatars.get("interrupted")
        monkeypatch.setattr(runtime_module, "_Task", made)
        assert client.avatars.get("after").id == "after"  # the loop ran what was queued
        gc.collect()
    assert "/avatars/interrupted" not in [r.path for r in transport.sent]
    assert "never retrieved" not in caplog.text
    assert [str(w.message) for w in seen if "never awaited" in str(w.message)] == []


def test_call_from_the_loop_thread_raises_a_clear_error(
    client: Argil, transport: LoopTransport
) -> None:
    """Calling the client from its own loop thread (a callback) raises instead of deadlocking."""
    transport.on_send = lambda: client.avatars.get("inner")
    with pytest.raises(RuntimeError, match="its own event-loop thread"):
        client.avatars.get("outer")


async def test_calls_from_a_running_event_loop_work_and_warn_once(client: Argil) -> None:
    """In a thread with a running loop (Jupyter), calls work; one RuntimeWarning says it blocks."""
    with pytest.warns(RuntimeWarning, match="blocking this thread's running event loop"):
        assert client.avatars.get("a").id == "a"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert client.avatars.get("b").id == "b"
        assert [a.id for a in client.assets.list()] == []
        client.close()


def test_closing_from_another_thread_fails_calls_in_flight(
    client: Argil, transport: LoopTransport
) -> None:
    """close() does not wait for calls in flight: they fail with a clear error."""
    closer = _run_when(transport.hanging, client.close)
    with pytest.raises(RuntimeError, match="closed while this call ran"):
        client.avatars.get("hang")
    closer.join()
    assert transport.cancelled.is_set()


def _run_when(event: threading.Event, action: Callable[[], Any]) -> threading.Thread:
    thread = threading.Thread(target=lambda: event.wait(5) and action())
    thread.start()
    return thread


class CrossingCounter:
    """Counts the hand-offs from other threads to a client's event loop: one per trip.

    A trip is a ``call_soon_threadsafe`` or, where calls make their task in the caller's
    thread, the wake-up of the loop that follows.
    """

    def __init__(self, client: Argil, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        loop = client._runtime._started()
        original = loop.event_loop.call_soon_threadsafe

        def counting(*args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() != loop.thread_id:
                self.count += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(loop.event_loop, "call_soon_threadsafe", counting)
        wake = loop.wake
        if wake is not None:  # a call's task made in the caller's thread, then the loop woken

            def counting_wake() -> None:
                if threading.get_ident() != loop.thread_id:
                    self.count += 1
                wake()

            monkeypatch.setattr(loop, "wake", counting_wake)


def test_iteration_crosses_to_the_loop_once_per_page(monkeypatch: pytest.MonkeyPatch) -> None:
    """Iterating 250 items in pages of 100 takes 3 trips to the loop, not one per item."""
    transport = LoopTransport(assets=250)
    with make_client(transport) as client:
        crossings = CrossingCounter(client, monkeypatch)
        listing = client.assets.list(page_size=100)
        assert isinstance(listing, Paginator)
        assert crossings.count == 0  # nothing is fetched until iteration
        ids = [asset.id for asset in listing]
        assert ids == [f"asset-{i}" for i in range(250)]
        assert crossings.count == 3
        assert len(transport.sent) == 3
        assert client.avatars.get("one").id == "one"
        assert crossings.count == 4


def test_pages_fetch_page_and_to_list(client: Argil, transport: LoopTransport) -> None:
    """pages() yields Page objects; fetch_page(n) and to_list(limit=) behave like the async ones."""
    transport.assets = [{"id": f"a{i}"} for i in range(7)]
    pages = list(client.assets.list(page_size=3).pages())
    assert [(p.page, len(p)) for p in pages] == [(1, 3), (2, 3), (3, 1)]
    assert [a.id for a in client.assets.list(page_size=3).fetch_page(2)] == ["a3", "a4", "a5"]
    assert len(client.assets.list(page_size=3).to_list(limit=4)) == 4


def test_list_arguments_are_checked_when_list_is_called(client: Argil) -> None:
    """A bad page_size raises at list(), like the async client, not at iteration."""
    with pytest.raises(InvalidRequestError, match="page_size"):
        client.assets.list(page_size=0)


def test_breaking_out_of_iteration_leaves_nothing_running(
    client: Argil, transport: LoopTransport
) -> None:
    """Leaving a for loop early stops fetching; the client keeps working and closes cleanly."""
    transport.assets = [{"id": f"a{i}"} for i in range(50)]
    for asset in client.assets.list(page_size=10):
        if asset.id == "a12":
            break
    gc.collect()
    assert [r.params for r in transport.sent][-1][-1] == ("page", "2")
    assert client.avatars.get("x").id == "x"


def test_forked_child_starts_a_fresh_loop(client: Argil) -> None:
    """After os.fork() the child gets its own loop thread and can call; the parent is unharmed."""
    client.avatars.get("parent")
    parent_thread = client._runtime.thread
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        status = 1
        try:
            assert client._runtime.thread is None
            assert client.avatars.get("child").id == "child"
            child_thread = client._runtime.thread
            assert child_thread is not None
            assert child_thread.is_alive()
            client.close()
            status = 0
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert client._runtime.thread is parent_thread
    assert client.avatars.get("parent-again").id == "parent-again"


def test_calls_also_run_through_the_loop_callback(
    transport: LoopTransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where a task cannot be made in the caller's thread, calls go through call_soon_threadsafe."""
    monkeypatch.setattr(runtime_module, "_direct_wake", lambda loop: None)
    with make_client(transport) as client:
        crossings = CrossingCounter(client, monkeypatch)
        assert client._runtime._started().wake is None
        assert [client.avatars.get("ava").id for _ in range(3)] == ["ava"] * 3
        assert crossings.count == 3
        assert transport.threads == {client._runtime._started().thread_id}


def test_tasks_are_made_in_the_callers_thread_only_where_that_is_safe() -> None:
    """asyncio's own loops take a task made in another thread; in debug mode they do not."""
    loop = asyncio.new_event_loop()
    try:
        expected = sys.version_info < (3, 14)
        expected = expected and not sysconfig.get_config_var("Py_GIL_DISABLED")
        wake = _direct_wake(loop)
        assert (wake is not None) is expected
        if wake is not None and hasattr(os, "eventfd"):  # Linux: an eventfd of the client's own
            assert getattr(wake, "func", None) is os.eventfd_write
        loop.set_debug(True)
        assert _direct_wake(loop) is None
    finally:
        loop.close()


@pytest.mark.skipif(not hasattr(os, "eventfd"), reason="Linux eventfd")
def test_the_eventfd_wakes_the_loop_each_time_and_is_never_read(client: Argil) -> None:
    """Edge-triggered outside the selector's map: every call wakes the idle loop, no reader runs."""
    loop = client._runtime._started()
    if getattr(loop.wake, "func", None) is not os.eventfd_write:
        pytest.skip("no eventfd wake-up on this path")
    fd = loop.wake.args[0]  # type: ignore[union-attr]
    selector = loop.event_loop._selector  # type: ignore[attr-defined]
    assert fd not in selector.get_map()  # no callback (and no read) per wake-up
    for i in range(200):  # each call waits for its own wake-up of a sleeping loop
        assert client.avatars.get(f"a{i}").id == f"a{i}"
    assert os.eventfd_read(fd) >= 200  # the count of wake-ups, never read by the loop


@pytest.mark.skipif(not hasattr(os, "eventfd"), reason="Linux eventfd")
def test_a_loop_without_epoll_drains_the_eventfd_in_a_reader() -> None:
    """With another selector (poll), the eventfd gets a reader that wakes the loop and reads it."""
    loop = asyncio.SelectorEventLoop(selectors.PollSelector())
    thread = threading.Thread(target=loop.run_forever)
    try:
        wake = _direct_wake(loop)
        if getattr(wake, "func", None) is not os.eventfd_write:
            pytest.skip("no eventfd wake-up on this build")
        assert wake is not None
        fd = wake.args[0]  # type: ignore[attr-defined]
        assert fd in loop._selector.get_map()  # type: ignore[attr-defined]
        thread.start()
        for _ in range(20):  # a task made here, as the runtime makes a call's, then the wake-up
            ran = threading.Event()

            async def step(ran: threading.Event = ran) -> None:
                ran.set()

            asyncio.Task(step(), loop=loop)
            wake()
            assert ran.wait(5)
        flushed = threading.Event()  # queued after the reader of the last wake-up
        loop.call_soon_threadsafe(flushed.set)
        assert flushed.wait(5)
        with pytest.raises(BlockingIOError):  # every wake-up was read by the loop's reader
            os.eventfd_read(fd)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        if thread.is_alive():
            thread.join(5)
        loop.close()


def test_free_threaded_builds_hand_calls_over_with_call_soon_threadsafe(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without a GIL (3.13t) no task is made in the caller's thread: calls use the loop's API."""
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: False, raising=False)
    assert runtime_module._free_threaded()
    loop = asyncio.new_event_loop()
    try:
        assert _direct_wake(loop) is None
    finally:
        loop.close()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts /proc/self/fd")
def test_closed_clients_leave_no_descriptor_open(transport: LoopTransport) -> None:
    """Clients used and closed leave no file descriptor behind (the loop's wake-up included)."""

    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    def use_and_close() -> None:
        client = make_client(transport)
        client.avatars.get("ava")
        client.close()

    use_and_close()
    gc.collect()
    before = open_fds()
    for _ in range(10):
        use_and_close()
    gc.collect()
    assert open_fds() == before


def test_hand_off_runs_the_tests_on_the_path_it_names(client: Argil, hand_off: str) -> None:
    """The fixture's second run really sends calls through call_soon_threadsafe (no wake-up)."""
    assert client.avatars.get("ava").id == "ava"
    direct = sys.version_info < (3, 14) and not runtime_module._free_threaded()
    assert (client._runtime._started().wake is not None) is (direct and hand_off == "direct")

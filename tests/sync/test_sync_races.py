"""The sync facade's runtime under races: first calls at once, close() racing calls and signals."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest
from support.fakes import LoopTransport, loop_threads, make_client

from argil_async import Argil, AsyncArgil, Request, Response
from argil_async._sync._runtime import SyncRuntime, _Loop

# Each test runs with calls handed to the loop both ways (see conftest.hand_off).
pytestmark = pytest.mark.usefixtures("hand_off")


def _run_when(event: threading.Event, action: Callable[[], Any]) -> threading.Thread:
    thread = threading.Thread(target=lambda: event.wait(5) and action())
    thread.start()
    return thread


def _call_on(loop: _Loop, fn: Callable[[AsyncArgil], Awaitable[object]]) -> object:
    """Run ``fn`` through this very loop, as a call that picked it before close() would."""
    runtime = SyncRuntime.__new__(SyncRuntime)
    runtime._loop, runtime._warned = loop, True
    return runtime.call(fn)


def test_threads_racing_to_start_the_loop_share_one(transport: LoopTransport) -> None:
    """Eight threads making the first call at once start exactly one loop thread."""
    before = len(loop_threads())
    barrier = threading.Barrier(8)
    ids: list[str] = []
    with make_client(transport) as client:

        def first_call(n: int) -> None:
            barrier.wait()
            ids.append(client.avatars.get(f"a{n}").id)

        threads = [threading.Thread(target=first_call, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(loop_threads()) == before + 1
        assert sorted(ids) == [f"a{n}" for n in range(8)]
    assert len(transport.threads) == 1


CLOSE_IN_SIGNAL_HANDLER = """
import os, signal, threading, time
import argil_async._sync._runtime as runtime
from argil_async import Argil

build = runtime._build_on_loop

def slow_build(kwargs):
    time.sleep(0.5)  # the caller holds the client's lock meanwhile
    return build(kwargs)

runtime._build_on_loop = slow_build
client = Argil(api_key="sk-secret-123456", base_url="https://api.example.test/v1")
signal.signal(signal.SIGUSR1, lambda *_: client.close())
threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGUSR1)).start()
client._runtime._started()
client.close()
print("closed")
"""


def test_close_from_a_signal_handler_while_the_loop_starts_does_not_deadlock() -> None:
    """close() in a signal handler that interrupts the loop's start-up returns; no deadlock."""
    done = subprocess.run(
        [sys.executable, "-c", CLOSE_IN_SIGNAL_HANDLER],
        capture_output=True,
        text=True,
        timeout=15,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "closed"), done.stderr


class SlowToCancelTransport(LoopTransport):
    """A transport whose hanging request takes 0.3 s to wind down once cancelled."""

    def __init__(self) -> None:
        super().__init__()
        self.winding_down = threading.Event()

    async def send(self, request: Request) -> Response:
        try:
            return await super().send(request)
        finally:
            if request.path == "/avatars/hang":
                self.winding_down.set()
                with anyio.CancelScope(shield=True):
                    await anyio.sleep(0.3)


def test_a_call_reaching_a_closing_loop_is_refused() -> None:
    """A call that reaches the loop while close() winds it down fails and is never sent."""
    transport = SlowToCancelTransport()
    client = make_client(transport)
    loop = client._runtime._started()
    closer = _run_when(transport.hanging, client.close)
    late: list[BaseException] = []

    def call_late() -> None:
        transport.winding_down.wait(5)
        try:
            _call_on(loop, lambda c: c.avatars.get("late"))
        except BaseException as exc:
            late.append(exc)

    latecomer = threading.Thread(target=call_late)
    latecomer.start()
    with pytest.raises(RuntimeError, match="closed"):
        client.avatars.get("hang")
    closer.join()
    latecomer.join()
    assert [type(exc) for exc in late] == [RuntimeError]
    assert "/avatars/late" not in [r.path for r in transport.sent]


def test_list_alone_starts_no_thread(client: Argil, transport: LoopTransport) -> None:
    """Making a Paginator sends nothing and starts no loop thread; iterating does."""
    transport.assets = [{"id": "a0"}]
    listing = client.assets.list(page_size=5)
    assert client._runtime.thread is None
    assert [a.id for a in listing] == ["a0"]
    assert client._runtime.thread is not None


def test_closing_mid_iteration_fails_the_next_page(client: Argil, transport: LoopTransport) -> None:
    """close() during an iteration makes the next page raise, not end the listing early."""
    transport.assets = [{"id": f"a{i}"} for i in range(6)]
    pages = client.assets.list(page_size=2).pages()
    assert len(next(pages)) == 2
    client.close()
    with pytest.raises(RuntimeError, match="closed"):
        next(pages)


def test_a_call_on_a_loop_closed_since_it_was_picked_says_so(client: Argil) -> None:
    """A call that picked the loop just before close() stopped it gets the clear closed error."""
    loop = client._runtime._started()
    client.close()
    with pytest.raises(RuntimeError, match="sync Argil client was closed"):
        _call_on(loop, lambda c: c.avatars.get("late"))

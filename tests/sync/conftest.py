"""Fixtures of the sync tests: a sync client on a fake transport that needs no socket.

(``test_sync_client.py`` overrides ``client`` with one bound to the simulator.) The behaviour
tests use ``hand_off``, which runs each of them both ways a call can reach the loop.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.fakes import LoopTransport, make_client

from argil_async import Argil
from argil_async._sync import _runtime as runtime_module


@pytest.fixture
def transport() -> LoopTransport:
    """A fresh fake transport."""
    return LoopTransport()


@pytest.fixture
def client(transport: LoopTransport) -> Iterator[Argil]:
    """A sync client on the fake transport, closed after the test."""
    with make_client(transport) as client:
        yield client


@pytest.fixture(params=["direct", "call_soon_threadsafe"])
def hand_off(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each sync behaviour test runs twice: with calls' tasks made in the caller's thread where
    the runtime does that (``_direct_wake``), and with one ``call_soon_threadsafe`` per call,
    the path taken on other loops, in debug mode, on Python 3.14 and on free-threaded builds.
    """
    if request.param == "call_soon_threadsafe":
        monkeypatch.setattr(runtime_module, "_direct_wake", lambda loop: None)
    return str(request.param)

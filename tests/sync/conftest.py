"""Fixtures of the sync tests: a sync client on a fake transport that needs no socket.

(``test_sync_client.py`` overrides ``client`` with one bound to the simulator.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.fakes import LoopTransport, make_client

from argil_async import Argil


@pytest.fixture
def transport() -> LoopTransport:
    """A fresh fake transport."""
    return LoopTransport()


@pytest.fixture
def client(transport: LoopTransport) -> Iterator[Argil]:
    """A sync client on the fake transport, closed after the test."""
    with make_client(transport) as client:
        yield client

"""The unit tier is socket-free: a network socket made by any test here fails it loudly.

These tests run the SDK on the transport seam (`MockTransport`, `tests/support/fakes.py`) or on
no I/O at all, so `pytest tests/unit` takes seconds. A test that needs the simulator, a real
server or a subprocess belongs in the folder of what it tests (`tests/client/`,
`tests/transport/`, `tests/resources/`, ...). The guard is `tests/support/socket_guard.py`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.socket_guard import SocketGuard, guarding_sockets


@pytest.fixture(autouse=True)
def socket_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[SocketGuard]:
    """Every unit test runs with network sockets refused; a refusal fails it at teardown too."""
    with guarding_sockets(monkeypatch) as guard:
        yield guard
    if guard.refused:
        pytest.fail("tests/unit is socket-free; this test tried: " + "; ".join(guard.refused))

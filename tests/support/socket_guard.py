"""The unit tier's guard: network sockets raise, and are failed again at teardown.

`tests/unit/conftest.py` installs it around every unit test. It patches `socket.socket`, which
every asyncio, aiohttp and redis socket goes through, and `socket.getaddrinfo` for host names
(a DNS lookup reaches the network without a socket of Python's). AF_UNIX stays allowed:
asyncio's event loop makes a socketpair for its self-pipe. The refusal raises where the socket
is made and is also recorded, so code that swallows the exception (a retry loop, say) still
fails the test.

    with guarding_sockets(monkeypatch) as guard:
        socket.create_connection(("127.0.0.1", 80))  # raises NetworkSocketInUnitTier
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

NETWORK_FAMILIES = frozenset({socket.AF_INET, socket.AF_INET6})


class NetworkSocketInUnitTier(AssertionError):
    """A test in tests/unit opened a network socket; move it to the folder of what it tests."""


class SocketGuard:
    """What the guard refused during one test (`refused`), checked at teardown."""

    def __init__(self) -> None:
        self.refused: list[str] = []

    def refuse(self, what: str) -> NetworkSocketInUnitTier:
        """Record the attempt and build the exception to raise where it happened."""
        self.refused.append(what)
        return NetworkSocketInUnitTier(
            f"tests/unit is socket-free, but this test {what}: move it to the folder of what "
            "it tests (tests/client/, tests/transport/, ...) or use the transport seam"
        )


@contextmanager
def guarding_sockets(monkeypatch: pytest.MonkeyPatch) -> Iterator[SocketGuard]:
    """Refuse AF_INET/AF_INET6 sockets, non-Unix connects and host-name lookups."""
    guard = SocketGuard()
    original_init = socket.socket.__init__
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex

    def init(self: socket.socket, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        if self.family in NETWORK_FAMILIES:
            self.close()
            raise guard.refuse(f"created an {self.family.name} socket")

    def connect(self: socket.socket, address: Any) -> None:
        if self.family != socket.AF_UNIX:
            raise guard.refuse(f"connected a socket to {address!r}")
        original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if self.family != socket.AF_UNIX:
            raise guard.refuse(f"connected a socket to {address!r}")
        return original_connect_ex(self, address)

    original_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_literal(host):  # a name lookup is network traffic without a socket of ours
            raise guard.refuse(f"looked up the host name {host!r}")
        return original_getaddrinfo(host, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", getaddrinfo)
        patch.setattr(socket.socket, "__init__", init)
        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket.socket, "connect_ex", connect_ex)
        yield guard


def _is_literal(host: Any) -> bool:
    """None or an IP address: getaddrinfo answers those without asking a resolver."""
    if host is None:
        return True
    text = host.decode() if isinstance(host, bytes) else str(host)
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    return True

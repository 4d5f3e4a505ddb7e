"""The unit tier's guard (tests/unit/conftest.py): network sockets fail, the event loop works."""

from __future__ import annotations

import asyncio
import socket

import pytest
from support.socket_guard import NetworkSocketInUnitTier, SocketGuard


def test_network_socket_creation_is_refused(socket_guard: SocketGuard):
    """Making an AF_INET or AF_INET6 socket raises, and the attempt is recorded."""
    for family in (socket.AF_INET, socket.AF_INET6):
        with pytest.raises(NetworkSocketInUnitTier, match="socket-free"):
            socket.socket(family, socket.SOCK_STREAM)
    assert socket_guard.refused == ["created an AF_INET socket", "created an AF_INET6 socket"]
    socket_guard.refused.clear()  # seen; do not fail this test at teardown


def test_a_connect_is_refused_even_if_the_caller_swallows_it(socket_guard: SocketGuard):
    """create_connection fails, and a swallowed refusal is still on record for the teardown."""
    with pytest.raises(NetworkSocketInUnitTier):
        socket.create_connection(("127.0.0.1", 9))
    assert socket_guard.refused
    socket_guard.refused.clear()


async def test_the_event_loop_and_unix_sockets_still_work(socket_guard: SocketGuard):
    """asyncio's self-pipe socketpair (AF_UNIX) is allowed, so async tests run."""
    left, right = socket.socketpair()
    with left, right:
        left.sendall(b"ok")
        assert right.recv(2) == b"ok"
    await asyncio.sleep(0)
    assert socket_guard.refused == []


def test_a_host_name_lookup_is_refused_but_an_ip_literal_is_not(socket_guard: SocketGuard):
    """getaddrinfo of a name (DNS traffic) is refused; of an IP literal it answers offline."""
    with pytest.raises(NetworkSocketInUnitTier, match="looked up the host name"):
        socket.getaddrinfo("example.com", 443)
    assert socket_guard.refused == ["looked up the host name 'example.com'"]
    socket_guard.refused.clear()
    assert socket.getaddrinfo("127.0.0.1", 80, type=socket.SOCK_STREAM)[0][4][0] == "127.0.0.1"
    assert socket_guard.refused == []

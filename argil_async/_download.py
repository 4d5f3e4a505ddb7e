"""Streaming a file to disk atomically: a temporary name, then a rename once complete."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

import anyio

from ._pagination import header_int
from ._seam import Timeout, Transport
from ._status import raise_for_status
from .errors import APIConnectionError, APITimeoutError

__all__ = ["download_to"]


async def download_to(
    transport: Transport,
    url: str,
    target: Path,
    *,
    progress: Callable[[int, int | None], None] | None = None,
    timeout: Timeout | None = None,
) -> Path:
    """Stream ``url`` into ``target``; a failure leaves no file under ``target``.

    ``timeout`` (a call's own) bounds the wait for the answer (``connect`` + ``read``) and
    each wait for more bytes (``read``), whatever the transport; APITimeoutError when one
    runs out. Example: ``await download_to(transport, url, path, timeout=Timeout.of(30))``.
    """
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    try:
        with anyio.CancelScope() as stall:
            _extend(stall, timeout, first=True)
            async with transport.stream(url) as (head, chunks):
                raise_for_status(head)
                expected = header_int(head.headers, "Content-Length")
                received = 0
                async with await anyio.open_file(partial, "wb") as sink:
                    async for chunk in chunks:
                        _extend(stall, timeout)
                        await sink.write(chunk)
                        received += len(chunk)
                        if progress is not None:
                            progress(received, expected)
        if stall.cancelled_caught:
            assert timeout is not None
            raise APITimeoutError(
                f"download of {target.name} stalled: no data for {timeout.read:g} s"
            )
        if expected is not None and received != expected:
            raise APIConnectionError(
                f"download of {target.name} ended after {received} of {expected} bytes"
            )
        await anyio.to_thread.run_sync(os.replace, partial, target)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.Path(partial).unlink(missing_ok=True)
        raise
    return target


def _extend(scope: anyio.CancelScope, timeout: Timeout | None, *, first: bool = False) -> None:
    """Move the stall deadline: ``connect + read`` for the answer, then ``read`` per chunk."""
    if timeout is not None:
        wait = timeout.connect + timeout.read if first else timeout.read
        scope.deadline = anyio.current_time() + wait

"""Streaming a file to disk atomically: a temporary name, then a rename once complete."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

import anyio

from ._pagination import header_int
from ._transport import Transport, raise_for_status
from .errors import APIConnectionError

__all__ = ["download_to"]


async def download_to(
    transport: Transport,
    url: str,
    target: Path,
    *,
    progress: Callable[[int, int | None], None] | None = None,
) -> Path:
    """Stream ``url`` into ``target``; a failure leaves no file under ``target``."""
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    try:
        async with transport.stream(url) as (head, chunks):
            raise_for_status(head)
            expected = header_int(head.headers, "Content-Length")
            received = 0
            async with await anyio.open_file(partial, "wb") as sink:
                async for chunk in chunks:
                    await sink.write(chunk)
                    received += len(chunk)
                    if progress is not None:
                        progress(received, expected)
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

"""The transport seam's types: what the client sends and gets back, and what a transport is.

Resources build a [`Request`][argil_async.Request] (method, path, query pairs, body bytes) and get
back a [`Response`][argil_async.Response] (status, headers, body bytes) from a
[`Transport`][argil_async.Transport]: the aiohttp one (``_transport.py``, the only SDK module
importing aiohttp) or any object with the same ``send``/``stream``/``aclose`` methods, such as
``testing.MockTransport``:

```python
response = await transport.send(Request("GET", "/videos/v1"))
```
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ForwardRef, Protocol, TypeAlias, Union

import msgspec

from . import errors

__all__ = ["ConnectorArg", "Request", "Response", "Timeout", "TraceConfigs", "Transport"]

if TYPE_CHECKING:
    import aiohttp

    #: A connector, or a function making one (needed when the client outlives an event loop:
    #: a connector belongs to the loop it was made on).
    ConnectorArg: TypeAlias = aiohttp.BaseConnector | Callable[[], aiohttp.BaseConnector]
    #: aiohttp ``TraceConfig`` objects, to observe every HTTP request the client makes.
    TraceConfigs: TypeAlias = Sequence[aiohttp.TraceConfig]
else:
    # The same at run time without importing aiohttp (loaded by the first client made, not by
    # ``import argil_async``): its classes named by references resolved in ``_config``, whose
    # ``_aiohttp`` loads the transport (and aiohttp) then, so ``typing.get_type_hints`` on the
    # constructors works at any time.
    _Connector = ForwardRef("_aiohttp.BaseConnector", module="argil_async._config")
    ConnectorArg = Union[_Connector, Callable[[], _Connector]]  # noqa: UP007
    TraceConfigs = Sequence[ForwardRef("_aiohttp.TraceConfig", module="argil_async._config")]


@dataclass(frozen=True, slots=True)
class Timeout:
    """Per-phase timeouts in seconds: ``connect`` to open a connection, ``read`` between bytes.

    ``total`` bounds a whole request (None: unbounded, so a slow but steady download can finish).
    """

    connect: float = 10.0
    read: float = 60.0
    total: float | None = None

    @classmethod
    def of(cls, value: float | Timeout) -> Timeout:
        """Accept a plain number as the read timeout, keeping connect at most that long."""
        if isinstance(value, Timeout):
            return value
        if value <= 0:
            raise errors.InvalidRequestError("timeout", "must be greater than 0 seconds")
        return cls(connect=min(10.0, float(value)), read=float(value))


class Request(msgspec.Struct, frozen=True):
    """One HTTP request relative to the client's base URL; ``idempotent`` drives retries.

    Immutable; ``msgspec.structs.replace(request, ...)`` makes a changed copy. (A msgspec
    Struct rather than a dataclass: one is made per call, and a frozen dataclass costs ten
    times as much to make.)
    """

    method: str
    path: str
    params: Sequence[tuple[str, str]] = ()
    body: bytes | None = None
    idempotent: bool = True
    headers: Mapping[str, str] = msgspec.field(default_factory=dict)
    timeout: Timeout | None = None  # this call's own timeouts, else the client's
    observer: Any = None  # the call's logging/tracing/metadata hooks (see _observe.py)


class Response(msgspec.Struct, frozen=True):
    """A complete HTTP response: status, headers (case-insensitive mapping) and body bytes.

    Immutable (a msgspec Struct, like [`Request`][argil_async.Request]).
    """

    status: int
    headers: Mapping[str, str]
    body: bytes


class Transport(Protocol):
    """What the client needs from HTTP: send a request, stream a body, close."""

    async def send(self, request: Request) -> Response:
        """Send one request and read the whole response."""
        ...

    def stream(
        self, url: str
    ) -> AbstractAsyncContextManager[tuple[Response, AsyncIterator[bytes]]]:
        """Open a GET of an absolute URL and yield (response-without-body, chunk iterator)."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...

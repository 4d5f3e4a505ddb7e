"""Exceptions raised by argil_async: the whole tree, in one place.

Every exception derives from [`ArgilError`][argil_async.errors.ArgilError], so one
``except ArgilError`` catches them all. Each branch says which system failed: bad input, Argil (the
network, the API, its answers), the Redis that processes share, or this machine's disk:

```text
ArgilError
├── InvalidRequestError (also a ValueError)    bad input caught before sending
│   └── batch.JobFileError                      a job file that cannot be run
├── APIConnectionError                          could not talk to Argil (the network)
│   └── APITimeoutError (also a TimeoutError)
├── APIStatusError  .status_code .code .message .body .headers .request_id
│   ├── BadRequestError 400   AuthenticationError 401   PermissionDeniedError 403
│   ├── NotFoundError 404     ConflictError 409          RateLimitError 429 (.retry_after)
│   └── InternalServerError 5xx
├── ResponseValidationError                     Argil sent something we cannot decode
│   └── ResponseTooLargeError                   ... or more than max_response_size bytes
├── WaitTimeoutError                            a wait_until_* deadline passed (.last)
├── GenerationFailedError                       a waited-on resource failed (.resource)
├── WebhookError  .status_code .reason          a webhook delivery to refuse (400-503)
│   └── WebhookSignatureError 401               a Standard Webhooks signature did not verify
├── RedisError                                  the Redis that processes share failed
│   ├── RedisUnavailableError                   unreachable (after retrying a few seconds)
│   │   ├── limits.LimiterUnavailableError      ... for the asset limiter: upload not sent
│   │   └── batch.CoordinatorUnavailableError   ... for a coordinated batch
│   ├── batch.ClaimLostError                    another worker has taken the job over
│   ├── batch.BatchLostError                    the batch vanished from Redis (restart, flush)
│   └── batch.BatchMismatchError                Redis's batch is another API's or job file's
└── LocalStorageError                           this machine's files cannot serve
    └── batch.JournalError                      a batch's journal or state files
        └── batch.ResultsWriteError             the results file could not be written
```

``limits.*`` live in ``argil_async.limits`` and ``batch.*`` in ``argil_async.batch``; the
others here. A Redis or disk failure is never an ``APIConnectionError`` or a ``ValueError``:
``except APIConnectionError`` means "Argil could not be reached" and nothing else.

The API key and webhook tokens are masked (``***``) in every message, body and header an
error keeps, so errors are safe to log even when the server echoes what it was sent.

Example:

```python
try:
    video = await client.videos.get(video_id)
except NotFoundError as exc:
    print(exc.status_code, exc.message, exc.request_id)
```
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import _redact

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "ArgilError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "GenerationFailedError",
    "InternalServerError",
    "InvalidRequestError",
    "LocalStorageError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RedisError",
    "RedisUnavailableError",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "WaitTimeoutError",
    "WebhookError",
    "WebhookSignatureError",
]


class ArgilError(Exception):
    """Base class of every error raised by argil_async; its text never shows a known secret."""

    def __str__(self) -> str:
        return _redact.redact_text(super().__str__())

    def __repr__(self) -> str:
        return _redact.redact_text(super().__repr__())


class InvalidRequestError(ArgilError, ValueError):
    """Bad input caught before anything was sent; ``field`` names the offending argument."""

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")


class APIConnectionError(ArgilError):
    """The server could not be reached, or the connection broke before a response arrived.

    ``maybe_sent`` is False only when the request certainly never left this machine (the
    connection could not be opened), which is what makes a non-idempotent POST safe to resend.
    """

    def __init__(self, message: str, *, maybe_sent: bool = True) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


class APITimeoutError(APIConnectionError, TimeoutError):
    """The request timed out (connecting, or waiting for the response)."""


class APIStatusError(ArgilError):
    """The server answered with a non-2xx status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: int | None = None,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        request_id: str | None = None,
    ) -> None:
        message = _redact.redact_text(message)
        self.message: str = message
        self.status_code = status_code
        self.code: int = code if code is not None else status_code
        self.body: bytes = _redact.redact_bytes(body)
        # Kept as given (not copied to a dict): the transport's headers are case-insensitive.
        self.headers: Mapping[str, str] = (
            _redact.redact_headers(headers) if headers is not None else {}
        )
        self.request_id = request_id
        suffix = f" (request id {request_id})" if request_id else ""
        super().__init__(f"{status_code}: {message}{suffix}")


class BadRequestError(APIStatusError):
    """400: the server rejected the request as invalid."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing or invalid."""


class PermissionDeniedError(APIStatusError):
    """403: the key is valid but not allowed to do this (plan or credits)."""


class NotFoundError(APIStatusError):
    """404: no such resource, or no access to it."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the resource's current state."""


class RateLimitError(APIStatusError):
    """429: too many requests, or more than 5 assets processing; ``retry_after`` in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    """5xx: the server failed."""


class ResponseValidationError(ArgilError):
    """The server answered 2xx with a body that could not be decoded into the expected model."""

    def __init__(self, message: str, *, body: bytes = b"") -> None:
        self.body: bytes = _redact.redact_bytes(body)
        super().__init__(_redact.redact_text(message))


class ResponseTooLargeError(ResponseValidationError):
    """The response body exceeded ``max_response_size`` bytes (``limit``); reading stopped there.

    Raised from the declared Content-Length before reading, or as soon as a streamed (chunked or
    compressed) body passes the limit, so a hostile or broken server cannot exhaust memory.
    """

    def __init__(self, limit: int, *, received: int | None = None) -> None:
        self.limit = limit
        self.received = received
        size = f"{received} bytes or more" if received is not None else "a declared size"
        super().__init__(
            f"response body too large: {size} over the {limit}-byte limit "
            f"(raise AsyncArgil(max_response_size=...) if it is expected)"
        )


class WaitTimeoutError(ArgilError, TimeoutError):
    """A ``wait_until_*`` deadline passed; ``last`` holds the last object seen (or None)."""

    def __init__(self, message: str, *, last: Any = None) -> None:
        self.last = last
        super().__init__(message)


class GenerationFailedError(ArgilError):
    """A waited-on avatar, asset or video ended in a failed state; ``resource`` holds it."""

    def __init__(self, message: str, *, resource: Any = None) -> None:
        self.resource = resource
        super().__init__(message)


class WebhookError(ArgilError):
    """A webhook delivery to refuse: answer ``status_code`` (400, 401, 408, 413 or 503).

    ``reason`` is a short word, the key of
    [`WebhookReceiver.rejected`][argil_async.events.WebhookReceiver.rejected]:
    ``"unauthorized"`` (401), ``"invalid_body"`` and ``"incomplete"`` (400, a body cut short of
    its ``Content-Length``), ``"timeout"`` (408), ``"too_large"`` (413), ``"unavailable"``
    (503: the shared de-duplication store could not be reached; the sender should retry).
    """

    def __init__(self, message: str, *, status_code: int, reason: str) -> None:
        self.status_code = status_code
        self.reason = reason
        super().__init__(message)


class WebhookSignatureError(WebhookError):
    """A Standard Webhooks signature is missing, malformed, outside the tolerance or wrong."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status_code=401, reason="unauthorized")


class RedisError(ArgilError):
    """The Redis that processes share (the asset limiter, a batch coordinator) failed.

    Nothing about Argil: the API may be fine. Subclasses say how (unreachable, a claim lost).
    """


class RedisUnavailableError(RedisError):
    """Redis could not be reached, also after retrying for a few seconds (well inside any lease).

    ``maybe_sent`` is always False: nothing was sent to Argil because of this call.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.maybe_sent = False


class LocalStorageError(ArgilError):
    """This machine's files cannot serve: a batch's journal, state or results file is held by
    another run, damaged, written for other jobs or another API, or cannot be written (disk
    full, no permission). Nothing about Argil or the network."""

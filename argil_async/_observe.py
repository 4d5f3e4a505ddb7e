"""What a call leaves behind: log lines, an OpenTelemetry span, and metadata for the caller.

All three are off by default and cost a few checks per call when off: the client makes a
`CallObserver` only when the ``argil_async`` logger is enabled for INFO, when an
OpenTelemetry tracer provider is installed, or when the caller asked for the response metadata
([`argil_async.with_raw_response()`][argil_async.with_raw_response]). Logs name the path template
(``/videos/{id}``), never the query, the body or a header, so neither the API key nor a webhook
token can show.

    ARGIL_LOG=info python app.py     # one line per attempt: method, path, status, ms, request id
"""

from __future__ import annotations

import contextvars
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import ModuleType

from ._seam import Request, Response
from ._status import request_id_of

__all__ = [
    "SINK",
    "CallObserver",
    "ResponseInfo",
    "configure_logging",
    "path_template",
    "run_observed",
    "wants_observer",
]

logger = logging.getLogger("argil_async")
# A library's loggers print nothing unless the application routes them (no last-resort stderr).
if not any(isinstance(handler, logging.NullHandler) for handler in logger.handlers):
    logger.addHandler(logging.NullHandler())
_COLLECTIONS = frozenset({"assets", "avatars", "videos", "voices", "webhooks"})
#: Where the calls of the current task record their metadata (set by with_raw_response).
SINK: contextvars.ContextVar[list[ResponseInfo] | None] = contextvars.ContextVar(
    "argil_async_sink", default=None
)


@dataclass(frozen=True, slots=True)
class ResponseInfo:
    """What one API request ended with: status, headers, request id, time and retries.

    ``path`` is the template (``/videos/{id}``); ``elapsed`` is in seconds and covers every
    attempt and the waits between them; ``retries`` counts the attempts after the first.
    """

    method: str
    path: str
    status_code: int
    headers: Mapping[str, str]
    request_id: str | None
    elapsed: float
    retries: int


class _ArgilHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler ARGIL_LOG installs: it prints a record only when no handler above the
    ``argil_async`` logger will (an application's ``logging.basicConfig``, a CLI's own
    handler), so a line is never printed twice, whichever was configured first."""

    def handle(self, record: logging.LogRecord) -> bool:
        if _handled_above(logger):
            return False
        return bool(super().handle(record))


def _handled_above(start: logging.Logger) -> bool:
    """Whether a record that ``start`` propagates reaches a handler of an ancestor."""
    current = start
    while current.propagate and current.parent is not None:
        current = current.parent
        if current.handlers:
            return True
    return False


def configure_logging(value: str | None = None) -> None:
    """Honour ``ARGIL_LOG=debug|info``: print the ``argil_async`` logger's lines to stderr.

    Without it nothing is configured: applications route the logger like any other, and the
    library's ``NullHandler`` keeps Python's last-resort handler from printing its warnings.
    """
    level = (os.environ.get("ARGIL_LOG", "") if value is None else value).strip().upper()
    if level not in ("DEBUG", "INFO"):
        return
    logger.setLevel(level)
    if not any(isinstance(handler, _ArgilHandler) for handler in logger.handlers):
        handler = _ArgilHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        logger.addHandler(handler)


def path_template(path: str) -> str:
    """``/videos/abc/render`` -> ``/videos/{id}/render``: the segment after a collection."""
    parts = path.split("/")
    for i in range(2, len(parts)):
        if parts[i - 1] in _COLLECTIONS:
            parts[i] = "{id}"
    return "/".join(parts)


def _load_otel() -> ModuleType | None:
    """The tracing module when opentelemetry-api is installed; never imported otherwise."""
    import importlib.util

    if importlib.util.find_spec("opentelemetry") is None:
        return None
    if importlib.util.find_spec("opentelemetry.trace") is None:
        return None
    from . import _otel

    return _otel


_otel = _load_otel()
_trace: ModuleType | None = None if _otel is None else _otel.trace  # see wants_observer


class CallObserver:
    """One API call being watched: counts attempts, logs them, feeds its span and the sink."""

    __slots__ = ("attempts", "log", "method", "path", "sink", "span", "started")

    def __init__(self, method: str, path: str, server: tuple[str, int], log: bool) -> None:
        self.method, self.path, self.log = method, path_template(path), log
        self.sink = SINK.get()
        self.attempts = 0
        traced = _otel is not None and _otel.enabled()
        self.span = _otel.start_span(method, self.path, server) if traced else None  # type: ignore[union-attr]
        self.started = time.perf_counter()

    def attempt_started(self) -> float:
        """Note a new attempt (a retry when it is not the first); returns its start time."""
        self.attempts += 1
        if self.attempts > 1 and self.span is not None:
            _otel.retry_event(self.span, self.attempts)  # type: ignore[union-attr]
        return time.perf_counter()

    def attempt_ended(self, started: float, response: Response | None, error: object) -> None:
        """Log one line for the attempt that began at ``started``."""
        if not self.log:
            return
        ms = (time.perf_counter() - started) * 1000
        outcome = response.status if response is not None else type(error).__name__
        request_id = request_id_of(response.headers) if response is not None else None
        logger.info(
            "%s %s %s %.1fms request_id=%s attempt=%d",
            self.method, self.path, outcome, ms, request_id, self.attempts,
        )  # fmt: skip

    def finish(self, response: Response | None, error: BaseException | None) -> None:
        """End the span and record the metadata once the call (retries included) is over."""
        status = response.status if response is not None else getattr(error, "status_code", None)
        headers = response.headers if response is not None else getattr(error, "headers", {})
        request_id = request_id_of(headers) if headers else None
        if self.span is not None:
            _otel.end_span(self.span, status, request_id, self.attempts - 1, error)  # type: ignore[union-attr]
        if self.sink is not None and response is not None:
            elapsed = time.perf_counter() - self.started
            info = ResponseInfo(
                self.method, self.path, response.status, response.headers, request_id,
                elapsed, max(0, self.attempts - 1),
            )  # fmt: skip
            self.sink.append(info)


def wants_observer(log: bool) -> bool:
    """Whether a call must be observed: logging on, a tracer provider set, or a sink set.

    On every call's path: ``_otel.enabled()``'s check is repeated inline (one global read, no
    call), and ``AsyncArgil._request`` repeats this whole check inline, so that a call nobody
    observes costs no Python call for it.
    """
    return (
        log
        or SINK.get() is not None
        or (_trace is not None and getattr(_trace, "_TRACER_PROVIDER", _trace) is not None)
    )


async def run_observed(
    send: Callable[[Request], Awaitable[Response]], request: Request, observer: CallObserver
) -> Response:
    """Send ``request`` (retries included) inside the observer's span, then finish it."""
    try:
        if observer.span is None:
            response = await send(request)
        else:
            with _otel.current(observer.span):  # type: ignore[union-attr]
                response = await send(request)
    except BaseException as exc:
        observer.finish(None, exc)
        raise
    observer.finish(response, None)
    return response

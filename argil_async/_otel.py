"""OpenTelemetry spans for API calls; imported only when ``opentelemetry-api`` is installed.

One CLIENT span per call, ``argil GET /videos/{id}``, child of the caller's current span,
with the HTTP semantic-convention attributes, the request id, and an event per retry. Until an
application installs a tracer provider, no span is started at all (it could not be recorded).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from ._version import __version__

__all__ = ["current", "enabled", "end_span", "retry_event", "start_span"]

_tracer = trace.get_tracer("argil_async", __version__)
_UNKNOWN = object()


def enabled() -> bool:
    """Whether a tracer provider is installed (``trace.set_tracer_provider`` was called).

    Read from the API's module global, a tenth of a microsecond, where the public
    ``get_tracer_provider()`` costs microseconds (it consults the environment on every call);
    if a future API drops that global, every call is traced, which is merely slower.
    """
    return getattr(trace, "_TRACER_PROVIDER", _UNKNOWN) is not None


def start_span(method: str, template: str, server: tuple[str, int]) -> Span:
    """Start the span of one call (not yet current: see `current()`)."""
    return _tracer.start_span(
        f"argil {method} {template}",
        kind=SpanKind.CLIENT,
        attributes={
            "http.request.method": method,
            "server.address": server[0],
            "server.port": server[1],
            "url.template": template,
        },
    )


@contextmanager
def current(span: Span) -> Iterator[None]:
    """Make ``span`` the current one, so what the call does nests under it."""
    with trace.use_span(span, end_on_exit=False, record_exception=False):
        yield


def retry_event(span: Span, attempt: int) -> None:
    """Mark a retry on the call's span."""
    span.add_event("retry", {"http.request.resend_count": attempt - 1})


def end_span(
    span: Span, status: int | None, request_id: str | None, retries: int, error: object
) -> None:
    """Record the outcome (status, request id, retries, error type) and end the span."""
    if status is not None:
        span.set_attribute("http.response.status_code", status)
    if request_id:
        span.set_attribute("argil.request_id", request_id)
    if retries > 0:
        span.set_attribute("http.request.resend_count", retries)
    if error is not None:
        error_type = str(status) if status is not None else type(error).__qualname__
        span.set_attribute("error.type", error_type)
        span.set_status(Status(StatusCode.ERROR, type(error).__name__))
    span.end()

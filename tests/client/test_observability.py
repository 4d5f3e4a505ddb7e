"""Logging and OpenTelemetry: one line per attempt, one span per call, nothing secret shown."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from support.client_fixtures import client_for

from argil_async import NotFoundError
from argil_async._observe import path_template
from argil_async.testing import ArgilSimulator

_EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """The in-memory exporter behind the global tracer provider (installed once per process)."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


def _argil_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name.startswith("argil ")]


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/videos", "/videos"),
        ("/videos/abc-1", "/videos/{id}"),
        ("/videos/abc-1/render", "/videos/{id}/render"),
        ("/subtitles/videos/v%2F1/export", "/subtitles/videos/{id}/export"),
        ("/webhooks/w1", "/webhooks/{id}"),
    ],
)
def test_path_template(path: str, template: str):
    """Ids in a path are replaced by {id}, so logs and span names stay low-cardinality."""
    assert path_template(path) == template


async def test_one_log_line_per_attempt(sim: ArgilSimulator, caplog: pytest.LogCaptureFixture):
    """At INFO each attempt logs method, template, status, ms, request id and attempt number."""
    caplog.set_level(logging.INFO, logger="argil_async")
    sim.config.server_error_every = 2  # the 2nd request fails once, then its retry succeeds
    async with client_for(sim) as client:
        avatars = await client.avatars.list()
        await client.avatars.get(avatars[0].id)
    lines = [r.getMessage() for r in caplog.records if r.name == "argil_async"]
    attempts = [line for line in lines if "attempt=" in line]
    assert attempts[0].startswith("GET /avatars 200 ")
    assert attempts[1].startswith("GET /avatars/{id} 50")
    assert attempts[1].endswith("attempt=1")
    assert attempts[2].startswith("GET /avatars/{id} 200 ")
    assert attempts[2].endswith("attempt=2")
    received = [r.request_id for r in sim.received]
    assert all(f"request_id={rid}" in line for rid, line in zip(received, attempts, strict=True))
    assert avatars[0].id not in "\n".join(attempts)
    assert sim.api_key not in caplog.text


async def test_silent_when_logger_off(sim: ArgilSimulator, caplog: pytest.LogCaptureFixture):
    """Below INFO (the default WARNING) a successful call logs nothing."""
    caplog.set_level(logging.WARNING, logger="argil_async")
    async with client_for(sim) as client:
        await client.avatars.list()
    assert not [r for r in caplog.records if r.name == "argil_async"]


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
        check=False,
    )


def test_argil_log_env_prints_lines_without_secrets():
    """ARGIL_LOG=info prints a line per request to stderr; neither the key nor a token shows."""
    result = _run(
        """
        from argil_async import Argil
        from argil_async.testing import ArgilSimulator
        with ArgilSimulator.in_thread() as sim:
            with Argil(api_key=sim.api_key, base_url=sim.base_url) as client:
                client.webhooks.create(
                    callback_url="https://hooks.example/argil?token=tok-SECRET-123",
                    events=["VIDEO_GENERATION_SUCCESS"],
                )
                client.avatars.list()
        """,
        ARGIL_LOG="info",
    )
    assert result.returncode == 0, result.stderr
    assert "argil_async INFO POST /webhooks 201 " in result.stderr
    assert "argil_async INFO GET /avatars 200 " in result.stderr
    assert "request_id=req_" in result.stderr
    assert "tok-SECRET-123" not in result.stderr
    assert "sim-test-key" not in result.stderr


def test_no_opentelemetry_import_without_the_extra():
    """Without opentelemetry installed, the client never imports it and observes nothing."""
    result = _run(
        """
        import sys
        sys.modules["opentelemetry"] = None   # as if the [otel] extra were not installed
        import asyncio
        import argil_async._observe as observe
        from argil_async import AsyncArgil
        from argil_async.testing import ArgilSimulator
        async def main():
            async with ArgilSimulator() as sim:
                async with AsyncArgil(api_key=sim.api_key, base_url=sim.base_url) as client:
                    await client.avatars.list()
        asyncio.run(main())
        assert observe._otel is None
        assert not observe.wants_observer(False)
        print(sorted(m for m in sys.modules if m.startswith("opentelemetry") and sys.modules[m]))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


async def test_span_per_call_nested_under_caller(sim: ArgilSimulator, spans: InMemorySpanExporter):
    """Each call is one CLIENT span named after its template, a child of the current span."""
    tracer = trace.get_tracer("test")
    async with client_for(sim) as client:
        with tracer.start_as_current_span("handler") as parent:
            avatars = await client.avatars.list()
            await client.avatars.get(avatars[0].id)
    got = _argil_spans(spans)
    assert [s.name for s in got] == ["argil GET /avatars", "argil GET /avatars/{id}"]
    for span in got:
        assert span.kind is trace.SpanKind.CLIENT
        assert span.parent is not None
        assert span.parent.span_id == parent.get_span_context().span_id
        attrs = dict(span.attributes or {})
        assert attrs["http.request.method"] == "GET"
        assert attrs["server.address"] == "127.0.0.1"
        assert attrs["server.port"] == int(sim.base_url.split(":")[2].split("/")[0])
        assert attrs["http.response.status_code"] == 200
        assert str(attrs["argil.request_id"]).startswith("req_")
        assert "error.type" not in attrs
    assert [str(s.attributes["argil.request_id"]) for s in got] == [  # type: ignore[index]
        r.request_id for r in sim.received
    ]


async def test_span_records_retries_and_errors(sim: ArgilSimulator, spans: InMemorySpanExporter):
    """A retried call has one event per retry; a failed one has error.type and ERROR status."""
    sim.config.server_error_every = 1
    async with client_for(sim, max_retries=2) as client:
        with pytest.raises(Exception, match=r"500|503"):
            await client.avatars.list()
        sim.config.server_error_every = None
        with pytest.raises(NotFoundError):
            await client.videos.get("missing")
    failed, missing = _argil_spans(spans)
    assert [e.name for e in failed.events] == ["retry", "retry"]
    assert failed.attributes["http.request.resend_count"] == 2  # type: ignore[index]
    assert failed.attributes["error.type"] in ("500", "503")  # type: ignore[index]
    assert failed.status.status_code is trace.StatusCode.ERROR
    assert missing.attributes["error.type"] == "404"  # type: ignore[index]
    assert missing.attributes["http.response.status_code"] == 404  # type: ignore[index]


def test_sync_client_spans_nest_under_the_caller(spans: InMemorySpanExporter):
    """The sync facade's calls run on its loop thread yet nest under the caller's span."""
    from argil_async import Argil

    tracer = trace.get_tracer("test")
    with (
        ArgilSimulator.in_thread() as sim,
        Argil(api_key=sim.api_key, base_url=sim.base_url) as c,
        tracer.start_as_current_span("script") as parent,
    ):
        c.avatars.list()
    (span,) = _argil_spans(spans)
    assert span.parent is not None
    assert span.parent.span_id == parent.get_span_context().span_id

"""The OpenAPI checker itself: it must catch what it is there to catch."""

from __future__ import annotations

import json

from support.openapi_check import OpenAPIChecker

from argil_async.testing import RecordedRequest

JSON = {"Content-Type": "application/json"}


def record(
    method: str, route: str, path: str, body: bytes = b"", query: str = ""
) -> RecordedRequest:
    """A recorded request as the simulator would report it."""
    headers = {"x-api-key": "k", "content-type": "application/json"}
    return RecordedRequest("req", method, path, f"{method} {route}", {}, query, headers, body)


def test_accepts_a_conforming_exchange():
    """A valid webhook create and its 201 pass."""
    checker = OpenAPIChecker()
    body = json.dumps(
        {"callbackUrl": "https://h.test", "events": ["VIDEO_GENERATION_SUCCESS"]}
    ).encode()
    reply = {
        "id": "6f1f7f38-3c53-4f0e-8b5b-1c2f8a1f0a11",
        "callbackUrl": "https://h.test",
        "events": ["VIDEO_GENERATION_SUCCESS"],
    }
    checker(
        record("POST", "/webhooks", "/v1/webhooks", body), 201, JSON, json.dumps(reply).encode()
    )
    assert checker.failures == []
    assert checker.checked == 1


def test_flags_a_bad_response_body():
    """A response that breaks its schema is reported."""
    checker = OpenAPIChecker()
    checker(record("GET", "/webhooks", "/v1/webhooks"), 200, JSON, b'[{"events": []}]')
    assert len(checker.failures) == 1
    assert "(response)" in checker.failures[0]


def test_flags_an_accepted_bad_request():
    """A request the server answered 2xx must itself conform."""
    checker = OpenAPIChecker()
    body = json.dumps({"callbackUrl": "https://h.test", "events": [], "extra": 1}).encode()
    checker(record("POST", "/webhooks", "/v1/webhooks", body), 201, JSON, b"{}")
    assert any("(request)" in failure for failure in checker.failures)


def test_undocumented_errors_must_be_error_objects():
    """A 503 must still be {code, message}; a bare string is reported."""
    checker = OpenAPIChecker()
    checker(record("GET", "/voices", "/v1/voices"), 503, JSON, b'{"code": 503, "message": "x"}')
    assert checker.failures == []
    checker(record("GET", "/voices", "/v1/voices"), 503, {"Content-Type": "text/plain"}, b"oops")
    assert len(checker.failures) == 1


def test_text_export_checks_content_type_only():
    """Subtitle export is judged on status and content type."""
    checker = OpenAPIChecker()
    route = "/subtitles/videos/{videoProjectId}/export"
    path = "/v1/subtitles/videos/6f1f7f38-3c53-4f0e-8b5b-1c2f8a1f0a11/export"
    checker(
        record("GET", route, path), 200, {"Content-Type": "text/vtt; charset=utf-8"}, b"WEBVTT\n"
    )
    assert checker.failures == []
    checker(record("GET", route, path), 200, {"Content-Type": "text/plain"}, b"WEBVTT\n")
    assert len(checker.failures) == 1

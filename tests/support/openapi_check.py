"""Check recorded simulator exchanges against tests/data/argil-openapi.yaml with openapi-core.

The simulator calls `checker(request, status, headers, body)` for every API response. Responses
must always conform: a documented status validates fully (headers, body schema); an undocumented
error status (401, 429, 5xx, or 404/405 on an unknown route) must still be the `{code, message}`
Error object. Requests are validated only when the simulator accepted them (2xx), because a 4xx
may be the simulator rightly refusing a bad request. Non-JSON bodies (subtitle export) are
checked on status and content type only.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from werkzeug.datastructures import ImmutableMultiDict

from argil_async.testing import RecordedRequest

SPEC_PATH = Path(__file__).parents[1] / "data" / "argil-openapi.yaml"
SERVER = "https://api.argil.ai"


@functools.cache
def load_document() -> dict[str, Any]:
    """The spec as a plain dict, with the `allOf` nullable idiom made checkable."""
    return dict(_honour_nullable_allof(yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))))


@functools.cache
def load_spec() -> OpenAPI:
    """The parsed spec, loaded once per test session (parsing takes a noticeable moment)."""
    return OpenAPI.from_dict(load_document())


def _honour_nullable_allof(node: Any) -> Any:
    """Rewrite `allOf: [X, {nullable: true}]` as `anyOf: [X, null]`, recursively.

    The document marks `Voice.language`/`gender` nullable that way; OAS 3.0 validators ignore a
    `nullable` inside `allOf`, so without this a documented null would count as a violation.
    """
    if isinstance(node, list):
        return [_honour_nullable_allof(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _honour_nullable_allof(value) for key, value in node.items()}
    parts = out.get("allOf")
    if isinstance(parts, list) and {"nullable": True} in parts:
        rest = [part for part in parts if part != {"nullable": True}]
        del out["allOf"]
        out["anyOf"] = [*rest, {"nullable": True, "enum": [None]}]
    return out


class OpenAPIChecker:
    """Collects spec violations in `failures`, one readable line per problem."""

    def __init__(self, spec: OpenAPI | None = None) -> None:
        self.spec = spec if spec is not None else load_spec()
        self.failures: list[str] = []
        self.checked = 0

    def __call__(
        self, request: RecordedRequest, status: int, headers: Mapping[str, str], body: bytes
    ) -> None:
        self.check(request, status, headers, body)

    def check(
        self, request: RecordedRequest, status: int, headers: Mapping[str, str], body: bytes
    ) -> None:
        """Validate one exchange; problems are appended to `failures`, never raised."""
        self.checked += 1
        label = f"{request.method} {request.path} -> {status}"
        content_type = headers.get("Content-Type", "").split(";")[0].strip()
        problem = _error_body_problem(status, body) if status >= 400 else None
        self._add(label, [problem] if problem else [])
        declared = self._declared_statuses(request)
        if str(status) not in declared:
            self._add(label, [] if status >= 400 else ["undocumented success status"])
            return
        mock_request = _mock_request(request)
        if 200 <= status < 300:
            self._add(label + " (request)", _messages(self.spec.iter_request_errors(mock_request)))
        if content_type not in ("application/json", "") and 200 <= status < 300:
            media = declared[str(status)]
            if content_type not in media:
                self._add(label, [f"content type {content_type!r} not in {sorted(media)}"])
            return
        response = MockResponse(body, status, dict(headers), content_type or "application/json")
        errors = self.spec.iter_response_errors(mock_request, response)
        self._add(label + " (response)", _messages(errors))

    def _declared_statuses(self, request: RecordedRequest) -> dict[str, list[str]]:
        """Status -> declared media types of the matched operation ({} for an unknown route)."""
        template = request.route.split(" ", 1)[1]
        operation = load_document()["paths"].get(template, {}).get(request.method.lower(), {})
        responses = operation.get("responses", {})
        return {str(code): list(spec.get("content", {})) for code, spec in responses.items()}

    def _add(self, label: str, problems: Iterable[str]) -> None:
        self.failures.extend(f"{label}: {problem}" for problem in problems)

    def report(self) -> str:
        """All failures, one per line, for an assertion message."""
        return "\n".join(self.failures)


def _mock_request(request: RecordedRequest) -> MockRequest:
    """An openapi-core request for the recorded one, moved onto the spec's server URL."""
    mock = MockRequest(
        SERVER,
        request.method,
        request.path,
        headers=dict(request.headers),
        data=request.body,
        content_type=request.headers.get("content-type", "application/json"),
    )
    pairs = parse_qsl(request.query_string, keep_blank_values=True)
    mock.parameters.query = ImmutableMultiDict(pairs)
    return mock


def _messages(errors: Iterable[Exception]) -> list[str]:
    """Readable messages, including the schema errors openapi-core nests in `__cause__`."""
    out = []
    for error in errors:
        details = getattr(error.__cause__, "schema_errors", None) or []
        extra = "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in details)
        cause = error.__cause__
        out.append(f"{error}" + (f" [{extra}]" if extra else f" ({cause})" if cause else ""))
    return out


def _error_body_problem(status: int, body: bytes) -> str | None:
    """None when `body` is the documented Error object with `code` equal to the status."""
    try:
        data = json.loads(body)
    except ValueError:
        return f"error body is not JSON: {body[:80]!r}"
    if not isinstance(data, dict) or data.get("code") != status:
        return f"error body lacks code={status}: {data!r}"
    if not isinstance(data.get("message"), str):
        return f"error body lacks a string message: {data!r}"
    return None

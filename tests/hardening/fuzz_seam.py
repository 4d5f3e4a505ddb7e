"""The transport seam for the input fuzzing: answers every request plausibly and judges it.

`SeamTransport` records each `Request` the SDK hands to the transport and answers it like a
healthy server would (objects already READY/IDLE/DONE, empty lists), so that every public
method runs to completion without sockets. `judge()` then checks the outcome the hardening
contract promises: either the call raised `InvalidRequestError` naming one of the arguments,
or it ran, and every request it sent validates against the OpenAPI document.

The document is checked with enumerations opened (the SDK keeps them open on purpose: a value
the API adds tomorrow must pass) and `format: uuid` dropped (ids are opaque strings to the
SDK; the document itself types most ids as plain strings).
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from multidict import CIMultiDict
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest
from support.openapi_check import SERVER, load_document
from werkzeug.datastructures import ImmutableMultiDict

from argil_async import ArgilError, InvalidRequestError, Request, Response

STATS: Counter[str] = Counter()  # cases, untyped, malformed, refused, sent (all properties)
FAILURES: list[str] = []


@functools.cache
def open_spec() -> OpenAPI:
    """The OpenAPI document with enumerations opened and uuid formats dropped."""
    return OpenAPI.from_dict(_opened(copy.deepcopy(load_document())))


def _opened(node: Any) -> Any:
    if isinstance(node, list):
        return [_opened(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _opened(value) for key, value in node.items() if key != "enum"}
    if out.get("format") == "uuid":
        del out["format"]
    return out


def spec_problems(request: Request) -> list[str]:
    """Why ``request`` (as the SDK hands it to the transport) breaks the document, if it does."""
    mock = MockRequest(
        SERVER,
        request.method.lower(),
        "/v1" + request.path,
        headers={"x-api-key": "k", **request.headers},
        data=request.body,
        content_type="application/json" if request.body is not None else None,
    )
    mock.parameters.query = ImmutableMultiDict(list(request.params))
    problems = []
    for error in open_spec().iter_request_errors(mock):
        details = getattr(error.__cause__, "schema_errors", None) or []
        extra = "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in details)
        problems.append(f"{error} {extra or error.__cause__ or ''}".strip())
    return problems


def _reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    all_headers = CIMultiDict({"Content-Type": "application/json", **(headers or {})})
    return Response(status, all_headers, msgspec.json.encode(body))


_ID = re.compile(r"^/(assets|avatars|voices|videos|webhooks)/([^/]+)$")
CDN = "https://cdn.test/file.mp4"


class SeamTransport:
    """Answers like a healthy server with finished objects; records every request."""

    def __init__(self) -> None:
        self.requests: list[Request] = []

    async def send(self, request: Request) -> Response:
        self.requests.append(request)
        method, path = request.method, request.path
        if method == "DELETE":
            return Response(204, CIMultiDict(), b"")
        if path.startswith("/subtitles/videos/"):
            return Response(200, CIMultiDict({"Content-Type": "text/vtt"}), b"WEBVTT\n\n")
        if path.endswith("/render"):
            return _reply(200, {"id": path.split("/")[2], "status": "GENERATING_AUDIO"})
        listing = {
            "/assets": ([], {"X-Page": "1", "X-Total-Pages": "1"}),
            "/videos": ({"videos": [], "totalPages": 1, "currentPage": 1}, {}),
            "/subtitles": ({"items": [], "totalPages": 1, "currentPage": 1}, {}),
            "/avatars": ([], {}),
            "/voices": ([], {}),
            "/webhooks": ([], {}),
        }
        if method == "GET" and path in listing:
            body, headers = listing[path]
            return _reply(200, body, headers)
        if method == "POST" and path == "/videos":  # a new video waits for its render
            return _reply(201, {"id": "video-new", "status": "IDLE"})
        match = _ID.match(path)
        kind = match.group(1) if match else path.strip("/")
        ident = match.group(2) if match else f"{kind}-new"
        return _reply(200 if method != "POST" else 201, _finished(kind, ident))

    @asynccontextmanager
    async def stream(self, url: str) -> AsyncIterator[tuple[Response, AsyncIterator[bytes]]]:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"\x00\x00\x00\x18ftypmp42"

        yield Response(200, CIMultiDict({"Content-Length": "12"}), b""), chunks()

    async def aclose(self) -> None:
        pass


def _finished(kind: str, ident: str) -> dict[str, Any]:
    status = {"assets": "READY", "avatars": "IDLE", "videos": "DONE", "voices": "IDLE"}
    body: dict[str, Any] = {"id": ident, "status": status.get(kind, "IDLE")}
    if kind == "videos":
        body.update(videoUrl=CDN, videoUrlSubtitled=CDN)
    if kind == "webhooks":
        body.update(callbackUrl="https://hooks.test/h", events=["VIDEO_GENERATION_SUCCESS"])
    return body


def _root(field: str) -> str:
    return re.split(r"[.\[]", field, maxsplit=1)[0]


def judge(
    label: str, error: BaseException | None, sent: list[Request], names: set[str]
) -> str | None:
    """Count one case; return why it broke the contract, or None.

    ``names`` are the argument names the call was given (an error must name one of them,
    possibly within: ``moments[0].zoom.level`` names ``moments``).
    """
    STATS["cases"] += 1
    STATS["sent"] += len(sent)
    problem = None
    for request in sent:
        found = spec_problems(request)
        if found:
            STATS["malformed"] += 1
            body = (request.body or b"")[:300].decode("utf-8", "replace")
            problem = f"{request.method} {request.path} {request.params} {body}: {found}"
    if isinstance(error, InvalidRequestError):
        STATS["refused"] += 1
        roots = {_root(part) for part in error.field.split("/")}
        if not roots & names:
            problem = f"InvalidRequestError names {error.field!r}, not one of {sorted(names)}"
    elif error is not None and not isinstance(error, ArgilError):
        STATS["untyped"] += 1
        problem = f"untyped {type(error).__name__}: {error}"
    elif error is not None:
        STATS["other typed"] += 1
    if problem is not None:
        FAILURES.append(f"{label}: {problem}")
    return problem


def describe(kwargs: dict[str, Any]) -> str:
    """A short, printable rendering of a case's arguments, for failure messages."""
    return json.dumps({k: repr(v)[:60] for k, v in kwargs.items()})


def summary() -> str:
    """The counts so far, one line."""
    keys = ("cases", "refused", "sent", "untyped", "malformed", "other typed")
    return ", ".join(f"{key}: {STATS[key]}" for key in keys)


Call = Callable[[], Any]

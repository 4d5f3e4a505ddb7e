"""Status errors: the right class, with the server's details, whatever the body looks like."""

from __future__ import annotations

import pickle

import pytest
from multidict import CIMultiDict
from support.fakes import json_response, scripted_client

from argil_async import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ArgilError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    Response,
    ResponseValidationError,
)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (418, APIStatusError),
        (500, InternalServerError),
        (504, InternalServerError),
    ],
)
async def test_status_maps_to_class(status: int, cls: type[APIStatusError]):
    """Each status code raises its own subclass with code, message and request id."""
    answer = json_response(status, {"code": status, "message": "why"}, {"X-Request-Id": "req-9"})
    client, _ = scripted_client(*[answer] * 3, max_retries=0)
    with pytest.raises(cls) as info:
        await client.avatars.get("a1")
    error = info.value
    assert type(error) is cls
    assert (error.status_code, error.code, error.message, error.request_id) == (
        status,
        status,
        "why",
        "req-9",
    )
    assert error.headers["X-Request-Id"] == "req-9"
    assert error.headers["x-request-id"] == "req-9"
    assert b"why" in error.body


async def test_rate_limit_error_carries_retry_after():
    """A 429 is a RateLimitError with retry_after from the header."""
    answer = json_response(429, {"code": 429, "message": "too many"}, {"Retry-After": "2"})
    client, _ = scripted_client(answer, max_retries=0)
    with pytest.raises(RateLimitError) as info:
        await client.voices.list()
    assert info.value.retry_after == 2.0


async def test_non_json_error_body_keeps_raw_text():
    """An HTML error page still gives the right class, with its text as the message."""
    page = Response(502, CIMultiDict({"Content-Type": "text/html"}), b"<html>Bad Gateway</html>")
    client, _ = scripted_client(page, max_retries=0)
    with pytest.raises(InternalServerError) as info:
        await client.voices.list()
    assert info.value.message == "<html>Bad Gateway</html>"
    assert info.value.code == 502


async def test_error_shape_with_error_key_is_understood():
    """A body of the form {"error": "..."} gives that text as the message."""
    client, _ = scripted_client(json_response(400, {"error": "bad thing"}), max_retries=0)
    with pytest.raises(BadRequestError, match="bad thing"):
        await client.voices.list()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"statusCode": 400, "message": ["name must be a string", "moments is empty"]},
            "name must be a string; moments is empty",
        ),
        ({"code": "E_VALIDATION", "message": "bad moment"}, "bad moment"),
        ({"error": {"code": 7, "message": "nested why"}}, "nested why"),
        ({"message": None, "error": "Bad Request"}, "Bad Request"),
    ],
)
async def test_odd_error_shapes_still_give_the_message(body: object, message: str):
    """Framework-style bodies (a list of messages, a string code, a nested error) read well."""
    client, _ = scripted_client(json_response(400, body), max_retries=0)
    with pytest.raises(BadRequestError) as info:
        await client.voices.list()
    assert info.value.message == message
    assert info.value.code == 400


async def test_garbled_success_body_is_response_validation_error():
    """A 200 whose body is not the expected JSON raises ResponseValidationError."""
    client, _ = scripted_client(Response(200, CIMultiDict(), b"not json"))
    with pytest.raises(ResponseValidationError) as info:
        await client.videos.get("v1")
    assert info.value.body == b"not json"
    assert isinstance(info.value, ArgilError)


def test_connection_errors_say_at_construction_whether_the_request_may_have_left():
    """maybe_sent is a constructor argument (default True) and survives pickling."""
    refused = APIConnectionError("refused", maybe_sent=False)
    copy = pickle.loads(pickle.dumps(refused))
    assert (copy.maybe_sent, str(copy)) == (False, "refused")
    assert APITimeoutError("slow").maybe_sent is True

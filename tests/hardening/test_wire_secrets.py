"""Class 6: the API key and webhook tokens never show in an error, even when the server echoes."""

from __future__ import annotations

import asyncio
import os
import sys
import traceback

import pytest
from aiohttp import web
from wire_server import KEY, hostile_client, hostile_server

from argil_async import (
    Argil,
    ArgilError,
    AuthenticationError,
    BadRequestError,
    ResponseValidationError,
    RetryPolicy,
)
from argil_async._redact import redact_bytes, redact_text, register_secret

TOKEN = "tok-Zx81-very-secret"
HOOK = f"https://hooks.example.com/argil?id=7&token={TOKEN}"


def _leaks(exc: BaseException, secret: str) -> list[str]:
    """Every place the secret (or its first 8 characters) shows on an error."""
    places = {
        "str": str(exc),
        "repr": repr(exc),
        "traceback": "".join(traceback.format_exception(exc)),
        "message": str(getattr(exc, "message", "")),
        "body": getattr(exc, "body", b"").decode("utf-8", "replace"),
        "headers": repr(dict(getattr(exc, "headers", {}))),
    }
    return [name for name, text in places.items() if secret[:8] in text]


def _echo_key(request: web.Request) -> web.Response:
    key = request.headers["x-api-key"]
    return web.json_response(
        {"code": 401, "message": f"invalid api key {key}", "received": {"x-api-key": key}},
        status=401,
        headers={"X-Echo": key, "WWW-Authenticate": f'ApiKey key="{key}"'},
    )


async def test_echoed_key_is_masked_everywhere_on_the_error():
    """A 401 echoing the key in message, body and headers keeps no trace of it on the error."""

    async def handler(request: web.Request) -> web.Response:
        return _echo_key(request)

    async with hostile_client(handler) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.voices.list()
    assert _leaks(caught.value, KEY) == []
    assert "invalid api key ***" in str(caught.value)
    assert caught.value.headers["x-echo"] == "***"  # still case-insensitive


async def test_key_cut_by_the_message_length_limit_is_not_half_shown():
    """A plain-text error whose 500-character cut falls inside the key shows none of it."""

    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="x" * 490 + request.headers["x-api-key"], status=403)

    async with hostile_client(handler) as client:
        with pytest.raises(ArgilError) as caught:
            await client.voices.list()
    assert _leaks(caught.value, KEY) == []


async def test_webhook_token_echoed_in_a_callback_url_is_masked():
    """A 400 quoting the callback URL masks its ?token= value but keeps the rest readable."""

    async def handler(request: web.Request) -> web.Response:
        url = (await request.json())["callbackUrl"]
        return web.json_response({"code": 400, "message": f"callbackUrl: {url}"}, status=400)

    async with hostile_client(handler) as client:
        with pytest.raises(BadRequestError) as caught:
            await client.webhooks.create(callback_url=HOOK, events=["VIDEO_GENERATION_SUCCESS"])
    assert _leaks(caught.value, TOKEN) == []
    assert "https://hooks.example.com/argil?id=7&token=***" in str(caught.value)


async def test_key_in_an_undecodable_success_body_is_masked():
    """A 200 body that fails to decode is kept on ResponseValidationError without the key."""

    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=f"<html>debug: key={request.headers['x-api-key']}</html>")

    async with hostile_client(handler) as client:
        with pytest.raises(ResponseValidationError) as caught:
            await client.voices.list()
    assert _leaks(caught.value, KEY) == []


async def test_sync_facade_masks_the_echoed_key():
    """The sync Argil raises the same masked error."""

    async def handler(request: web.Request) -> web.Response:
        return _echo_key(request)

    async with hostile_server(handler) as base_url:
        policy = RetryPolicy(max_retries=0)

        def call() -> BaseException:
            with Argil(api_key=KEY, base_url=base_url, retry_policy=policy) as client:
                try:
                    client.voices.list()
                except AuthenticationError as exc:
                    return exc
            raise AssertionError("no error")

        error = await asyncio.to_thread(call)
    assert _leaks(error, KEY) == []


async def test_cli_output_never_shows_the_echoed_key():
    """`argil voices list` against an echoing server prints the error without the key."""

    async def handler(request: web.Request) -> web.Response:
        return _echo_key(request)

    async with hostile_server(handler) as base_url:
        env = {**os.environ, "ARGIL_API_KEY": KEY, "ARGIL_BASE_URL": base_url}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "argil_async",
            "voices",
            "list",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
    assert process.returncode == 1
    assert b"invalid api key ***" in err
    assert KEY[:8].encode() not in out + err


@pytest.mark.parametrize(
    "secret", ["abc/def+ghi=jkl", 'quote"and\\slash-key', "unicode-ключ-123"], ids=repr
)
def test_every_spelling_of_a_registered_secret_is_masked(secret):
    """The raw, JSON-escaped and URL-quoted spellings of a key are all masked."""
    import json
    from urllib.parse import quote

    register_secret(secret)
    for spelling in (secret, json.dumps(secret)[1:-1], quote(secret, safe="")):
        assert spelling not in redact_text(f"before {spelling} after")
        assert spelling.encode() not in redact_bytes(f"before {spelling} after".encode())


def test_userinfo_and_query_tokens_in_any_url_are_masked():
    """Passwords in URLs and secret-looking query values are masked; other text is untouched."""
    text = "see https://bob:hunter2@example.com/x?page=2&api_key=K9 and ?signature=abc#frag"
    assert redact_text(text) == (
        "see https://***@example.com/x?page=2&api_key=*** and ?signature=***#frag"
    )
    assert redact_text("plain words stay as they are") == "plain words stay as they are"


async def test_key_echoed_in_another_letter_case_is_masked():
    """A server that upper-cases the key it echoes still leaves no trace of it on the error."""

    async def handler(request: web.Request) -> web.Response:
        key = request.headers["x-api-key"].upper()
        return web.json_response({"message": f"invalid api key {key}"}, status=401)

    async with hostile_client(handler) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.voices.list()
    assert _leaks(caught.value, KEY.upper()) == []
    assert "invalid api key ***" in str(caught.value)

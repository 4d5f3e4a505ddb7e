"""Hostile or odd input: every answer is still a `{code, message}` JSON error, never a crash."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections import deque

import pytest
from aiohttp import web
from sim_http import Api

from argil_async.testing import ArgilSimulator, _api_avatars

BAD_KEY = b"GET /v1/voices HTTP/1.1\r\nHost: t\r\nx-api-key: \xff\xfe\r\nConnection: close\r\n\r\n"
HOOK = {"callbackUrl": "http://[oops/", "events": ["VIDEO_GENERATION_SUCCESS"]}


async def raw_exchange(sim: ArgilSimulator, head: bytes) -> tuple[int, bytes]:
    """Send a hand-written request (bytes aiohttp would never produce); return status and body."""
    host, port = sim.base_url.split("//")[1].split("/")[0].rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(head)
    await writer.drain()
    data = await reader.read()
    writer.close()
    await writer.wait_closed()
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/webhooks", HOOK, "callbackUrl"),
        ("/assets", {"name": "a", "type": "IMAGE", "url": "https://[::1/x.png"}, "url"),
    ],
)
async def test_malformed_url_is_400_not_500(api: Api, path, body, field):
    """A URL that urlsplit cannot parse (an unclosed IPv6 bracket) is a 400 naming the field."""
    reply = await api.post(path, json=body)
    assert reply.status == 400
    assert reply.json()["message"].startswith(f"{field}: must be an absolute")


async def test_undecodable_api_key_is_401(sim: ArgilSimulator):
    """An x-api-key header with non-UTF-8 bytes is refused with a JSON 401, not a crash."""
    status, body = await raw_exchange(sim, BAD_KEY)
    assert status == 401
    assert json.loads(body) == {"code": 401, "message": "x-api-key: invalid API key"}


async def test_bearer_scheme_is_named_in_the_401(api: Api):
    """`Authorization: Bearer` is not accepted, and the 401 says which forms are."""
    reply = await api.get(
        "/voices", auth=False, headers={"Authorization": "Bearer " + api.sim.api_key}
    )
    assert reply.status == 401
    assert reply.json()["message"].startswith("Authorization: only the ApiKey scheme is accepted")


async def test_oversized_body_is_a_json_413(sim: ArgilSimulator, api: Api):
    """A body over the 64 MiB limit is a recorded, JSON 413 error object."""
    reply = await api.post("/webhooks", data=io.BytesIO(b"x" * (64 * 1024 * 1024 + 1)))
    assert reply.status == 413
    assert reply.json()["code"] == 413
    assert reply.json()["message"].startswith("body: ")
    assert sim.received[-1].route == "POST /webhooks"
    assert sim.stats.by_route["POST /webhooks"] == 1


async def test_unexpected_handler_error_is_a_json_500(sim_factory, http, monkeypatch, caplog):
    """A simulator bug surfaces as a logged `{code: 500, message}` answer the hook sees too."""

    async def broken(request: web.Request) -> web.Response:
        raise KeyError("boom")

    monkeypatch.setattr(_api_avatars, "list_voices", broken)
    seen: list[int] = []
    sim = await sim_factory(check_spec=False)
    sim.on_exchange = lambda record, status, headers, body: seen.append(status)
    with caplog.at_level(logging.ERROR, logger="argil_async.testing"):
        reply = await Api(http, sim).get("/voices")
    assert (reply.status, reply.json()["code"]) == (500, 500)
    assert "simulator bug" in reply.json()["message"]
    assert seen == [500]
    assert "boom" in caplog.text


@pytest.mark.parametrize("value", ["1_0", "%D9%A1", "%201"])
async def test_integer_parameters_are_plain_ascii_digits(api: Api, value):
    """pageSize takes ASCII digits only, not int()'s extras (underscores, spaces, other scripts)."""
    reply = await api.get("/assets?pageSize=" + value)
    assert reply.status == 400
    assert reply.json()["message"] == "pageSize: must be an integer between 1 and 100"


async def test_deliveries_are_bounded(sim: ArgilSimulator):
    """sim.deliveries keeps only the most recent deliveries, like sim.received."""
    assert isinstance(sim.deliveries, deque)
    assert sim.deliveries.maxlen == sim.received.maxlen

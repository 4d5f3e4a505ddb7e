"""WebhookReceiver in any framework: handle(), ASGI under uvicorn, shared secrets, signatures."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import socket
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import msgspec
import pytest
import uvicorn
from aiohttp import web
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.routing import Mount

from argil_async import AsyncArgil, Moment
from argil_async.errors import InvalidRequestError, WebhookError, WebhookSignatureError
from argil_async.events import (
    RedactTokenFilter,
    VideoGenerationSucceeded,
    WebhookReceiver,
    _auth,
    _signatures,
    verify_signature,
)
from argil_async.events._signatures import sign
from argil_async.testing import ArgilSimulator

SIGNING = "whsec_" + base64.b64encode(b"argil-simulator-signing-key-0001").decode()


def body_of(video_id: str) -> bytes:
    data = {"videoId": video_id, "videoUrl": "https://x/v.mp4"}
    return json.dumps({"event": "VIDEO_GENERATION_SUCCESS", "data": data}).encode()


def signed(body: bytes, msg_id: str = "msg_1", secret: str = SIGNING) -> dict[str, str]:

    stamp = str(int(time.time()))
    return {
        "Webhook-Id": msg_id,
        "Webhook-Timestamp": stamp,
        "Webhook-Signature": "v1," + sign(body, msg_id, stamp, secret),
    }


async def render_one(client: AsyncArgil, sim: ArgilSimulator, callback_url: str) -> str:
    avatar = next(iter(sim.state.avatars.values()))
    video = await client.videos.create(
        name="hook", moments=[Moment(avatar_id=avatar.id, transcript="Hello there")]
    )
    await client.videos.render(video.id, callback_url=callback_url)
    return video.id


# -- the framework-neutral core ----------------------------------------------------------


async def test_handle_accepts_the_token_from_a_mapping_or_a_query_string():
    """handle() returns the event for a good token, given as a mapping or a raw query string."""
    receiver = WebhookReceiver("tok")
    event = receiver.handle(body_of("v1"), headers={}, query={"token": "tok"})
    assert isinstance(event, VideoGenerationSucceeded)
    assert event.video_id == "v1"
    receiver.handle(body_of("v2"), query="a=1&token=tok")
    assert receiver.received == 2
    assert (await receiver.wait_for_video("v2", timeout=1)).video_id == "v2"


@pytest.mark.parametrize(
    ("body", "query", "status", "reason"),
    [
        (body_of("v"), {"token": "nope"}, 401, "unauthorized"),
        (body_of("v"), None, 401, "unauthorized"),
        (b"not json", {"token": "tok"}, 400, "invalid_body"),
        (b'{"event": "VIDEO_GENERATION_SUCCESS"}', {"token": "tok"}, 400, "invalid_body"),
        (b"x" * 2000, {"token": "tok"}, 413, "too_large"),
    ],
)
async def test_handle_raises_the_status_to_answer(
    body: bytes, query: Any, status: int, reason: str
):
    """Refusals raise WebhookError carrying the HTTP status to send and a counted reason."""
    receiver = WebhookReceiver("tok", max_body_size=1024)
    with pytest.raises(WebhookError) as caught:
        receiver.handle(body, headers={}, query=query)
    assert (caught.value.status_code, caught.value.reason) == (status, reason)
    assert receiver.rejected == {reason: 1}
    assert receiver.received == 0


async def test_handle_takes_asgi_raw_headers_and_query_string():
    """ASGI's (bytes, bytes) header pairs and bytes query_string work as they come."""
    receiver = WebhookReceiver("tok", signing_secret=SIGNING)
    receiver.handle(body_of("v1"), headers=[(b"host", b"x")], query=b"token=tok")
    body = body_of("v2")
    raw = [(name.lower().encode(), value.encode()) for name, value in signed(body).items()]
    assert receiver.handle(body, headers=raw, query=b"").video_id == "v2"
    assert receiver.received == 2


@pytest.mark.parametrize(
    ("arguments", "field"),
    [({"headers": 5}, "headers"), ({"headers": "abc"}, "headers"), ({"query": 5}, "query")],
)
async def test_handle_refuses_headers_or_query_it_cannot_read(arguments: Any, field: str):
    """A caller's wrong type is InvalidRequestError naming it, not an AttributeError."""
    with pytest.raises(InvalidRequestError) as caught:
        WebhookReceiver("tok").handle(body_of("v"), **arguments)
    assert caught.value.field == field


header_names = st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature", "x-a"])
header_values = st.one_of(
    st.text(max_size=40), st.integers(-(10**20), 10**20).map(str), st.just("v1,AAAA v1,")
)
queries = st.one_of(
    st.none(),
    st.sampled_from([{"token": "tok"}, "a=1&token=tok", b"token=tok"]),
    st.text(max_size=60),
    st.binary(max_size=60),
    st.dictionaries(st.sampled_from(["token", "x"]), st.text(max_size=20)),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.one_of(st.binary(max_size=300), st.text(max_size=300), st.just(body_of("v"))),
    headers=st.dictionaries(header_names, header_values, max_size=4),
    query=queries,
)
def test_any_delivery_is_accepted_or_refused_with_a_status(body: Any, headers: Any, query: Any):
    """Whatever arrives, handle() returns an event or raises WebhookError with 400/401/413."""
    receiver = WebhookReceiver("tok", signing_secret=SIGNING, max_body_size=200)
    status = 200
    try:
        receiver.handle(body, headers=headers, query=query)
    except WebhookError as exc:
        status = exc.status_code
    event(f"status {status}")
    assert status in (200, 400, 401, 413)
    assert receiver.received == (status == 200)
    assert sum(receiver.rejected.values()) == (status != 200)


async def test_workers_share_the_secret_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    """With ARGIL_WEBHOOK_SECRET set, every receiver (worker) accepts the others' callback URLs."""
    monkeypatch.setenv("ARGIL_WEBHOOK_SECRET", "shared-Secret_1")
    first, second = WebhookReceiver(), WebhookReceiver()
    assert first.secret == second.secret == "shared-Secret_1"
    url = first.callback_url("https://app.example.com")
    second.handle(body_of("v"), query=url.partition("?")[2])
    assert second.received == 1


async def test_without_the_environment_each_receiver_makes_its_own_secret(
    monkeypatch: pytest.MonkeyPatch,
):
    """No secret and no ARGIL_WEBHOOK_SECRET: a random token per receiver (one process only)."""
    monkeypatch.delenv("ARGIL_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("ARGIL_WEBHOOK_SIGNING_SECRET", raising=False)
    first, second = WebhookReceiver(), WebhookReceiver()
    assert first.secret
    assert second.secret
    assert first.secret != second.secret


async def test_a_401_on_a_random_token_says_to_set_the_shared_secret(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    """The issue's failure (each worker its own token) is named in the refusal's log line."""
    monkeypatch.delenv("ARGIL_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("ARGIL_WEBHOOK_SIGNING_SECRET", raising=False)
    worker_a, worker_b = WebhookReceiver(), WebhookReceiver()
    with pytest.raises(WebhookError):
        worker_b.handle(
            body_of("v"), query=worker_a.callback_url("https://a.example").split("?")[1]
        )
    monkeypatch.setenv("ARGIL_WEBHOOK_SECRET", "shared")
    with pytest.raises(WebhookError):
        WebhookReceiver().handle(body_of("v"), query={"token": "other"})
    lines = [r.getMessage() for r in caplog.records if r.name == "argil_async.events"]
    assert len(lines) == 2
    assert "set ARGIL_WEBHOOK_SECRET" in lines[0]
    assert "ARGIL_WEBHOOK_SECRET" not in lines[1]  # a shared secret was set: no such hint
    assert worker_a.secret not in lines[0]


async def test_signing_only_receiver_needs_a_valid_signature(monkeypatch: pytest.MonkeyPatch):
    """With only a signing secret there is no token; signed deliveries pass, others get 401."""
    monkeypatch.delenv("ARGIL_WEBHOOK_SECRET", raising=False)
    receiver = WebhookReceiver(signing_secret=SIGNING)
    assert receiver.secret is None
    assert receiver.callback_url("https://a.example/") == "https://a.example/argil/webhook"
    body = body_of("v9")
    receiver.handle(body, headers=signed(body))
    for headers in ({}, signed(body, secret="whsec_" + base64.b64encode(b"other").decode())):
        with pytest.raises(WebhookError) as caught:
            receiver.handle(body, headers=headers)
        assert caught.value.status_code == 401
    assert receiver.received == 1


async def test_a_bad_signature_is_refused_even_with_the_token():
    """A delivery that carries a signature must verify: a valid token does not excuse it."""
    receiver = WebhookReceiver("tok", signing_secret=SIGNING)
    body = body_of("v")
    headers = signed(body)
    headers["Webhook-Signature"] = "v1,AAAA"
    with pytest.raises(WebhookSignatureError):
        receiver.handle(body, headers=headers, query={"token": "tok"})
    receiver.handle(body, headers=signed(body), query={})  # the signature alone suffices
    receiver.handle(body_of("w"), headers={}, query={"token": "tok"})  # and so does the token
    assert receiver.received == 2


async def test_a_repeated_webhook_id_is_dispatched_once():
    """A redelivery with a seen webhook-id is answered (returned) but not dispatched again."""
    receiver = WebhookReceiver(signing_secret=SIGNING, max_seen_ids=2)
    seen: list[str] = []
    receiver.on(lambda event: seen.append(event.event))
    body = body_of("v")
    headers = signed(body, "msg_a")
    assert receiver.handle(body, headers=headers).video_id == "v"
    assert receiver.handle(body, headers=headers).video_id == "v"
    assert (receiver.received, receiver.duplicates) == (1, 1)
    for msg_id in ("msg_b", "msg_c"):  # memory is bounded: msg_a is forgotten
        receiver.handle(body, headers=signed(body, msg_id))
    receiver.handle(body, headers=signed(body, "msg_a"))
    assert (receiver.received, receiver.duplicates) == (4, 1)
    await receiver.aclose()
    assert len(seen) == 4


def test_tokens_and_signatures_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch):
    """Both credentials are checked with hmac.compare_digest, never with == on the secret."""
    compared: list[tuple[bytes, bytes]] = []
    real = _auth.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(_auth.hmac, "compare_digest", spy)
    monkeypatch.setattr(_signatures.hmac, "compare_digest", spy)
    receiver = WebhookReceiver("tok", signing_secret=SIGNING)
    receiver.handle(body_of("v"), query={"token": "tok"})
    assert compared == [(b"tok", b"tok")]
    compared.clear()
    body = body_of("w")
    headers = signed(body)
    receiver.handle(body, headers=headers)
    good = headers["Webhook-Signature"].encode()  # the whole "v1,<base64>" entry
    assert compared == [(good, good)]


# -- simulator deliveries ----------------------------------------------------------------


async def test_simulator_signs_deliveries_and_the_receiver_drops_duplicates(
    sim_factory: Any, monkeypatch: pytest.MonkeyPatch
):
    """Signed, duplicated simulator deliveries reach a signing-only receiver once each."""
    monkeypatch.delenv("ARGIL_WEBHOOK_SECRET", raising=False)
    sim = await sim_factory(webhook_signing_secret=SIGNING, duplicate_deliveries=True)
    receiver = WebhookReceiver(signing_secret=SIGNING)
    async with (
        receiver.serve() as url,
        AsyncArgil(api_key=sim.api_key, base_url=sim.base_url) as client,
    ):
        await client.webhooks.create(callback_url=url, events=["VIDEO_GENERATION_SUCCESS"])
        avatar = next(iter(sim.state.avatars.values()))
        video = await client.videos.create(
            name="s", moments=[Moment(avatar_id=avatar.id, transcript="Hi")]
        )
        await client.videos.render(video.id)
        event = await receiver.wait_for_video(video.id, timeout=10)
        await sim.drain()
    assert event.video_id == video.id
    assert [d.status for d in sim.deliveries] == [200, 200]
    assert sim.deliveries[0].headers["webhook-id"] == sim.deliveries[1].headers["webhook-id"]
    assert (receiver.received, receiver.duplicates) == (1, 1)


async def test_simulator_signs_each_webhook_with_its_own_secret(
    sim_factory: Any, monkeypatch: pytest.MonkeyPatch
):
    """Per-webhook secrets: each endpoint verifies with its own secret only; none unsigned."""
    monkeypatch.delenv("ARGIL_WEBHOOK_SECRET", raising=False)
    other = "whsec_" + base64.b64encode(b"a-second-endpoint-signing-key-02").decode()
    sim = await sim_factory()
    first, second, plain = (
        WebhookReceiver(signing_secret=SIGNING),
        WebhookReceiver(signing_secret=other),
        WebhookReceiver("plain-token"),
    )
    events = ["VIDEO_GENERATION_SUCCESS"]
    async with (
        first.serve() as first_url,
        second.serve() as second_url,
        plain.serve() as plain_url,
        AsyncArgil(api_key=sim.api_key, base_url=sim.base_url) as client,
    ):
        secrets = {first_url: SIGNING, second_url: other, plain_url: None}
        for url, secret in secrets.items():
            webhook = await client.webhooks.create(callback_url=url, events=events)
            sim.state.webhooks[webhook.id].signing_secret = secret
        video_id = await render_one(client, sim, callback_url=plain_url)
        for receiver in (first, second, plain):
            await receiver.wait_for_video(video_id, timeout=10)
        await sim.drain()
    assert [d.status for d in sim.deliveries] == [200] * 4
    assert (first.received, second.received, plain.received) == (1, 1, 1)
    assert plain.duplicates == 1  # the render's callback and the webhook's: one event, once
    for delivery in sim.deliveries:
        secret = secrets[delivery.url]
        body = msgspec.json.encode(delivery.payload)  # the bytes the simulator sent
        if secret is None:
            assert "webhook-signature" not in delivery.headers
            continue
        verify_signature(body, delivery.headers, secret)
        wrong = other if secret == SIGNING else SIGNING
        with pytest.raises(WebhookSignatureError):
            verify_signature(body, delivery.headers, wrong)


async def test_simulator_delivers_to_loopback_only_unless_told(sim: ArgilSimulator):
    """A webhook on a public host is recorded as not sent; nothing leaves the machine."""
    async with AsyncArgil(api_key=sim.api_key, base_url=sim.base_url) as client:
        await client.webhooks.create(
            callback_url="https://hooks.example.com/argil", events=["VIDEO_GENERATION_SUCCESS"]
        )
        await render_one(client, sim, callback_url="https://other.example.net/cb")
        await sim.wait_until(lambda: len(sim.deliveries) == 2)
    assert sim.config.deliver_to_any_host is False
    assert {d.url for d in sim.deliveries} == {
        "https://hooks.example.com/argil",
        "https://other.example.net/cb",
    }
    assert all(d.status is None and "loopback" in (d.error or "") for d in sim.deliveries)


# -- ASGI: FastAPI under a real uvicorn ---------------------------------------------------


async def serve_uvicorn(app: Any) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_config=None, access_log=True, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    return server, task, f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
async def fastapi_server() -> AsyncIterator[tuple[WebhookReceiver, str, FastAPI]]:
    receiver = WebhookReceiver("Tok3n-never-logged")
    app = FastAPI()
    app.mount("/argil", receiver.asgi)
    server, task, base_url = await serve_uvicorn(app)
    try:
        yield receiver, base_url, app
    finally:
        server.should_exit = True
        await task


async def test_fastapi_mount_receives_simulator_callbacks_without_logging_the_token(
    sim: ArgilSimulator,
    fastapi_server: tuple[WebhookReceiver, str, FastAPI],
    caplog: pytest.LogCaptureFixture,
):
    """app.mount("/argil", receiver.asgi) takes the render callback; the access log has no token."""
    receiver, base_url, _ = fastapi_server
    log_filter = RedactTokenFilter.install()
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    try:
        async with AsyncArgil(api_key=sim.api_key, base_url=sim.base_url) as client:
            video_id = await render_one(client, sim, receiver.callback_url(base_url))
            event = await receiver.wait_for_video(video_id, timeout=10)
    finally:
        for name in ("uvicorn.access", "gunicorn.access", "aiohttp.access"):
            logging.getLogger(name).removeFilter(log_filter)
    assert event.video_id == video_id
    lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert any("/argil/webhook?token=***" in line and " 200" in line for line in lines), lines
    assert not any("Tok3n" in line for line in lines)


async def test_asgi_app_answers_refusals_and_other_methods(
    fastapi_server: tuple[WebhookReceiver, str, FastAPI],
):
    """Through ASGI: 401 without the token, 413 past the limit, 405 for GET, 200 when right."""
    receiver, base_url, _ = fastapi_server
    url = receiver.callback_url(base_url)
    async with aiohttp.ClientSession() as session:
        statuses = []
        for method, target, data in [
            ("POST", url.partition("?")[0], body_of("v")),
            ("POST", url, b"x" * (receiver.max_body_size + 1)),
            ("GET", url, b""),
            ("POST", url, body_of("v")),
        ]:
            async with session.request(method, target, data=data) as response:
                statuses.append(response.status)
    assert statuses == [401, 413, 405, 200]
    assert receiver.rejected == {"unauthorized": 1, "too_large": 1}


async def test_mount_adds_a_post_route_to_a_fastapi_app(sim: ArgilSimulator):
    """receiver.mount(fastapi_app) works (it used to fail on add_post) and takes callbacks."""
    receiver = WebhookReceiver("t0ken")
    app = FastAPI()
    receiver.mount(app)
    server, task, base_url = await serve_uvicorn(app)
    try:
        async with AsyncArgil(api_key=sim.api_key, base_url=sim.base_url) as client:
            video_id = await render_one(client, sim, receiver.callback_url(base_url))
            assert (await receiver.wait_for_video(video_id, timeout=10)).video_id == video_id
    finally:
        server.should_exit = True
        await task


def _router_app(receiver: WebhookReceiver) -> FastAPI:
    router = APIRouter()
    receiver.mount(router)  # the call that used to fail: no add_post on an APIRouter
    app = FastAPI()
    app.include_router(router, prefix="/hooks")
    return app


def _starlette_app(receiver: WebhookReceiver) -> Starlette:
    app = Starlette()
    receiver.mount(app)
    return app


@pytest.mark.parametrize(
    ("build", "path"),
    [
        (_router_app, "/hooks/argil/webhook"),
        (_starlette_app, "/argil/webhook"),
        (lambda r: Starlette(routes=[Mount("/argil", app=r.asgi)]), "/argil/webhook"),
    ],
    ids=["fastapi-router", "starlette-mount-method", "starlette-app-mount"],
)
def test_mount_on_a_fastapi_router_and_on_starlette(build: Any, path: str):
    """receiver.mount(APIRouter) + include_router, and Starlette (mount(), Mount) take POSTs."""
    receiver = WebhookReceiver("r0uter")
    with TestClient(build(receiver)) as http:
        good = http.post(f"{path}?token=r0uter", content=body_of("v1"))
        bad = http.post(f"{path}?token=nope", content=body_of("v2"))
        wrong_method = http.get(f"{path}?token=r0uter")
    assert (good.status_code, bad.status_code, wrong_method.status_code) == (200, 401, 405)
    assert receiver.received == 1
    assert receiver.rejected == {"unauthorized": 1}
    assert "r0uter" not in repr(receiver)


def test_mount_refuses_an_unknown_app_with_a_typed_error():
    """mount() on something that is neither aiohttp nor Starlette says what to do instead."""
    with pytest.raises(ValueError, match=r"receiver\.asgi"):
        WebhookReceiver("t").mount(object())


async def test_asgi_lifespan_closes_the_receiver():
    """Run alone under an ASGI server, the app completes startup and closes on shutdown."""
    receiver = WebhookReceiver("t")
    stream = receiver.events()
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    await receiver.asgi({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert [event async for event in stream] == []


# -- the log filter -----------------------------------------------------------------------


def import_gunicorn() -> Any:
    """gunicorn (the test extra has it): a venv made before it joined skips, CI fails instead."""
    if os.environ.get("CI", "").lower() != "true":
        pytest.importorskip("gunicorn", reason="pip install -e '.[test]' brings gunicorn")
    import gunicorn.config
    import gunicorn.glogging

    return gunicorn


GUNICORN_FORMAT = '%(h)s "%(r)s" %(s)s q=%(q)s raw=%({raw_uri}e)s qs=%({query_string}e)s %(x)s'


@pytest.fixture
def gunicorn_loggers() -> Iterator[None]:
    """Give back gunicorn's loggers as they were (its Logger adds handlers, we add filters)."""
    loggers = [logging.getLogger(name) for name in ("gunicorn.access", "gunicorn.error")]
    saved = [(lg, lg.handlers[:], lg.filters[:], lg.level, lg.propagate) for lg in loggers]
    yield
    for lg, handlers, filters, level, propagate in saved:
        for handler in lg.handlers:
            if handler not in handlers:
                handler.close()
        lg.handlers, lg.filters, lg.level, lg.propagate = handlers, filters, level, propagate


def test_filter_redacts_gunicorn_access_records(tmp_path: Path, gunicorn_loggers: None):
    """gunicorn's own Logger.access() (args: its SafeAtoms mapping) writes token=*** everywhere."""
    gunicorn = import_gunicorn()
    cfg = gunicorn.config.Config()
    cfg.set("accesslog", str(tmp_path / "access.log"))
    cfg.set("access_log_format", GUNICORN_FORMAT)
    gunicorn_log = gunicorn.glogging.Logger(cfg)
    RedactTokenFilter.install("gunicorn.access")
    records: list[logging.LogRecord] = []
    capture = logging.Handler()
    capture.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("gunicorn.access").addHandler(capture)
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": "/argil/webhook?a=1&token=S3cr3t",
        "QUERY_STRING": "a=1&token=S3cr3t",
        "PATH_INFO": "/argil/webhook",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }
    response = SimpleNamespace(status="200 OK", sent=2, headers=[("Content-Type", "text/plain")])
    gunicorn_log.access(response, SimpleNamespace(headers=[]), environ, timedelta(seconds=0.01))
    for handler in logging.getLogger("gunicorn.access").handlers:
        handler.flush()
    written = (tmp_path / "access.log").read_text()
    assert isinstance(records[0].args, gunicorn.glogging.SafeAtoms)
    assert records[0].getMessage() + "\n" == written
    assert written == (
        '127.0.0.1 "POST /argil/webhook?a=1&token=*** HTTP/1.1" 200 q=a=1&token=*** '
        "raw=/argil/webhook?a=1&token=*** qs=a=1&token=*** -\n"
    )


@pytest.mark.slow
async def test_gunicorn_asgi_workers_take_deliveries_and_log_no_token(tmp_path: Path):
    """gunicorn -k asgi, 2 workers, filter installed by the app: deliveries 200, log redacted."""
    import_gunicorn()
    secret = "gunic0rn-Shared-token-987"
    (tmp_path / "hook_app.py").write_text(
        "from argil_async.events import RedactTokenFilter, WebhookReceiver\n"
        "RedactTokenFilter.install()\n"
        "app = WebhookReceiver().asgi  # the token: ARGIL_WEBHOOK_SECRET\n"
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path / "access.log"
    command = [
        sys.executable, "-m", "gunicorn", "-k", "asgi", "-w", "2", "--chdir", str(tmp_path),
        "-b", f"127.0.0.1:{port}", "--access-logfile", str(log),
        "--access-logformat", GUNICORN_FORMAT, "hook_app:app",
    ]  # fmt: skip
    env = {**os.environ, "ARGIL_WEBHOOK_SECRET": secret}
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/argil/webhook"
    statuses: list[int] = []
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
            await _until_up(http, url)
            for n in range(6):
                query = {"token": secret} if n % 3 else {"token": "wrong"}
                async with http.post(url, params=query, data=body_of(f"v{n}")) as response:
                    statuses.append(response.status)
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)
    assert statuses == [401, 200, 200, 401, 200, 200]
    text = log.read_text()
    assert text.count("token=***") >= 3 * 6, text
    assert secret not in text
    assert "wrong" not in text


async def _until_up(http: aiohttp.ClientSession, url: str) -> None:
    for _ in range(600):
        try:
            async with http.get(url) as response:
                if response.status == 405:
                    return
        except aiohttp.ClientError:
            await asyncio.sleep(0.05)
    pytest.fail("gunicorn did not start")


async def test_filter_redacts_aiohttp_access_extras_for_json_formatters():
    """aiohttp's default access log also passes the request line as an extra: masked too."""
    receiver = WebhookReceiver("aio-Tok3n")
    app = web.Application()
    receiver.mount(app)  # with aiohttp's default access logger, which records query strings
    records: list[logging.LogRecord] = []
    capture = logging.Handler()
    capture.emit = records.append  # type: ignore[method-assign]
    access = logging.getLogger("aiohttp.access")
    access.addHandler(capture)
    log_filter = RedactTokenFilter.install("aiohttp.access")
    level = access.level
    access.setLevel(logging.INFO)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = receiver.callback_url(f"http://127.0.0.1:{runner.addresses[0][1]}")
        async with aiohttp.ClientSession() as http, http.post(url, data=body_of("v")) as response:
            assert response.status == 200
    finally:
        await runner.cleanup()
        access.removeHandler(capture)
        access.removeFilter(log_filter)
        access.setLevel(level)
    assert len(records) == 1
    fields = vars(records[0])
    assert fields["first_request_line"] == "POST /argil/webhook?token=*** HTTP/1.1"
    assert not [name for name, value in fields.items() if "aio-Tok3n" in str(value)]


def test_filter_masks_literal_secrets_and_keeps_other_parameters():
    """Extra secrets are masked wherever they appear; other query parameters are untouched."""
    log_filter = RedactTokenFilter(secrets=("s3cr3t",))
    assert log_filter.redact("GET /x?page=2&Token=abc&s=s3cr3t") == "GET /x?page=2&Token=***&s=***"
    assert log_filter.redact("/x?mytoken=1") == "/x?mytoken=1"

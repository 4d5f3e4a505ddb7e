"""Client construction: configuration sources, URL rules, and keeping the key secret."""

from __future__ import annotations

import logging

import pytest
from support.fakes import ScriptedTransport, json_response, scripted_client

from argil_async import (
    DEFAULT_BASE_URL,
    Argil,
    AsyncArgil,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    RetryPolicy,
    Timeout,
)

SECRET = "sk-very-secret-key-0123456789"


def test_key_and_url_from_environment(monkeypatch: pytest.MonkeyPatch):
    """ARGIL_API_KEY and ARGIL_BASE_URL are read at construction."""
    monkeypatch.setenv("ARGIL_API_KEY", SECRET)
    monkeypatch.setenv("ARGIL_BASE_URL", "https://eu.api.test/v1/")
    client = AsyncArgil()
    assert client.base_url == "https://eu.api.test/v1"
    monkeypatch.delenv("ARGIL_BASE_URL")
    assert AsyncArgil().base_url == DEFAULT_BASE_URL


def test_missing_key_names_both_ways(monkeypatch: pytest.MonkeyPatch):
    """Without a key the error says to pass api_key or set ARGIL_API_KEY."""
    monkeypatch.delenv("ARGIL_API_KEY", raising=False)
    with pytest.raises(InvalidRequestError) as info:
        AsyncArgil()
    assert "api_key=" in str(info.value)
    assert "ARGIL_API_KEY" in str(info.value)


@pytest.mark.parametrize(
    "url", ["http://api.argil.ai/v1", "http://10.0.0.5:8080/v1", "ftp://x/v1", "not a url"]
)
def test_plain_http_refused_except_loopback(url: str):
    """http:// base URLs are refused unless the host is a loopback address."""
    with pytest.raises(InvalidRequestError, match="base_url"):
        AsyncArgil(api_key=SECRET, base_url=url)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/v1", "http://localhost/v1", "http://[::1]:9/v1"]
)
def test_plain_http_allowed_for_loopback(url: str):
    """The simulator's loopback http URLs are accepted."""
    assert AsyncArgil(api_key=SECRET, base_url=url).base_url == url


def test_repr_hides_the_key():
    """repr() shows the base URL and never the key (the client's configuration's neither)."""
    assert SECRET not in repr(AsyncArgil(api_key=SECRET)._config)
    text = repr(AsyncArgil(api_key=SECRET))
    assert SECRET not in text
    assert SECRET[:6] not in text
    assert DEFAULT_BASE_URL in text


async def test_key_absent_from_errors_and_logs(caplog: pytest.LogCaptureFixture):
    """Retry logs and status errors never contain the API key."""
    caplog.set_level(logging.DEBUG)
    transport = ScriptedTransport(
        json_response(503, {"code": 503, "message": "busy"}),
        json_response(404, {"code": 404, "message": "no such video"}),
    )
    client = AsyncArgil(api_key=SECRET, transport=transport, retry_policy=RetryPolicy(wait_scale=0))
    with pytest.raises(NotFoundError) as info:
        await client.videos.get("v1")
    assert caplog.records, "the retry was logged"
    assert all(SECRET not in record.getMessage() for record in caplog.records)
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value)
    assert len(transport.requests) == 2


async def test_context_manager_closes_transport():
    """async with closes the transport on exit."""
    client, transport = scripted_client()
    async with client:
        pass
    assert transport.closed


def test_max_retries_is_the_retry_policys():
    """A retry_policy's max_retries is the client's max_retries (sync client too)."""
    policy = RetryPolicy(max_retries=7)
    assert AsyncArgil(api_key="k", retry_policy=policy).max_retries == 7
    with Argil(api_key="k", retry_policy=policy) as client:
        assert client.max_retries == 7
        assert client.with_options(timeout=5).max_retries == 7
        assert client.with_options(max_retries=1).max_retries == 1
    assert AsyncArgil(api_key="k", max_retries=4).max_retries == 4


async def test_the_policys_max_retries_is_what_is_sent():
    """The resends the client makes match the max_retries it reports."""
    answers = [json_response(503, {"code": 503, "message": "busy"}) for _ in range(5)]
    transport = ScriptedTransport(*answers)
    client = AsyncArgil(
        api_key="k", transport=transport, retry_policy=RetryPolicy(max_retries=3, wait_scale=0)
    )
    with pytest.raises(InternalServerError):
        await client.avatars.list()
    assert len(transport.requests) == client.max_retries + 1 == 4


def test_with_options_replaces_the_config_and_checks_once():
    """with_options returns a client on a new frozen config; a bad option fails at once."""
    client = AsyncArgil(api_key="k", timeout=30)
    copy = client.with_options(timeout=Timeout(read=5, total=9), extra_headers={"x-a": "1"})
    assert copy._config is not client._config
    assert copy._config.api_key == client._config.api_key
    assert (copy.timeout.total, copy.max_retries, copy.base_url) == (9, 2, client.base_url)
    assert (client.timeout.read, client.timeout.total) == (30.0, None)
    with pytest.raises(AttributeError):
        copy._config.base_url = "https://elsewhere.test"  # type: ignore[misc]
    with pytest.raises(InvalidRequestError, match="max_retries"):
        client.with_options(max_retries=-1)


def test_public_attributes_are_the_same_on_both_clients():
    """Argil reports AsyncArgil's public attributes, read from the same config."""
    kwargs = {"api_key": "k", "base_url": "https://eu.api.test/v1", "timeout": 12.0}
    aclient = AsyncArgil(max_response_size=1000, **kwargs)  # type: ignore[arg-type]
    with Argil(max_response_size=1000, **kwargs) as client:  # type: ignore[arg-type]
        for name in ("base_url", "timeout", "max_retries", "max_response_size"):
            assert getattr(client, name) == getattr(aclient, name), name

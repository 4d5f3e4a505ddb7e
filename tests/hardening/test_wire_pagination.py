"""Class 4: pagination never loops forever and never truncates silently on garbled metadata."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from support.fakes import ScriptedTransport, json_response, scripted_client

from argil_async import Argil, Request, Response, RetryPolicy

Server = Callable[[Request], Response]


def _number(request: Request) -> int:
    return int(dict(request.params)["page"])


def _assets(page: int, count: int = 2) -> list[dict[str, Any]]:
    return [{"id": f"a{page}-{i}", "status": "READY"} for i in range(count)]


def _header_server(pages: int, headers: Callable[[int], dict[str, str]]) -> Server:
    """/assets with ``pages`` full pages of 2, then empty pages; headers chosen per page."""

    def answer(request: Request) -> Response:
        number = _number(request)
        return json_response(200, _assets(number) if number <= pages else [], headers(number))

    return answer


def _video_server(pages: int, envelope: Callable[[int], dict[str, Any]]) -> Server:
    """/videos with ``pages`` full pages of 2, then empty ones; envelope fields per page."""

    def answer(request: Request) -> Response:
        number = _number(request)
        videos = [{"id": f"v{number}-{i}"} for i in range(2)] if number <= pages else []
        return json_response(200, {"videos": videos, **envelope(number)})

    return answer


def _style_server(pages: int, envelope: Callable[[int], dict[str, Any]]) -> Server:
    """/subtitles with ``pages`` full pages of 2, then empty ones; envelope fields per page."""

    def answer(request: Request) -> Response:
        number = _number(request)
        items = [{"id": f"s{number}-{i}", "name": "x"} for i in range(2)] if number <= pages else []
        return json_response(200, {"items": items, **envelope(number)})

    return answer


async def _ids(listing: str, server: Server, limit: int = 50) -> tuple[list[str], int]:
    """Every id the async listing yields (page size 2) and how many requests it took."""
    client, transport = scripted_client(*[server] * limit)
    paginator = getattr(client, listing).list(page_size=2)
    ids = [item.id async for item in paginator]
    return ids, len(transport.requests)


def _sync_ids(listing: str, server: Server, limit: int = 50) -> tuple[list[str], int]:
    """The same through the sync facade."""
    transport = ScriptedTransport(*[server] * limit)
    policy = RetryPolicy(max_retries=0)
    with Argil(
        api_key="k" * 20,
        base_url="https://api.example.test/v1",
        transport=transport,
        retry_policy=policy,
    ) as client:
        ids = [item.id for item in getattr(client, listing).list(page_size=2)]
    return ids, len(transport.requests)


def _alternating(request: Request) -> Response:
    """A server without X-Total-Pages that answers odd pages with A and even pages with B."""
    return json_response(200, _assets(1 + (_number(request) + 1) % 2))


async def test_server_alternating_two_pages_stops_after_both(caplog):
    """Pages A, B, A, B... with no page count: A and B once each, then a logged stop."""
    caplog.set_level(logging.WARNING, "argil_async")
    ids, requests = await _ids("assets", _alternating)
    assert ids == ["a1-0", "a1-1", "a2-0", "a2-1"]
    assert requests == 3
    assert "page 3 repeats page 1" in caplog.text


def test_sync_facade_stops_the_alternating_server_the_same_way():
    """The sync Paginator yields the same items and sends the same requests."""
    assert _sync_ids("assets", _alternating) == (["a1-0", "a1-1", "a2-0", "a2-1"], 3)


async def test_cycle_over_three_pages_is_detected():
    """A, B, C, A...: a repeat of any earlier page (not just the previous one) stops."""

    def cycling(request: Request) -> Response:
        return json_response(200, _assets((_number(request) - 1) % 3))

    ids, requests = await _ids("assets", cycling)
    assert len(ids) == 6
    assert requests == 4


@pytest.mark.parametrize(
    "headers",
    [
        lambda n: {"X-Total-Pages": "0"},
        lambda n: {"X-Page": "1", "X-Total-Pages": "3"},
        lambda n: {"X-Page": "1"},
        lambda n: {"X-Total-Pages": "-1", "X-Page-Size": "0"},
        lambda n: {"X-Page": "0", "X-Total-Count": "-5"},
    ],
    ids=["total-0", "page-stuck-at-1", "page-stuck-no-total", "negative", "page-0"],
)
async def test_garbled_headers_do_not_truncate_assets(headers):
    """Three full pages under garbled headers all arrive."""
    ids, _ = await _ids("assets", _header_server(3, headers))
    assert ids == [f"a{p}-{i}" for p in (1, 2, 3) for i in (0, 1)]


@pytest.mark.parametrize(
    "envelope",
    [
        lambda n: {"totalPages": -1, "currentPage": n, "itemsPerPage": 2},
        lambda n: {"totalPages": 0, "currentPage": n},
        lambda n: {"totalPages": 3, "currentPage": 1, "itemsPerPage": 2},
        lambda n: {"currentPage": 1, "itemsPerPage": -4},
        lambda n: {"totalPages": 3, "itemsPerPage": 50},  # a page size the server did not use
    ],
    ids=["total-minus-1", "total-0", "current-stuck-at-1", "negative-size", "wrong-size"],
)
@pytest.mark.parametrize("listing", ["videos", "subtitles"])
async def test_garbled_envelopes_do_not_truncate(listing, envelope):
    """Three full pages under a garbled /videos or /subtitles envelope all arrive."""
    server = (_video_server if listing == "videos" else _style_server)(3, envelope)
    ids, _ = await _ids(listing, server)
    assert len(ids) == 6


@pytest.mark.parametrize(
    ("headers", "warning"),
    [
        ({"X-Total-Pages": "0"}, "reported 0 pages, yet page 1 has items"),
        ({"X-Total-Pages": "-1"}, "reported -1 pages, yet page 1 has items"),
        ({"X-Page": "1"}, "page 2 came back labelled page 1"),
    ],
)
async def test_contradicting_metadata_is_logged_once(headers, warning, caplog):
    """A contradiction is logged on the argil_async logger, once per iteration."""
    caplog.set_level(logging.WARNING, "argil_async")
    await _ids("assets", _header_server(3, lambda n: headers))
    assert caplog.text.count(warning) == 1
    assert all(record.name == "argil_async" for record in caplog.records)


async def test_empty_page_before_the_announced_last_is_logged(caplog):
    """A listing announcing 5 pages whose page 3 is empty stops there, with a warning."""
    caplog.set_level(logging.WARNING, "argil_async")
    ids, requests = await _ids("assets", _header_server(2, lambda n: {"X-Total-Pages": "5"}))
    assert len(ids) == 4
    assert requests == 3
    assert "page 3 is empty though the server reported 5 pages" in caplog.text


async def test_honest_short_page_before_a_believable_count_does_not_end_the_listing():
    """A short page 1 of 2 (the server's page size differs from ours) does not hide page 2."""
    pages = [
        json_response(200, _assets(1, 1), {"X-Total-Pages": "2"}),
        json_response(200, _assets(2, 1), {"X-Total-Pages": "2"}),
    ]
    client, transport = scripted_client(*pages)
    ids = [asset.id async for asset in client.assets.list(page_size=2)]
    assert ids == ["a1-0", "a2-0"]
    assert len(transport.requests) == 2


async def test_well_formed_listings_log_nothing(caplog):
    """Honest metadata gives every page and no warning."""
    caplog.set_level(logging.WARNING, "argil_async")
    ids, requests = await _ids(
        "videos",
        _video_server(3, lambda n: {"totalPages": 3, "currentPage": n, "itemsPerPage": 2}),
    )
    assert len(ids) == 6
    assert requests == 3
    assert caplog.records == []


@pytest.mark.parametrize(
    ("envelope", "warning"),
    [
        (lambda n: {"totalPages": -1, "currentPage": n}, "reported -1 pages, yet page 1 has"),
        (lambda n: {"totalPages": 3, "currentPage": 1}, "page 2 came back labelled page 1"),
    ],
    ids=["total-minus-1", "current-stuck-at-1"],
)
async def test_contradicting_envelopes_are_logged(envelope, warning, caplog):
    """A garbled /videos envelope gives every page and one warning on the argil_async logger."""
    caplog.set_level(logging.WARNING, "argil_async")
    ids, _ = await _ids("videos", _video_server(3, envelope))
    assert len(ids) == 6
    assert caplog.text.count(warning) == 1

"""Pagination stop rules, with metadata present, missing or garbled."""

from __future__ import annotations

from typing import Any

import pytest
from support.fakes import json_response, scripted_client

from argil_async import InvalidRequestError, Request, Response


def _assets(start: int, count: int) -> list[dict[str, Any]]:
    return [{"id": f"a{i}", "status": "READY"} for i in range(start, start + count)]


def _page_of(request: Request) -> int:
    return int(dict(request.params)["page"])


async def test_header_pagination_stops_at_total_pages():
    """/assets stops at X-Total-Pages even when the last page is full."""
    pages = [
        json_response(
            200, _assets(0, 2), {"X-Page": "1", "X-Page-Size": "2", "X-Total-Pages": "2"}
        ),
        json_response(
            200, _assets(2, 2), {"X-Page": "2", "X-Page-Size": "2", "X-Total-Pages": "2"}
        ),
    ]
    client, transport = scripted_client(*pages)
    ids = [asset.id async for asset in client.assets.list(page_size=2)]
    assert ids == ["a0", "a1", "a2", "a3"]
    assert [_page_of(r) for r in transport.requests] == [1, 2]


async def test_missing_headers_stop_on_short_page():
    """Without headers, a page shorter than the page size is the last one."""
    client, transport = scripted_client(
        json_response(200, _assets(0, 3)), json_response(200, _assets(3, 1))
    )
    ids = [asset.id async for asset in client.assets.list(page_size=3)]
    assert ids == ["a0", "a1", "a2", "a3"]
    assert len(transport.requests) == 2


async def test_missing_headers_stop_on_empty_page():
    """Without headers, an empty page ends the iteration."""
    client, transport = scripted_client(json_response(200, _assets(0, 20)), json_response(200, []))
    assert len([a async for a in client.assets.list()]) == 20
    assert len(transport.requests) == 2


async def test_garbled_headers_do_not_loop_forever():
    """Garbled numbers are ignored and a server repeating page 1 is detected."""
    garbled = {"X-Page": "one", "X-Total-Pages": "-3", "X-Page-Size": "lots"}
    same = json_response(200, _assets(0, 20), garbled)
    client, transport = scripted_client(same, same, same)
    assert len([a async for a in client.assets.list()]) == 20
    assert len(transport.requests) == 2


async def test_server_ignoring_page_number_stops():
    """A server that answers page 1 when asked for page 2 ends the iteration."""
    client, transport = scripted_client(
        json_response(200, _assets(0, 2), {"X-Page": "1", "X-Total-Pages": "9"}),
        json_response(200, _assets(0, 2), {"X-Page": "1", "X-Total-Pages": "9"}),
    )
    pages = [page async for page in client.assets.list(page_size=2).pages()]
    assert len(pages) == 1
    assert len(transport.requests) == 2


async def test_envelope_pagination_for_videos():
    """/videos reads totalPages and currentPage from its envelope and sends limit."""

    def page(request: Request) -> Response:
        number = _page_of(request)
        videos = [{"id": f"v{number}-{i}"} for i in range(2)]
        return json_response(
            200,
            {
                "videos": videos,
                "totalItems": 6,
                "totalPages": 3,
                "currentPage": number,
                "itemsPerPage": 2,
            },
        )

    client, transport = scripted_client(page, page, page)
    pages = [p async for p in client.videos.list(page_size=2).pages()]
    assert [p.page for p in pages] == [1, 2, 3]
    assert pages[0].total_count == 6
    assert pages[0].total_pages == 3
    assert dict(transport.requests[0].params)["limit"] == "2"


async def test_envelope_pagination_for_subtitles_with_empty_listing():
    """An empty /subtitles listing (totalPages 0) yields nothing after one request."""
    empty = {"items": [], "totalItems": 0, "totalPages": 0, "currentPage": 1, "itemsPerPage": 10}
    client, transport = scripted_client(json_response(200, empty))
    assert [s async for s in client.subtitles.list()] == []
    assert len(transport.requests) == 1


async def test_asset_filters_repeat_type_and_extras_filter_is_json():
    """Types are sent as repeated keys; extras_filter as a JSON string."""
    client, transport = scripted_client(json_response(200, []), json_response(200, {"videos": []}))
    await client.assets.list(type=["IMAGE", "VIDEO"], status="PROCESSING").to_list()
    await client.videos.list(extras_filter={"job": "42"}).to_list()
    assert [v for k, v in transport.requests[0].params if k == "type"] == ["IMAGE", "VIDEO"]
    assert dict(transport.requests[1].params)["extrasFilter"] == '{"job":"42"}'


async def test_to_list_limit_stops_early():
    """to_list(limit=n) returns n items and fetches no further page."""
    client, transport = scripted_client(
        json_response(200, _assets(0, 20), {"X-Total-Pages": "5", "X-Page": "1"})
    )
    assert len(await client.assets.list().to_list(limit=5)) == 5
    assert len(transport.requests) == 1


async def test_to_list_limit_must_not_be_negative():
    """to_list(limit=-1) names the argument instead of silently dropping the last item."""
    client, transport = scripted_client(json_response(200, _assets(0, 3)))
    with pytest.raises(InvalidRequestError, match="limit"):
        await client.assets.list().to_list(limit=-1)
    assert await client.assets.list().to_list(limit=0) == []
    assert transport.requests == []


async def test_a_repeated_page_with_changed_fields_is_still_a_repeat():
    """A server ignoring the page number is caught even if an item's status changed meanwhile."""
    first = json_response(200, _assets(0, 20))
    changed = json_response(200, [{**item, "status": "FAILED"} for item in _assets(0, 20)])
    client, transport = scripted_client(first, changed, changed)
    assert len([a async for a in client.assets.list()]) == 20
    assert len(transport.requests) == 2


async def test_pages_sharing_some_items_are_not_repeats():
    """A page overlapping the previous one (a listing shifted by a new item) goes on."""
    client, transport = scripted_client(
        json_response(200, _assets(0, 3)),
        json_response(200, _assets(2, 3)),
        json_response(200, _assets(4, 1)),
    )
    ids = [asset.id async for asset in client.assets.list(page_size=3)]
    assert ids == ["a0", "a1", "a2", "a2", "a3", "a4", "a4"]
    assert len(transport.requests) == 3


async def test_items_without_ids_still_detect_a_cycle():
    """Pages of objects without an id (a custom fetch) are compared by their content."""
    from argil_async._pagination import AsyncPaginator, Page

    async def fetch(number: int) -> Page[dict[str, int]]:
        return Page(items=[{"n": number % 2}], page=number, page_size=1, total_pages=9)

    pages = [page.page async for page in AsyncPaginator(fetch).pages()]
    assert pages == [1, 2]

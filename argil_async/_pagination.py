"""Async pagination over the API's two styles: response headers (/assets) and body envelopes
(/videos, /subtitles).

``async for item in client.assets.list()`` yields every item; ``.pages()`` yields whole pages.
Iteration stops on the first of: ``page >= total_pages``, an empty page, a short page, or a
server that ignores the page number (it never loops forever on missing or garbled metadata).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import msgspec

from ._validation import integer

__all__ = ["AsyncPaginator", "Envelope", "Page", "check_limit", "header_int"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results and what the server said about the whole listing."""

    items: Sequence[T]
    page: int
    page_size: int | None = None
    total_count: int | None = None
    total_pages: int | None = None

    def is_last(self) -> bool:
        """True when no further page can hold items."""
        if not self.items:
            return True
        if self.total_pages is not None and self.page >= self.total_pages:
            return True
        return self.page_size is not None and len(self.items) < self.page_size

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)


class Envelope(msgspec.Struct, rename="camel"):
    """The paging metadata of the /videos and /subtitles bodies; subclasses add the items."""

    total_items: int | None = None
    total_pages: int | None = None
    current_page: int | None = None
    items_per_page: int | None = None

    def page_of(self, items: Sequence[T], requested: int, page_size: int) -> Page[T]:
        """A Page of ``items`` described by this envelope (the request fills what it lacks)."""
        return Page(
            items=items,
            page=self.current_page or requested,
            page_size=self.items_per_page or page_size,
            total_count=self.total_items,
            total_pages=self.total_pages,
        )


FetchPage = Callable[[int], Awaitable[Page[T]]]


class AsyncPaginator(Generic[T]):
    """Lazily fetches pages; iterate it for items, or call :meth:`pages` for pages.

    Nothing is requested until iteration starts, and each iteration starts from page 1::

        async for asset in client.assets.list(status="READY", page_size=100):
            print(asset.id)
    """

    __slots__ = ("_fetch",)

    def __init__(self, fetch: FetchPage[T]) -> None:
        self._fetch = fetch

    async def fetch_page(self, number: int = 1) -> Page[T]:
        """Fetch one page by number (from 1), e.g. to serve page N of a listing in a web UI."""
        return await self._fetch(integer("number", number, low=1))

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Yield each page in order, stopping at the last one."""
        number = 1
        previous_first: object = _NOTHING
        while True:
            page = await self._fetch(number)
            first = page.items[0] if page.items else _NOTHING
            if page.page != number or (first is not _NOTHING and first == previous_first):
                return  # the server ignored the page number: stop rather than repeat forever
            yield page
            if page.is_last():
                return
            previous_first = first
            number += 1

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.items:
                yield item

    async def to_list(self, *, limit: int | None = None) -> list[T]:
        """Collect the items (at most ``limit`` of them) into a list."""
        if check_limit(limit) == 0:
            return []
        collected: list[T] = []
        async for page in self.pages():
            collected.extend(page.items)
            if limit is not None and len(collected) >= limit:
                return collected[:limit]
        return collected


_NOTHING = object()


def check_limit(limit: int | None) -> int | None:
    """``to_list``'s limit: None (everything) or a whole number of items from 0 up."""
    return None if limit is None else integer("limit", limit, low=0)


def header_int(headers: Mapping[str, str], name: str) -> int | None:
    """An integer header, or None when it is absent or garbled."""
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = int(value.strip())
    except ValueError:
        return None
    return number if number >= 0 else None

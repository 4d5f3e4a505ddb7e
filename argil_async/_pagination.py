"""Async pagination over the API's two styles: response headers (/assets) and body envelopes
(/videos, /subtitles).

``async for item in client.assets.list()`` yields every item; ``.pages()`` yields whole pages.
Iteration stops on the first of: ``page >= total_pages``, an empty page, a short page (when the
page count is unknown), or a page that repeats any page already seen (a server ignoring the
page number, or cycling between pages). It never loops forever, and metadata contradicting what
arrived (``X-Total-Pages: 0`` over items, ``X-Page`` stuck at 1, ``totalPages: -1``, an empty
page before the announced last) is logged as a warning on the ``argil_async`` logger, never
acted on silently.
"""

from __future__ import annotations

import hashlib
import logging
import operator
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Generic, TypeVar

import msgspec

from ._validation import integer

__all__ = ["AsyncPaginator", "Envelope", "Page", "check_limit", "header_int", "header_page"]

T = TypeVar("T")
_new = object.__new__  # an instance without its __init__ call (the page path builds its own)
logger = logging.getLogger("argil_async")


class Page(msgspec.Struct, Generic[T], frozen=True):
    """One page of results and what the server said about the whole listing.

    Immutable; ``msgspec.structs.replace(page, ...)`` makes a changed copy.
    """

    items: Sequence[T]
    page: int
    page_size: int | None = None
    total_count: int | None = None
    total_pages: int | None = None

    def is_last(self) -> bool:
        """True when no further page can hold items.

        A believable page count decides (a short page before it does not end the listing); a
        count below this page's number (0, -1 over items) is garbled and ignored, and then a
        page shorter than the page size is the last.
        """
        if not self.items:
            return True
        total = self.total_pages
        if total is not None and total >= self.page:  # count_is_believable(), inlined
            return self.page >= total
        return self.page_size is not None and len(self.items) < self.page_size

    def count_is_believable(self) -> bool:
        """Whether ``total_pages`` is given and not contradicted by this page's items."""
        return self.total_pages is not None and self.total_pages >= self.page

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
            page=_positive(self.current_page) or requested,
            page_size=_positive(self.items_per_page) or page_size,
            total_count=self.total_items,
            total_pages=self.total_pages,
        )


def _positive(value: int | None) -> int | None:
    return value if value is not None and value > 0 else None


FetchPage = Callable[[int], Awaitable[Page[T]]]


class AsyncPaginator(Generic[T]):
    """Lazily fetches pages; iterate it for items, or call
    [`pages()`][argil_async.AsyncPaginator.pages] for pages.

    Nothing is requested until iteration starts, and each iteration starts from page 1:

    ```python
    async for asset in client.assets.list(status="READY", page_size=100):
        print(asset.id)
    ```
    """

    __slots__ = ("_fetch",)

    def __init__(self, fetch: FetchPage[T]) -> None:
        self._fetch = fetch

    async def fetch_page(self, number: int = 1) -> Page[T]:
        """Fetch one page by number (from 1), e.g. to serve page N of a listing in a web UI."""
        if type(number) is not int or number < 1:  # (an int from 1 needs no call)
            number = integer("number", number, low=1)
        return await self._fetch(number)

    def pages(self) -> _Pages[T]:
        """Yield each page in order, stopping at the last one (or at a repeated page)."""
        # _Pages(self._fetch), without an __init__ frame of its own
        pages: _Pages[T] = _new(_Pages)
        pages._fetch, pages._number, pages._seen, pages._warned = self._fetch, 1, {}, set()
        return pages

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


class _Pages(Generic[T]):
    """The iterator [`AsyncPaginator.pages()`][argil_async.AsyncPaginator.pages] returns: a plain
    object rather than an async generator, so that leaving it early (a ``break``) costs no finalizer
    task."""

    __slots__ = ("_fetch", "_number", "_seen", "_warned")
    # (made by AsyncPaginator.pages(), which sets all four)
    _fetch: FetchPage[T]
    _number: int  # the next page to fetch; 0 once the listing has ended
    _seen: dict[object, int]  # fingerprint of every page's items -> its number
    _warned: set[str]  # the kinds of warning given

    def __aiter__(self) -> _Pages[T]:
        return self

    async def __anext__(self) -> Page[T]:
        number = self._number
        if not number:
            raise StopAsyncIteration
        self._number = 0  # ended, unless this page proves otherwise (a failure ends it too)
        page = await self._fetch(number)
        if page.page != number:
            _warn_once(
                self._warned, "label", "page %d came back labelled page %d", number, page.page
            )
            page = msgspec.structs.replace(page, page=number)
        items = page.items
        if items:
            seen = self._seen
            key: object = None
            try:  # _fingerprint()'s usual key, without its call
                first, last = items[0].id, items[-1].id  # type: ignore[attr-defined]
                if first is not None and last is not None:
                    key = (len(items), first, last)
                    repeated = seen.get(key)  # (a TypeError if an id is unhashable)
            except (AttributeError, TypeError):
                key = None
            if key is None:
                key = _fingerprint(items)
                repeated = seen.get(key)
            if repeated is not None:
                logger.warning(
                    "page %d repeats page %d: the server ignores the page number or cycles; "
                    "stopping after %d pages",
                    *(number, repeated, number - 1),
                )
                raise StopAsyncIteration
            seen[key] = number
        total = page.total_pages
        if total is not None and (total < page.page if items else page.page < total):
            _check_count(page, self._warned)  # (called only when it has something to say)
        # page.is_last(), inlined: the next page, unless this one is the last
        if items and (
            page.page < total
            if total is not None and total >= page.page
            else page.page_size is None or len(items) >= page.page_size
        ):
            self._number = number + 1
        return page

    async def aclose(self) -> None:
        """End the iteration (as an async generator's ``aclose``)."""
        self._number = 0


_id_of = operator.attrgetter("id")


def _fingerprint(items: Sequence[object]) -> object:
    """What identifies a page: a page with the same items as any earlier page is a cycle.

    Every paginated model has an ``id``, unique within a listing: a page's length with its
    first and last ids tell it from every other page of the listing (two pages can share an
    item where a listing shifted, never both ends), and they are read without touching the
    rest of the page (no per-item work, no re-encoding). Items without ids (a custom fetch)
    fall back to a digest of their encoding.
    """
    try:
        key = (len(items), _id_of(items[0]), _id_of(items[-1]))
        if None not in key:
            hash(key)
            return key
    except (AttributeError, TypeError):  # no ids, or unhashable ones
        pass
    try:
        raw = msgspec.json.encode(items)
    except (TypeError, msgspec.EncodeError):  # items the encoder does not know (tests)
        raw = repr(items).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(raw, digest_size=16).digest()


def _check_count(page: Page[T], warned: set[str]) -> None:
    """Warn when the page count contradicts what this page holds."""
    total = page.total_pages
    if total is None:
        return
    if page.items and total < page.page:  # not page.count_is_believable()
        _warn_once(
            warned,
            "count",
            "the server reported %d pages, yet page %d has items; ignoring the count",
            total,
            page.page,
        )
    elif not page.items and page.page < total:
        logger.warning(
            "page %d is empty though the server reported %d pages: stopping", page.page, total
        )


def _warn_once(warned: set[str], kind: str, message: str, *args: object) -> None:
    if kind not in warned:
        warned.add(kind)
        logger.warning("pagination: " + message, *args)


def check_limit(limit: int | None) -> int | None:
    """``to_list``'s limit: None (everything) or a whole number of items from 0 up."""
    return None if limit is None else integer("limit", limit, low=0)


def _header_number(value: str | None) -> int | None:
    """A paging header's number, or None when it is absent or garbled."""
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def header_page(
    items: Sequence[T], headers: Mapping[str, str], requested: int, page_size: int
) -> Page[T]:
    """A Page of ``items`` described by the /assets paging headers; the request fills what
    they lack, and garbled or negative numbers count as absent (a page count of -1 is kept,
    so that the paginator can warn about it)."""
    get = headers.get
    page_key, size_key, count_key, pages_key = _PAGING_KEYS or _paging_keys()
    try:  # the usual page: all four present and numeric (int() ignores surrounding spaces)
        page = int(get(page_key))  # type: ignore[arg-type]
        size = int(get(size_key))  # type: ignore[arg-type]
        count = int(get(count_key))  # type: ignore[arg-type]
        pages = int(get(pages_key))  # type: ignore[arg-type]
    except (TypeError, ValueError):  # one is absent (None) or garbled: each on its own
        return _header_page(items, get, requested, page_size)
    return Page(
        items,
        page if page > 0 else requested,
        size if size > 0 else page_size,
        count if count >= 0 else None,
        pages,
    )


_PAGING_KEYS: tuple[str, str, str, str] | None = None


def _paging_keys() -> tuple[str, str, str, str]:
    """The /assets paging headers' names as multidict's ``istr``, case-folded once: a
    response's case-insensitive headers (aiohttp's, the mock transport's) look a plain str
    up by lower-casing and hashing a copy of it every time. (Imported here, on the first
    page, rather than with the package: multidict comes with aiohttp.)"""
    global _PAGING_KEYS
    from multidict import istr

    page, size, count, pages = map(
        istr, ("X-Page", "X-Page-Size", "X-Total-Count", "X-Total-Pages")
    )
    _PAGING_KEYS = page, size, count, pages
    return _PAGING_KEYS


def _header_page(
    items: Sequence[T], get: Callable[[str], str | None], requested: int, page_size: int
) -> Page[T]:
    """`header_page()` when a header is absent or garbled."""
    page, size, count, pages = map(
        _header_number,
        (get("X-Page"), get("X-Page-Size"), get("X-Total-Count"), get("X-Total-Pages")),
    )
    return Page(
        items=items,
        page=page if page is not None and page > 0 else requested,
        page_size=size if size is not None and size > 0 else page_size,
        total_count=count if count is not None and count >= 0 else None,
        total_pages=pages,
    )


def header_int(headers: Mapping[str, str], name: str, *, signed: bool = False) -> int | None:
    """An integer header, or None when it is absent or garbled (or negative, unless
    ``signed``: a page count of -1 is kept so that the paginator can warn about it)."""
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = int(value.strip())
    except ValueError:
        return None
    return number if number >= 0 or signed else None

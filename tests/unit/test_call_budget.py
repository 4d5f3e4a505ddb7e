"""Call budgets: Python-level calls and msgspec decodes per request, counted, never timed.

Timed benchmarks spread by 0.1x between runs on a shared machine, so they cannot gate CI; a
count of function calls (``sys.setprofile``) is the same on every run. Each budget below is
the count measured when it was set: a change that adds calls to one of these paths fails
here and has to raise the budget deliberately, in review. The counts go through a canned
transport (``MockTransport``), so no socket or HTTP library is counted, only the SDK (and
what it calls) from the public call to the decoded result.

Measure again with ``pytest tests/unit/test_call_budget.py -s``: each test prints its count.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any

import pytest

from argil_async import Argil, AsyncArgil, Moment, Response, RetryPolicy, _observe
from argil_async.testing import MockTransport, json_response


@dataclass(frozen=True)
class Budget:
    calls: int
    decodes: int


# Python-level calls (frames entered, coroutine resumptions included) per request, as
# measured on each CPython the CI runs (the standard library the SDK calls differs a little
# between them); another interpreter gets the largest of them plus 10%. One msgspec decode
# per request everywhere.
MEASURED: dict[str, dict[tuple[int, int], int]] = {
    "page": {(3, 10): 12, (3, 11): 12, (3, 13): 12},
    "create": {(3, 10): 23, (3, 11): 23, (3, 13): 22},
    "with_options": {(3, 10): 155, (3, 11): 155, (3, 13): 193},
    "sync": {(3, 10): 30, (3, 11): 30, (3, 13): 29},
}


def _budget(name: str) -> Budget:
    counts = MEASURED[name]
    calls = counts.get(sys.version_info[:2]) or int(max(counts.values()) * 1.1)
    return Budget(calls=calls, decodes=1)


BUDGETS = {name: _budget(name) for name in MEASURED}

ASSET = {
    "id": "a",
    "name": "clip",
    "type": "IMAGE",
    "status": "READY",
    "fileUrl": "https://cdn.example.test/a.png",
    "thumbnailUrl": "https://cdn.example.test/a-thumb.png",
    "createdAt": "2024-05-01T12:00:00.000Z",
}
VIDEO = {"id": "v1", "name": "Welcome", "status": "IDLE", "createdAt": "2024-05-01T12:00:00Z"}
BASE_URL = "https://api.example.test/v1"


def asset_page(size: int) -> Response:
    """A realistic page of ``size`` assets, with the paging headers of /assets."""
    items = [{**ASSET, "id": f"asset-{i:04d}"} for i in range(size)]
    headers = {"X-Page": "1", "X-Page-Size": str(size), "X-Total-Pages": "3"}
    return json_response(200, items, {**headers, "X-Total-Count": str(3 * size)})


class Counter:
    """A profile function counting Python calls and msgspec decodes while ``on``."""

    def __init__(self) -> None:
        self.on = False
        self.calls = 0
        self.decodes = 0

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if not self.on:
            return
        if event == "call":
            self.calls += 1
        elif event == "c_call" and getattr(arg, "__name__", "") == "decode":
            owner = type(getattr(arg, "__self__", None))
            if owner.__module__.startswith("msgspec"):
                self.decodes += 1


@pytest.fixture(autouse=True)
def _nothing_observes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The budgets are for calls nobody observes: no tracer provider (a test earlier in the
    suite may have installed one for good: OpenTelemetry cannot take it back), no INFO
    logging of the ``argil_async`` logger."""
    monkeypatch.setattr(_observe, "_trace", None)
    level = _observe.logger.level
    _observe.logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        _observe.logger.setLevel(level)


def client(*answers: Response) -> AsyncArgil:
    return AsyncArgil(
        api_key="test-key-123456789",
        base_url=BASE_URL,
        transport=MockTransport(*answers),
        retry_policy=RetryPolicy(wait_scale=0),
    )


async def count_async(make: Callable[[], Callable[[], Awaitable[object]]]) -> tuple[int, int]:
    """The counts of one call, after warm-up calls (decoders built, caches filled)."""
    seen = set()
    for _ in range(4):
        call = make()
        counter = Counter()
        sys.setprofile(counter)
        counter.on = True
        try:
            await call()
        finally:
            counter.on = False
            sys.setprofile(None)
        seen.add((counter.calls, counter.decodes))
    counts = (counter.calls, counter.decodes)
    assert len(seen) <= 2, seen  # the first call may fill caches; then every call is the same
    return counts


def check(name: str, counts: tuple[int, int]) -> None:
    budget = BUDGETS[name]
    calls, decodes = counts
    print(f"{name}: {calls} calls, {decodes} decodes (budget {budget.calls}, {budget.decodes})")
    assert decodes <= budget.decodes, f"{name}: {decodes} msgspec decodes per request"
    assert calls <= budget.calls, (
        f"{name}: {calls} Python calls per request, budget {budget.calls}: a change added "
        "calls to this path; remove them, or raise the budget deliberately"
    )


async def test_page_fetch_budget():
    """A page fetch (assets.list(...).pages(), first page of 20) stays within its budget."""

    def make() -> Callable[[], Awaitable[object]]:
        c = client(asset_page(20))

        async def call() -> object:
            async for page in c.assets.list(page_size=20).pages():
                return page
            return None

        return call

    check("page", await count_async(make))


async def test_a_page_costs_no_python_call_per_item():
    """A page of 100 realistic assets makes exactly as many Python calls as a page of 20."""

    def maker(size: int) -> Callable[[], Callable[[], Awaitable[object]]]:
        def make() -> Callable[[], Awaitable[object]]:
            c = client(asset_page(size))
            return lambda: c.assets.list(page_size=size).fetch_page(1)

        return make

    assert await count_async(maker(100)) == await count_async(maker(20))


async def test_create_budget():
    """videos.create stays within its budget."""

    def make() -> Callable[[], Awaitable[object]]:
        c = client(json_response(201, VIDEO))
        moments = [Moment(avatar_id="avatar-1", transcript="Hello there")]
        return lambda: c.videos.create(name="Welcome", moments=moments)

    check("create", await count_async(make))


async def test_with_options_call_budget():
    """A call through client.with_options(...) (the copy included) stays within its budget."""

    def make() -> Callable[[], Awaitable[object]]:
        c = client(json_response(200, VIDEO))
        return lambda: c.with_options(max_retries=3).videos.get("v1")

    check("with_options", await count_async(make))


def test_sync_call_budget():
    """A sync call (the calling thread and the client's event-loop thread) stays within budget."""
    counter = Counter()
    threading.setprofile(counter)  # the loop thread starts with the client: counted too
    sys.setprofile(counter)
    try:
        sync = Argil(
            api_key="test-key-123456789",
            base_url=BASE_URL,
            transport=MockTransport(*[json_response(200, VIDEO)] * 6),
            retry_policy=RetryPolicy(wait_scale=0),
        )
        seen = []
        with sync:
            for _ in range(6):
                counter.calls = counter.decodes = 0
                counter.on = True
                sync.videos.get("v1")
                counter.on = False
                seen.append((counter.calls, counter.decodes))
    finally:
        counter.on = False
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]
    # The first call starts the loop thread. After it, where the loop reads its wake-ups (the
    # self-pipe: not Linux's edge-triggered eventfd) it may take a turn more or less per call
    # (the read in the same turn as the call's task, or in one of its own), so the counts can
    # differ by a few calls; the largest of them is held to the budget.
    steady = seen[1:]
    assert max(steady)[0] - min(steady)[0] <= 10, seen
    check("sync", max(steady))


@pytest.mark.parametrize("name", sorted(BUDGETS))
def test_budgets_are_set(name: str):
    """Every budget is a positive count (a zero would mean the path was not measured)."""
    assert BUDGETS[name].calls > 0
    assert BUDGETS[name].decodes == 1


def test_counter_counts_python_calls_and_decodes():
    """The counter itself: three Python calls and one msgspec decode are counted as such."""
    import msgspec

    def leaf() -> None:
        return None

    def branch() -> None:
        leaf()
        leaf()

    counter = Counter()
    sys.setprofile(counter)
    counter.on = True
    branch()
    msgspec.json.Decoder(list[int]).decode(b"[1]")
    counter.on = False
    sys.setprofile(None)
    assert (counter.calls, counter.decodes) == (3, 1)

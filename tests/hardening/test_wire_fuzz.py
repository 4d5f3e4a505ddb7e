"""Fuzzed response bodies and statuses at the transport seam: success or a typed ArgilError."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import pytest
from multidict import CIMultiDict
from support.fakes import scripted_client

from argil_async import ArgilError, AsyncArgil, Response

WIRE_STATS: Counter[str] = Counter()  # printed by conftest.py (``wire fuzzing:`` line)

CASES = 3000
EMPTY = Response(200, CIMultiDict({"Content-Type": "application/json"}), b"[]")
SEEDS = [
    [{"id": "v1", "name": "Anna", "status": "IDLE"}],
    {"id": "vid", "status": "DONE", "moments": [{"zoom": {"level": 1}}], "extras": {"a": "b"}},
    {"videos": [{"id": "v"}], "totalPages": 2, "currentPage": 1, "itemsPerPage": 1},
    {"code": 400, "message": ["a", "b"], "error": {"message": "x"}},
]
CALLS: list[Callable[[AsyncArgil], Awaitable[Any]]] = [
    lambda client: client.voices.list(),
    lambda client: client.videos.get("vid"),
    lambda client: client.videos.list().to_list(limit=3),
    lambda client: client.assets.list().to_list(limit=3),
    lambda client: client.webhooks.list(),
]


def _mutate(rng: random.Random, data: bytes) -> bytes:
    """One random damage: cut, flip, insert, nest, or swap in odd JSON."""
    choice = rng.randrange(6)
    if choice == 0 and data:
        return data[: rng.randrange(len(data))]
    if choice == 1 and data:
        at = rng.randrange(len(data))
        return data[:at] + bytes([rng.randrange(256)]) + data[at + 1 :]
    if choice == 2:
        at = rng.randrange(len(data) + 1)
        return data[:at] + rng.choice([b"[", b"{", b'"', b"\\u00", b"null", b"-0e9999"]) + data[at:]
    if choice == 3:  # deep nesting, inside a free-form field when there is one
        depth = rng.choice([10, 1000, 100_000])
        free_form = b'{"level":1}'
        if free_form in data:
            return data.replace(free_form, b'{"x":' + b"[" * depth + b"]" * depth + b"}")
        return b"[" * depth + data + b"]" * depth
    if choice == 4:
        return rng.choice([b"", b"null", b"1e400", b'"\\ud800"', b"[]", b"{}", b"\xff\xfe"])
    return data


def _answer(rng: random.Random) -> Response:
    body = msgspec.json.encode(rng.choice(SEEDS))
    for _ in range(rng.randrange(1, 4)):
        body = _mutate(rng, body)
    status = rng.choice([200, 200, 200, 201, 204, 302, 400, 401, 404, 409, 429, 500, 503, 599])
    headers = CIMultiDict({"Content-Type": rng.choice(["application/json", "text/html"])})
    if rng.random() < 0.3:
        headers["X-Total-Pages"] = rng.choice(["0", "-1", "x", "999999999999999999999", "2"])
        headers["X-Page"] = rng.choice(["1", "0", "nan", ""])
    return Response(status, headers, body)


@pytest.mark.parametrize("block", range(6))
async def test_fuzzed_responses_end_in_success_or_a_typed_error(block):
    """500 damaged responses per block (3000 in all): nothing escapes but an ArgilError."""
    rng = random.Random(block)
    outcomes = {"ok": 0, "typed": 0, "untyped": 0}
    untyped = []
    for _ in range(CASES // 6):
        answers = [_answer(rng) for _ in range(4)] + [EMPTY] * 20  # then an empty listing
        client, _ = scripted_client(*answers, max_retries=0)
        try:
            await rng.choice(CALLS)(client)
            outcomes["ok"] += 1
        except ArgilError:
            outcomes["typed"] += 1
        except Exception as exc:
            outcomes["untyped"] += 1
            untyped.append(f"{type(exc).__name__}: {exc}"[:200])
    WIRE_STATS.update(outcomes)
    WIRE_STATS["cases"] += CASES // 6
    assert untyped == []
    assert sum(outcomes.values()) == CASES // 6
    assert outcomes["typed"] > 0

"""The retry fast path (first attempt outside backoff) behaves exactly like backoff alone."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Awaitable, Callable, Sequence

import pytest
from support.fakes import json_response

from argil_async import APIConnectionError, ArgilError, Request, Response, RetryPolicy
from argil_async._retry import _retrying, with_retries
from argil_async._status import raise_for_status

OUTCOMES: dict[str, Callable[[], Response | ArgilError]] = {
    "200": lambda: json_response(200, {}),
    "400": lambda: json_response(400, {"message": "bad"}),
    "408": lambda: json_response(408, {}),
    "429": lambda: json_response(429, {}),
    "500": lambda: json_response(500, {}),
    "dropped": lambda: APIConnectionError("dropped"),
    "refused": lambda: APIConnectionError("refused", maybe_sent=False),
}
Send = Callable[[Request], Awaitable[Response]]
Path = Callable[[Send, RetryPolicy, Request], Callable[[Request], Awaitable[Response]]]


def _fast(send: Send, policy: RetryPolicy, request: Request) -> Send:
    return with_retries(send, policy)


def _backoff_only(send: Send, policy: RetryPolicy, request: Request) -> Send:
    retrying = _retrying(send, policy, idempotent=request.idempotent)
    return lambda req: retrying(req, iter(()))


async def _run(path: Path, script: Sequence[str], request: Request, retries: int) -> tuple:
    """What one path does with a script of answers: sends, outcome, retry log lines."""
    answers, sent, logged = iter(script), [], []
    handler = logging.Handler()
    handler.emit = lambda record: logged.append(record.getMessage())  # type: ignore[method-assign]

    async def send(req: Request) -> Response:
        sent.append(req)
        answer = OUTCOMES[next(answers)]()
        if isinstance(answer, BaseException):
            raise answer
        raise_for_status(answer)
        return answer

    logger = logging.getLogger("argil_async")
    logger.addHandler(handler)
    try:
        outcome: object = await path(send, RetryPolicy(retries, wait_scale=0), request)(request)
        outcome = outcome.status  # type: ignore[attr-defined]
    except ArgilError as exc:
        outcome = type(exc).__name__
    finally:
        logger.removeHandler(handler)
    return len(sent), outcome, logged


@pytest.mark.parametrize("retries", [1, 2])
@pytest.mark.parametrize("idempotent", [True, False])
async def test_fast_path_matches_backoff_on_every_answer_sequence(retries: int, idempotent: bool):
    """For every sequence of answers: same requests sent, same result, same retry log lines."""
    request = Request("GET" if idempotent else "POST", "/x", idempotent=idempotent)
    for script in itertools.product(OUTCOMES, repeat=retries + 1):
        fast = await _run(_fast, script, request, retries)
        reference = await _run(_backoff_only, script, request, retries)
        assert fast == reference, script

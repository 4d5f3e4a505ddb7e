"""CPU the retry layer adds to a request that succeeds first time (no network, no server).

Three ways to send the same request through a ``send`` that answers at once: bare ``send``
(the baseline), ``with_retries`` (the first attempt outside backoff, as shipped), and every
attempt under backoff. Each round runs the three in turns; medians over rounds are reported,
with the difference to the baseline measured in the same run.

    python benchmarks/bench_retry.py [--calls 20000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

from argil_async import Request, Response, RetryPolicy
from argil_async._retry import _retrying, with_retries

Send = Callable[[Request], Awaitable[Response]]
OK = Response(200, {}, b"{}")


async def send(request: Request) -> Response:
    """The transport stand-in: answers at once."""
    return OK


def variants() -> dict[str, Send]:
    policy = RetryPolicy()
    retrying = _retrying(send, policy, idempotent=True)

    async def backoff_always(request: Request) -> Response:
        return await retrying(request, iter(()))

    return {
        "bare send": send,
        "with_retries": with_retries(send, policy),
        "backoff always": backoff_always,
    }


async def cpu_per_call(fn: Send, calls: int) -> float:
    request = Request("GET", "/assets")
    start = time.process_time()
    for _ in range(calls):
        await fn(request)
    return (time.process_time() - start) / calls * 1e6


async def main(calls: int, rounds: int) -> None:
    samples: dict[str, list[float]] = {name: [] for name in variants()}
    for _ in range(rounds):
        for name, fn in variants().items():
            samples[name].append(await cpu_per_call(fn, calls))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    base = medians["bare send"]
    print("retry layer: client CPU per successful call (median)")
    for name, value in medians.items():
        print(f"  {name:16s} {value:7.2f} us   +{value - base:5.2f} us over bare send")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    options = parser.parse_args()
    asyncio.run(main(options.calls, options.rounds))

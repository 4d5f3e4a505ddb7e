"""Instructions the sync facade adds per call (valgrind's callgrind), with and without the
direct hand-off (the task made in the caller's thread, see ``_direct_wake``).

CPU time on the shared 2-core machine is noisy; counted instructions are not. Each variant
runs in its own process under ``valgrind --tool=callgrind --instr-atstart=no``: after a warm-up
of 20 calls, instrumentation is switched on (``callgrind_control -i on``) for ``--requests``
``avatars.get(id)`` calls, then off; the count (all threads: the caller's and the client's
loop thread) is divided by the calls. Variants: ``async`` (``AsyncArgil``, the baseline),
``sync`` (``Argil`` as shipped) and ``sync-fallback`` (``Argil`` with the loop's ``wake`` set to
None, i.e. one ``call_soon_threadsafe`` per call). The simulator runs in another process,
unmeasured.

    python benchmarks/bench_sync_instructions.py [--requests 200]
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from _callgrind import callgrind, instructions_per_request
from _simproc import running_simulator

from argil_async import Argil, AsyncArgil

VARIANTS = ("async", "sync", "sync-fallback")


async def async_worker(requests: int, base_url: str, key: str, avatar_id: str) -> None:
    async with AsyncArgil(api_key=key, base_url=base_url) as client:
        for i in range(20 + requests):
            if i == 20:
                callgrind(True)
            await client.avatars.get(avatar_id)
        callgrind(False)


def sync_worker(fallback: bool, requests: int, base_url: str, key: str, avatar_id: str) -> None:
    with Argil(api_key=key, base_url=base_url) as client:
        client.avatars.get(avatar_id)  # starts the loop thread
        if fallback:
            client._runtime._started().wake = None
        for i in range(20 + requests):
            if i == 20:
                callgrind(True)
            client.avatars.get(avatar_id)
        callgrind(False)


def count(variant: str, requests: int, base_url: str, key: str, avatar_id: str) -> float:
    """Instructions per request of one variant, from callgrind's summary."""
    worker_args = ["--worker", variant, str(requests), base_url, key, avatar_id]
    return instructions_per_request(__file__, worker_args, requests)


def main(requests: int) -> None:
    with running_simulator() as (base_url, key):
        with Argil(api_key=key, base_url=base_url) as client:
            avatar_id = client.avatars.list()[0].id
        counts = {v: count(v, requests, base_url, key, avatar_id) for v in VARIANTS}
    base = counts["async"]
    print(f"avatars.get, instructions per call ({requests} calls, all threads):")
    print(f"  AsyncArgil             {base:10,.0f}")
    for variant in VARIANTS[1:]:
        added = counts[variant] - base
        print(f"  Argil {variant:16} {counts[variant]:10,.0f}   added {added:8,.0f}")
    direct = counts["sync"] - base
    fallback = counts["sync-fallback"] - base
    saved = fallback - direct
    print(f"  direct hand-off saves {saved:,.0f} per call ({saved / fallback:.1%} of the added)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        variant, requests, base_url, key, avatar_id = sys.argv[2:7]
        if variant == "async":
            asyncio.run(async_worker(int(requests), base_url, key, avatar_id))
        else:
            sync_worker(variant == "sync-fallback", int(requests), base_url, key, avatar_id)
        sys.exit()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    main(parser.parse_args().requests)

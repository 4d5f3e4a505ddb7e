"""Clients for end-to-end tests: an AsyncArgil wired to a simulator, retry waits shortened."""

from __future__ import annotations

from typing import Any

from argil_async import AsyncArgil, RetryPolicy
from argil_async.testing import ArgilSimulator


def client_for(sim: ArgilSimulator, max_retries: int = 2, **kwargs: Any) -> AsyncArgil:
    """An AsyncArgil for ``sim`` whose retry waits are scaled down for tests."""
    policy = RetryPolicy(max_retries=max_retries, wait_scale=0.01)
    return AsyncArgil(api_key=sim.api_key, base_url=sim.base_url, retry_policy=policy, **kwargs)

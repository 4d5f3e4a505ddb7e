"""Webhook deliveries: unsigned POSTs of `{"event": NAME, "data": {...}}`, once each.

Argil documents no signature and no retry policy, so the simulator sends each event once per
subscribed webhook (and once to a render's callbackUrl), in the background, with a short timeout.
Failures are swallowed, as a real sender would, but recorded in `sim.deliveries` for tests.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import msgspec

from ._records import Delivery, utc_now
from ._runtime import Runtime


def dispatch_event(
    rt: Runtime, event: str, data: dict[str, Any], callback_url: str | None = None
) -> None:
    """Send `event` to every webhook subscribed to it, plus the one-shot `callback_url`."""
    payload = {"event": event, "data": data}
    now = utc_now()
    targets = []
    for webhook in rt.state.webhooks.values():
        if event in webhook.events:
            webhook.last_triggered_at = now
            targets.append(webhook.callback_url)
    if callback_url is not None:
        targets.append(callback_url)
    for url in targets:
        rt.spawn(_post(rt, Delivery(event=event, url=url, payload=payload)))


async def _post(rt: Runtime, delivery: Delivery) -> None:
    """POST one payload; the outcome lands in `delivery`, which is recorded when finished."""
    timeout = aiohttp.ClientTimeout(total=rt.config.webhook_timeout)
    headers = {"Content-Type": "application/json"}
    body = msgspec.json.encode(delivery.payload)
    try:
        async with rt.session().post(
            delivery.url, data=body, headers=headers, timeout=timeout
        ) as response:
            await response.read()
            delivery.status = response.status
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        delivery.error = f"{type(exc).__name__}: {exc}"
    rt.deliveries.append(delivery)

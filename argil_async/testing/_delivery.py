"""Webhook deliveries: POSTs of `{"event": NAME, "data": {...}}`, once each, loopback only.

Argil documents no retry policy, so the simulator sends each event once per subscribed webhook
(and once to a render's callbackUrl), in the background, with a short timeout. Failures are
swallowed, as a real sender would, but recorded in `sim.deliveries` for tests. A webhook with a
`signing_secret` gets Standard Webhooks headers (Argil signs deliveries to endpoints registered
through its newer webhook-endpoints API). Only loopback hosts are contacted unless
`deliver_to_any_host`: a test must not make the simulator POST to the internet.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import msgspec

from .._urls import is_loopback_host
from ..events._signatures import sign
from ._records import Delivery, utc_now
from ._runtime import Runtime


def dispatch_event(
    rt: Runtime, event: str, data: dict[str, Any], callback_url: str | None = None
) -> None:
    """Send `event` to every webhook subscribed to it, plus the one-shot `callback_url`."""
    payload = {"event": event, "data": data}
    now = utc_now()
    targets: list[tuple[str, str | None]] = []
    for webhook in rt.state.webhooks.values():
        if event in webhook.events:
            webhook.last_triggered_at = now
            targets.append((webhook.callback_url, webhook.signing_secret))
    if callback_url is not None:
        targets.append((callback_url, rt.config.webhook_signing_secret))
    for url, secret in targets:
        body = msgspec.json.encode(payload)
        headers = _signature_headers(body, secret) if secret else {}
        for _ in range(2 if rt.config.duplicate_deliveries else 1):
            delivery = Delivery(event=event, url=url, payload=payload, headers=dict(headers))
            rt.spawn(_post(rt, delivery, body))


def _signature_headers(body: bytes, secret: str) -> dict[str, str]:
    """`webhook-id`, `webhook-timestamp` and a `v1,` signature of this body."""
    msg_id = f"msg_{uuid.uuid4().hex}"
    stamp = str(int(time.time()))
    signature = sign(body, msg_id, stamp, secret)
    signature_header = f"v1,{signature}"
    return {"webhook-id": msg_id, "webhook-timestamp": stamp, "webhook-signature": signature_header}


async def _post(rt: Runtime, delivery: Delivery, body: bytes) -> None:
    """POST one payload; the outcome lands in `delivery`, which is recorded when finished."""
    if not rt.config.deliver_to_any_host and not _is_loopback(delivery.url):
        delivery.error = "not sent: not a loopback host (SimulatorConfig.deliver_to_any_host)"
        rt.deliveries.append(delivery)
        return
    timeout = aiohttp.ClientTimeout(total=rt.config.webhook_timeout)
    headers = {"Content-Type": "application/json", **delivery.headers}
    try:
        async with rt.session().post(  # a redirect would lead it off loopback: not followed
            delivery.url, data=body, headers=headers, timeout=timeout, allow_redirects=False
        ) as response:
            await response.read()
            delivery.status = response.status
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        delivery.error = f"{type(exc).__name__}: {exc}"
    rt.deliveries.append(delivery)


def _is_loopback(url: str) -> bool:
    try:
        return is_loopback_host(urlsplit(url).hostname)
    except ValueError:
        return False

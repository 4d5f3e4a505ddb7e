"""/webhooks: create (201), list, partial update with PUT (200), delete (204, no body)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ._checks import check_enum, check_url, reject_unknown, require_key
from ._http import bad_request, json_response, not_found, read_json_object
from ._records import SimWebhook, utc_now
from ._runtime import RUNTIME, Runtime

EVENTS = (
    "AVATAR_TRAINING_SUCCESS",
    "AVATAR_TRAINING_FAILED",
    "VIDEO_GENERATION_SUCCESS",
    "VIDEO_GENERATION_FAILED",
)


async def create_webhook(request: web.Request) -> web.Response:
    """Register `{callbackUrl, events}`; http and https are both accepted, as documented."""
    rt = request.app[RUNTIME]
    body = await read_json_object(request)
    reject_unknown(body, ("callbackUrl", "events"))
    webhook = SimWebhook(
        callback_url=check_url(require_key(body, "callbackUrl"), "callbackUrl"),
        events=_events(require_key(body, "events")),
        signing_secret=rt.config.webhook_signing_secret,
    )
    rt.state.webhooks[webhook.id] = webhook
    return json_response(rt.presenter(request).webhook(webhook), status=201)


def _events(value: Any) -> list[str]:
    """A non-empty array of known event names, duplicates dropped."""
    if not isinstance(value, list) or not value:
        raise bad_request("events: must be a non-empty array")
    names = [check_enum(name, EVENTS, f"events[{i}]") for i, name in enumerate(value)]
    return list(dict.fromkeys(names))


async def list_webhooks(request: web.Request) -> web.Response:
    """Every webhook, as a bare array."""
    rt = request.app[RUNTIME]
    present = rt.presenter(request)
    return json_response([present.webhook(w) for w in rt.state.webhooks.values()])


async def update_webhook(request: web.Request) -> web.Response:
    """A partial update: fields left out keep their values; `updatedAt` moves."""
    rt = request.app[RUNTIME]
    webhook = _webhook(rt, request)
    body = await read_json_object(request)
    reject_unknown(body, ("callbackUrl", "events"))
    url = check_url(body["callbackUrl"], "callbackUrl") if "callbackUrl" in body else None
    events = _events(body["events"]) if "events" in body else None
    webhook.callback_url = url or webhook.callback_url
    webhook.events = events or webhook.events
    webhook.updated_at = utc_now()
    return json_response(rt.presenter(request).webhook(webhook))


async def delete_webhook(request: web.Request) -> web.Response:
    """204 with no body."""
    rt = request.app[RUNTIME]
    del rt.state.webhooks[_webhook(rt, request).id]
    return web.Response(status=204)


def _webhook(rt: Runtime, request: web.Request) -> SimWebhook:
    """The webhook named in the path, or 404."""
    webhook = rt.state.webhooks.get(request.match_info["id"])
    if webhook is None:
        raise not_found("Webhook", request.match_info["id"])
    return webhook

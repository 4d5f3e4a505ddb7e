"""``client.webhooks``: register the URLs Argil notifies when renders and training end."""

from __future__ import annotations

from collections.abc import Iterable

from .._decoding import decode
from ..errors import InvalidRequestError
from ..models import WEBHOOK_EVENTS, Webhook
from ._base import Resource, check_url, path_id

__all__ = ["AsyncWebhooksResource"]


class AsyncWebhooksResource(Resource):
    """Webhooks receive ``{"event": ..., "data": ...}`` POSTs; see ``argil_async.events``."""

    __slots__ = ()

    async def create(self, *, callback_url: str, events: Iterable[str]) -> Webhook:
        """Register ``callback_url`` for events, e.g. ``["VIDEO_GENERATION_SUCCESS"]``."""
        body = {"callbackUrl": check_url("callback_url", callback_url), "events": _events(events)}
        response = await self._client._request("POST", "/webhooks", body=body)
        return decode(Webhook, response.body)

    async def list(self) -> list[Webhook]:
        """Every webhook of the workspace."""
        webhooks, _ = await self._client._get("/webhooks", list[Webhook])
        return webhooks

    async def update(
        self, id: str, *, callback_url: str | None = None, events: Iterable[str] | None = None
    ) -> Webhook:
        """Change the URL and/or the events; what is not given keeps its value."""
        body: dict[str, object] = {}
        if callback_url is not None:
            body["callbackUrl"] = check_url("callback_url", callback_url)
        if events is not None:
            body["events"] = _events(events)
        if not body:
            raise InvalidRequestError("callback_url/events", "give at least one to change")
        response = await self._client._request("PUT", f"/webhooks/{path_id('id', id)}", body=body)
        return decode(Webhook, response.body)

    async def delete(self, id: str) -> None:
        """Remove a webhook."""
        await self._client._request("DELETE", f"/webhooks/{path_id('id', id)}")


def _events(events: Iterable[str]) -> list[str]:
    if isinstance(events, str):
        raise InvalidRequestError("events", "must be a list of event names, not one string")
    names = list(events)
    if not names:
        raise InvalidRequestError("events", "must name at least one event")
    unknown = sorted(set(names) - WEBHOOK_EVENTS)
    if unknown:
        known = ", ".join(sorted(WEBHOOK_EVENTS))
        raise InvalidRequestError("events", f"unknown event(s) {unknown}; known: {known}")
    return names

"""``client.webhooks``: register the URLs Argil notifies when renders and training end."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import msgspec
from typing_extensions import Unpack

from .. import _validation as check
from .._decoding import decode
from .._options import RequestOptions
from .._raw import RawMethod, RawResponseView
from ..models import Webhook, WebhookEvent
from ._base import Resource

__all__ = ["AsyncWebhooksResource"]


class _WebhookBody(msgspec.Struct, rename="camel", omit_defaults=True):
    """The POST /webhooks and PUT /webhooks/{id} bodies (PUT may leave either out)."""

    callback_url: str | None = None
    events: list[str] | None = None


class AsyncWebhooksResource(Resource):
    """Webhooks receive ``{"event": ..., "data": ...}`` POSTs; see ``argil_async.events``."""

    __slots__ = ()

    @property
    def with_raw_response(self) -> AsyncWebhooksResourceWithRawResponse:
        """The same methods, each returning a ``RawResponse`` (status, headers, request id).

        Example: ``raw = await client.webhooks.with_raw_response.create(...)``, then
        ``raw.status_code``, ``raw.request_id`` and ``raw.parse()``.
        """
        return AsyncWebhooksResourceWithRawResponse(self)

    async def create(
        self,
        *,
        callback_url: str,
        events: Iterable[WebhookEvent],
        **options: Unpack[RequestOptions],
    ) -> Webhook:
        """Register ``callback_url`` for events, e.g. ``["VIDEO_GENERATION_SUCCESS"]``."""
        body = _WebhookBody(check.url("callback_url", callback_url), _events(events))
        response = await self._client._request("POST", "/webhooks", body=body, options=options)
        return decode(Webhook, response.body)

    async def list(self, **options: Unpack[RequestOptions]) -> list[Webhook]:
        """Every webhook of the workspace."""
        webhooks, _ = await self._client._get("/webhooks", list[Webhook], options=options)
        return webhooks

    async def update(
        self,
        id: str,
        *,
        callback_url: str | None = None,
        events: Iterable[WebhookEvent] | None = None,
        **options: Unpack[RequestOptions],
    ) -> Webhook:
        """Change the URL and/or the events; what is not given keeps its value."""
        webhook_id = check.path_id("id", id)
        if callback_url is None and events is None:
            raise check.fail("callback_url/events", "give at least one to change")
        body = _WebhookBody(
            None if callback_url is None else check.url("callback_url", callback_url),
            None if events is None else _events(events),
        )
        response = await self._client._request(
            "PUT", f"/webhooks/{webhook_id}", body=body, options=options
        )
        return decode(Webhook, response.body)

    async def delete(self, id: str, **options: Unpack[RequestOptions]) -> None:
        """Remove a webhook."""
        path = f"/webhooks/{check.path_id('id', id)}"
        await self._client._request("DELETE", path, options=options)


def _events(events: object) -> list[str]:
    names = check.text_list("events", events)
    if not names:
        raise check.fail("events", "must name at least one event")
    return names


class AsyncWebhooksResourceWithRawResponse(RawResponseView):
    """``client.webhooks.with_raw_response``: each method returns a ``RawResponse``."""

    __slots__ = ()

    create: Final = RawMethod(AsyncWebhooksResource.create)
    list: Final = RawMethod(AsyncWebhooksResource.list)
    update: Final = RawMethod(AsyncWebhooksResource.update)
    delete: Final = RawMethod(AsyncWebhooksResource.delete)

"""A FastAPI service that makes one personalised video per order, safely, on any number of workers.

One shared AsyncArgil per worker (opened in the lifespan); webhooks mounted with
``app.mount("/argil", receiver.asgi)``; every worker shares ARGIL_WEBHOOK_SECRET, so a delivery
may land on any of them, and each wait also polls, so it ends either way. The order id is the
idempotency key: a retried request (or a crash and a retry) finds the same video instead of
paying for another. Access logs never show the webhook token.

    export ARGIL_API_KEY=...                        # or ARGIL_BASE_URL=<a simulator> too
    export ARGIL_WEBHOOK_SECRET=$(python -c "import secrets; print(secrets.token_urlsafe(32))")
    export PUBLIC_BASE_URL=https://videos.example.com   # where Argil can reach this app
    export ARGIL_WEBHOOK_REDIS_URL=redis://localhost:6379/0  # optional: de-dup across workers
    uvicorn fastapi_app:app --app-dir examples --workers 2

    curl -X POST localhost:8000/orders -H 'content-type: application/json' \\
         -d '{"order_id": "A-1001", "customer": "Ann", "avatar_id": "..."}'
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from argil_async import ArgilError, AsyncArgil, Moment, Video
from argil_async.events import RedactTokenFilter, RedisDedupStore, WebhookReceiver

RedactTokenFilter.install()  # uvicorn.access and gunicorn.access lines show token=***
# With a Redis (the limiter's), a delivery repeated to another worker or after a restart is
# dispatched once in the whole app; without, once per worker.
REDIS_URL = os.environ.get("ARGIL_WEBHOOK_REDIS_URL")
receiver = WebhookReceiver(  # the token comes from ARGIL_WEBHOOK_SECRET: same in every worker
    dedup=RedisDedupStore(REDIS_URL) if REDIS_URL else None
)
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL")
POLL_INTERVAL = float(os.environ.get("ARGIL_POLL_INTERVAL", "5"))


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with AsyncArgil() as client:
        app.state.argil = client
        yield
    await receiver.aclose()


app = FastAPI(lifespan=lifespan)
app.mount("/argil", receiver.asgi)  # deliveries: POST /argil/webhook?token=...


class Order(BaseModel):
    order_id: str
    customer: str
    avatar_id: str


@app.post("/orders")
async def make_video(order: Order, request: Request) -> JSONResponse:
    """Create, render and wait; answer the DONE video, or the typed error that stopped it."""
    client: AsyncArgil = request.app.state.argil

    def created(video: Video) -> None:  # store video.id with the order here, before waiting
        request.app.state.last_created = video.id

    try:
        video = await client.videos.generate(
            name=f"Order {order.order_id}",
            moments=[Moment(avatar_id=order.avatar_id, transcript=f"Thank you, {order.customer}!")],
            extras={"orderId": order.order_id},
            idempotency_key=f"order-{order.order_id}",
            callback_url=receiver.callback_url(PUBLIC_BASE_URL) if PUBLIC_BASE_URL else None,
            receiver=receiver,
            timeout=600,
            poll_interval=POLL_INTERVAL,
            on_created=created,
        )
    except ArgilError as exc:
        body = {"error": type(exc).__name__, "detail": str(exc), "worker": os.getpid()}
        return JSONResponse(body, status_code=502)
    body = {"id": video.id, "status": video.status, "url": video.video_url, "worker": os.getpid()}
    return JSONResponse(body)


@app.get("/health")
async def health() -> dict[str, int]:
    return {"worker": os.getpid()}

"""An aiohttp web app that receives Argil webhooks and renders videos with callbacks.

Argil does not sign webhooks: the receiver checks a secret token carried in the callback URL.
Argil must reach your app over https, so set PUBLIC_BASE_URL to its public address (a proxy or
tunnel); with the simulator the loopback address works as it is.

    python examples/webhook_app.py           # renders one video, waits for its event, exits
    python examples/webhook_app.py --serve   # keeps serving: POST /render/{video_id}
"""

import asyncio
import os
import sys

from aiohttp import web

from argil_async import AsyncArgil, Moment
from argil_async.events import Event, WebhookReceiver

PORT = int(os.environ.get("PORT", "0"))


def build_app(client: AsyncArgil, receiver: WebhookReceiver) -> web.Application:
    """The app: the receiver's POST route, plus a route that starts a render."""
    app = web.Application()
    receiver.mount(app)

    async def render(request: web.Request) -> web.Response:
        video_id = request.match_info["video_id"]
        video = await client.videos.render(video_id, callback_url=app["callback_url"])
        return web.json_response({"id": video.id, "status": video.status})

    app.router.add_post("/render/{video_id}", render)
    return app


async def main(serve: bool) -> None:
    receiver = WebhookReceiver(os.environ.get("ARGIL_WEBHOOK_SECRET"))

    @receiver.on
    def log_event(event: Event) -> None:
        print("webhook:", type(event).__name__, getattr(event, "video_id", ""))

    async with AsyncArgil() as client:
        app = build_app(client, receiver)
        runner = web.AppRunner(app, access_log_class=WebhookReceiver.access_log_class)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", PORT)
        await site.start()
        host, port = runner.addresses[0][:2]
        app["callback_url"] = receiver.callback_url(
            os.environ.get("PUBLIC_BASE_URL", f"http://{host}:{port}")
        )
        try:
            if serve:
                print(f"listening on http://{host}:{port}")
                await asyncio.Event().wait()
            await render_one(client, app["callback_url"], receiver)
        finally:
            await receiver.aclose()
            await runner.cleanup()


async def render_one(client: AsyncArgil, callback_url: str, receiver: WebhookReceiver) -> None:
    """Create a video, render it with the callback, and wait for the event instead of polling."""
    avatar = (await client.avatars.list(visibility="public"))[0]
    video = await client.videos.create(
        name="Webhook example", moments=[Moment(avatar_id=avatar.id, transcript="Ping!")]
    )
    await client.videos.render(video.id, callback_url=callback_url)
    event = await receiver.wait_for_video(video.id, timeout=1800)
    print(f"{video.id}: {event.event} {getattr(event, 'video_url', None)}")


if __name__ == "__main__":
    asyncio.run(main(serve="--serve" in sys.argv))

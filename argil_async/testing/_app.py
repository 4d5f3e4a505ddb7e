"""The aiohttp application: every documented route under /v1, the file routes, /_sim/counters."""

from __future__ import annotations

from aiohttp import web

from . import _api_assets as assets
from . import _api_avatars as avatars
from . import _api_subtitles as subtitles
from . import _api_videos as videos
from . import _api_webhooks as webhooks
from ._counters import COUNTERS_PATH
from ._faults import authenticate, simulator_middleware
from ._files import serve_file, serve_preview
from ._runtime import RUNTIME, Runtime

# Large enough for a base64 avatar image (10 MB of image is ~13.4 MB of data URI).
CLIENT_MAX_SIZE = 64 * 1024 * 1024


def build_app(runtime: Runtime) -> web.Application:
    """The application for one simulator; handlers find ``runtime`` under ``app[RUNTIME]``."""
    app = web.Application(middlewares=[simulator_middleware], client_max_size=CLIENT_MAX_SIZE)
    app[RUNTIME] = runtime
    app.add_routes(
        [
            web.get("/v1/assets", assets.list_assets),
            web.post("/v1/assets", assets.create_asset),
            web.get("/v1/assets/{id}", assets.get_asset),
            web.delete("/v1/assets/{id}", assets.delete_asset),
            web.get("/v1/avatars", avatars.list_avatars),
            web.post("/v1/avatars", avatars.create_avatar),
            web.get("/v1/avatars/{id}", avatars.get_avatar),
            web.get("/v1/voices", avatars.list_voices),
            web.post("/v1/voices", avatars.create_voice),
            web.get("/v1/voices/{id}", avatars.get_voice),
            web.get("/v1/videos", videos.list_videos),
            web.post("/v1/videos", videos.create_video),
            web.get("/v1/videos/{id}", videos.get_video),
            web.delete("/v1/videos/{id}", videos.delete_video),
            web.post("/v1/videos/{id}/render", videos.render_video_handler),
            web.get("/v1/subtitles", subtitles.list_subtitle_styles),
            web.get("/v1/subtitles/videos/{videoProjectId}/export", subtitles.export_subtitles),
            web.get("/v1/webhooks", webhooks.list_webhooks),
            web.post("/v1/webhooks", webhooks.create_webhook),
            web.put("/v1/webhooks/{id}", webhooks.update_webhook),
            web.delete("/v1/webhooks/{id}", webhooks.delete_webhook),
            web.get(COUNTERS_PATH, read_counters),
            web.get("/files/previews/{id}", serve_preview),
            web.get("/files/{kind}/{name}", serve_file),
        ]
    )
    return app


async def read_counters(request: web.Request) -> web.Response:
    """``GET /_sim/counters``: ``sim.counters()`` as JSON, for tests in another process.

    Outside ``/v1``: never counted, delayed or faulted; it takes the API key all the same.
    """
    rt = request.app[RUNTIME]
    authenticate(request, rt.config.api_key)
    return web.Response(
        body=rt.ledger.snapshot(rt.deliveries).to_json(), content_type="application/json"
    )

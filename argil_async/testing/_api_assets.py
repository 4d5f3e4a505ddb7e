"""GET/POST /assets, GET/DELETE /assets/{id}: header pagination, the 5-slot limit, duplicates."""

from __future__ import annotations

import math
import posixpath
from urllib.parse import urlsplit

from aiohttp import web

from ._checks import check_enum, check_url, reject_unknown, require_str
from ._http import (
    ApiError,
    bad_request,
    enum_param,
    int_param,
    json_response,
    not_found,
    page_count,
    page_slice,
    read_json_object,
)
from ._lifecycle import process_asset
from ._records import SimAsset
from ._runtime import RUNTIME, Runtime

ASSET_TYPES = ("AUDIO", "IMAGE", "VIDEO")
ASSET_STATUSES = ("PROCESSING", "READY", "FAILED")
UPLOAD_FORMATS = {
    "IMAGE": (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif"),
    "VIDEO": (".mp4", ".mov"),
}


async def list_assets(request: web.Request) -> web.Response:
    """A bare array, newest first, paginated by ``page``/``pageSize`` with X-* headers."""
    rt = request.app[RUNTIME]
    page = int_param(request.query, "page", 1)
    size = int_param(request.query, "pageSize", 20, high=100)
    types = _type_filter(request)
    status = enum_param(request.query, "status", ASSET_STATUSES) or "READY"
    matching = [
        asset
        for asset in reversed(list(rt.state.assets.values()))
        if asset.status == status and (not types or asset.type in types)
    ]
    headers = {
        "X-Total-Count": str(len(matching)),
        "X-Page": str(page),
        "X-Page-Size": str(size),
        "X-Total-Pages": str(page_count(len(matching), size)),
    }
    present = rt.presenter(request)
    body = [present.asset(asset) for asset in page_slice(matching, page, size)]
    return json_response(body, headers=headers)


def _type_filter(request: web.Request) -> set[str]:
    """``type`` values: repeated keys as documented, also ``type[]=`` and comma-separated lists."""
    raw = request.query.getall("type", []) + request.query.getall("type[]", [])
    types = {part.strip() for value in raw for part in value.split(",") if part.strip()}
    unknown = types.difference(ASSET_TYPES)
    if unknown:
        raise bad_request(
            f"type: must be one of AUDIO, IMAGE, VIDEO (got {', '.join(sorted(unknown))})"
        )
    return types


async def create_asset(request: web.Request) -> web.Response:
    """201 PROCESSING; 200 with the existing asset for a duplicate; 429 when 5 are processing."""
    rt = request.app[RUNTIME]
    name, type_, url = _check_upload(await read_json_object(request))
    present = rt.presenter(request)
    existing = rt.state.find_duplicate_asset(url, type_)
    if existing is not None:
        return json_response(present.asset(existing), status=200)
    _take_processing_slot(rt)
    asset = SimAsset(name=name, type=type_, source_url=url)
    rt.state.assets[asset.id] = asset
    rt.ledger.created["assets"] += 1
    processing = rt.state.processing_assets()
    rt.stats.max_processing_assets = max(rt.stats.max_processing_assets, processing)
    rt.spawn(process_asset(rt, asset))
    return json_response(present.asset(asset), status=201)


def _check_upload(body: dict[str, object]) -> tuple[str, str, str]:
    """The documented body: name (1..256), type IMAGE|VIDEO, a URL of a supported format."""
    reject_unknown(body, ("name", "type", "url"))
    name = require_str(body, "name", max_len=256)
    if body.get("type") == "AUDIO":
        raise bad_request("type: AUDIO uploads are not supported; must be IMAGE or VIDEO")
    type_ = check_enum(body.get("type"), ("IMAGE", "VIDEO"), "type")
    url = check_url(body.get("url"), "url")
    extension = posixpath.splitext(urlsplit(url).path)[1].lower()
    if extension and extension not in UPLOAD_FORMATS[type_]:
        formats = ", ".join(f.lstrip(".").upper() for f in UPLOAD_FORMATS[type_])
        raise bad_request(f"url: unsupported {type_} format {extension!r} (supported: {formats})")
    return name, type_, url


def _take_processing_slot(rt: Runtime) -> None:
    """Refuse a new upload with 429 while ``max_processing_assets`` are PROCESSING."""
    limit = rt.config.max_processing_assets
    if rt.state.processing_assets() < limit:
        return
    rt.stats.asset_rate_limited += 1
    retry_after = max(1, math.ceil(rt.config.asset_processing_time))
    message = f"assets: at most {limit} assets may be PROCESSING at once; retry later"
    raise ApiError(429, message, {"Retry-After": str(retry_after)})


async def get_asset(request: web.Request) -> web.Response:
    """One live asset; deleted ones are gone (404)."""
    rt = request.app[RUNTIME]
    asset = _live_asset(rt, request.match_info["id"])
    return json_response(rt.presenter(request).asset(asset))


async def delete_asset(request: web.Request) -> web.Response:
    """Soft delete: the asset moves to ``state.deleted_assets``; system music cannot be deleted."""
    rt = request.app[RUNTIME]
    asset = _live_asset(rt, request.match_info["id"])
    if asset.system:
        raise ApiError(
            404, f"Asset not found: {asset.id} (system library assets cannot be deleted)"
        )
    rt.state.deleted_assets[asset.id] = rt.state.assets.pop(asset.id)
    return json_response({"message": "Asset deleted"})


def _live_asset(rt: Runtime, asset_id: str) -> SimAsset:
    """The asset with that id, or 404."""
    asset = rt.state.assets.get(asset_id)
    if asset is None:
        raise not_found("Asset", asset_id)
    return asset

"""``argil avatars list``, ``voices list``, ``videos get|list``, ``videos download ID``.

Tables for people, ``--json`` for scripts (the API's own camelCase objects; a list is a JSON
array). Exit code 0, or 1 with the error on stderr when the API refuses.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from .._client import AsyncArgil
from ..errors import ArgilError
from ..models import Video
from ._session import api_session, print_json, print_table

__all__ = ["add_resource_commands"]

Fetch = Callable[[AsyncArgil, argparse.Namespace], Awaitable[Any]]


def add_resource_commands(commands: Any) -> None:
    """Add the resource commands to the ``argil`` subcommand parser."""
    avatars = commands.add_parser("avatars", help="list avatars").add_subparsers(
        dest="action", required=True
    )
    _with_json(avatars.add_parser("list", help="avatars you can use")).set_defaults(
        handler=_handler(_list_avatars, ["id", "name", "status", "orientation", "model"])
    )
    voices = commands.add_parser("voices", help="list voices").add_subparsers(
        dest="action", required=True
    )
    _with_json(voices.add_parser("list", help="voices you can use")).set_defaults(
        handler=_handler(_list_voices, ["id", "name", "language", "gender", "status"])
    )
    _add_video_commands(commands)


def _add_video_commands(commands: Any) -> None:
    videos = commands.add_parser("videos", help="get or list videos").add_subparsers(
        dest="action", required=True
    )
    get = _with_json(videos.add_parser("get", help="one video"))
    get.add_argument("id", help="the video id")
    get.set_defaults(handler=_handler(_get_video, None))
    listing = _with_json(videos.add_parser("list", help="videos, newest first"))
    listing.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    listing.add_argument("--name", help="only names containing this (case-insensitive)")
    listing.add_argument(
        "--extras",
        action="append",
        default=[],
        type=_pair,
        metavar="KEY=VALUE",
        help="only videos whose extras hold this pair (repeatable)",
    )
    listing.set_defaults(handler=_handler(_list_videos, ["id", "name", "status", "createdAt"]))
    download = _with_json(videos.add_parser("download", help="a finished video's file"))
    download.add_argument("id", help="the video id")
    download.add_argument(
        "--to", default=".", help="a file, or a folder for <id>.mp4 (default: here)"
    )
    download.add_argument("--subtitled", action="store_true", help="the subtitled version")
    download.set_defaults(handler=_handler(_download_video, None))


def _pair(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` (a bare ``KEY`` would silently filter on an empty value)."""
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def _with_json(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--simulate", action="store_true", help="use the embedded simulator (its data is not real)"
    )
    return parser


def _handler(fetch: Fetch, columns: list[str] | None) -> Callable[[argparse.Namespace], int]:
    def handle(args: argparse.Namespace) -> int:
        return asyncio.run(_show(fetch, columns, args))

    return handle


async def _show(fetch: Fetch, columns: list[str] | None, args: argparse.Namespace) -> int:
    try:
        async with api_session(json_output=args.json, simulate=args.simulate) as session:
            result = await fetch(session.client, args)
    except ArgilError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if isinstance(result, list):
        rows = [item.to_dict() for item in result]
        print_json(rows) if args.json else print_table(rows, columns or [])
    else:
        print_json(result.to_dict()) if args.json else _print_fields(result.to_dict())
    return 0


def _print_fields(fields: dict[str, Any]) -> None:
    """``name  value`` lines; lists show their length, nested objects their JSON."""
    width = max(len(name) for name in fields)
    for name, value in fields.items():
        if isinstance(value, list):
            value = f"{len(value)} item(s)"
        elif isinstance(value, dict):
            value = msgspec.json.encode(value).decode()
        if value is not None:
            print(f"{name.ljust(width)}  {value}")


async def _list_avatars(client: AsyncArgil, args: argparse.Namespace) -> Any:
    return await client.avatars.list()


async def _list_voices(client: AsyncArgil, args: argparse.Namespace) -> Any:
    return await client.voices.list()


async def _get_video(client: AsyncArgil, args: argparse.Namespace) -> Video:
    return await client.videos.get(args.id)


async def _download_video(client: AsyncArgil, args: argparse.Namespace) -> Any:
    path = await client.videos.download(args.id, args.to, subtitled=args.subtitled)
    return _Downloaded(args.id, str(path))


class _Downloaded(msgspec.Struct, frozen=True):
    """Where ``argil videos download`` put the file."""

    id: str
    path: str

    def to_dict(self) -> dict[str, Any]:
        """The fields shown."""
        return {"id": self.id, "path": self.path}


async def _list_videos(client: AsyncArgil, args: argparse.Namespace) -> list[Video]:
    extras = dict(args.extras) or None
    page_size = max(1, min(args.limit, 100))
    listing = client.videos.list(
        name_search_query=args.name, extras_filter=extras, page_size=page_size
    )
    return await listing.to_list(limit=args.limit)

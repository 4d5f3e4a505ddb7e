"""Paid calls made safe to retry: creates found again by their key, renders checked first.

Creating a video and starting a render are POSTs the server does not deduplicate. The retry
policy resends them only when they certainly never arrived (a 429, a connection that could not
open); after any other failure (a dropped connection, a timeout, a 5xx) the request may have
landed. Then, before sending again, these helpers ask the server: a video carrying the create's
key in its extras (``extras_filter``), or a video that has left IDLE (a render landed).

The seam for the applications (`SEAM`): the batch runner adopts the video an earlier
attempt created with `find_existing()` and checks a render with `rendered()`, so that a
batch and ``videos.create(idempotency_key=...)`` / ``videos.render`` agree on which video is
kept and on when a render has landed; a coordinated batch choosing among several videos of a
job keeps the one `seniority()` puts first, as `converge()` does. Those names (and
`IDEMPOTENCY_EXTRA`, which the simulator counts) are the only ones an application
imports from here
(``tests/unit/test_import_graph.py`` checks it); the rest may change with the client.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from . import _validation as check
from .errors import (
    APIConnectionError,
    APIStatusError,
    ArgilError,
    BadRequestError,
)
from .models import Video

if TYPE_CHECKING:
    from ._resources.videos import AsyncVideosResource

__all__ = [
    "IDEMPOTENCY_EXTRA",
    "SEAM",
    "converge",
    "find_existing",
    "is_uncertain",
    "keyed_extras",
    "render_once",
    "rendered",
    "seniority",
    "settle",
]

logger = logging.getLogger("argil_async")

IDEMPOTENCY_EXTRA = "argilIdempotencyKey"
#: What the applications (batch, the simulator) may import from this module.
SEAM = frozenset({"IDEMPOTENCY_EXTRA", "find_existing", "rendered", "seniority"})
T = TypeVar("T")


def is_uncertain(exc: BaseException) -> bool:
    """Whether a failed POST may still have been acted on by the server."""
    if isinstance(exc, APIConnectionError):
        return exc.maybe_sent
    if isinstance(exc, APIStatusError):
        return exc.status_code >= 500 or exc.status_code == 408
    return False


async def settle(
    send: Callable[[], Awaitable[T]],
    landed: Callable[[], Awaitable[T | None]],
    *,
    retries: int,
    wait: Callable[[BaseException, int], float],
    what: str,
) -> T:
    """``send()``; after an uncertain failure, ``landed()`` (the result if it did) or resend.

    At most ``retries`` resends; the last uncertain failure is raised when they run out.
    A 400 after an uncertain attempt is also checked with ``landed()``: the earlier attempt
    may have changed what the server accepts (a render makes a video leave IDLE).
    """
    failures = 0
    while True:
        try:
            return await send()
        except ArgilError as exc:
            refused_after_doubt = failures > 0 and isinstance(exc, BadRequestError)
            if refused_after_doubt or (is_uncertain(exc) and failures < retries):
                found = await _check(exc, failures, landed, wait, what)
                if found is not None:
                    return found
                if refused_after_doubt:
                    raise
                failures += 1
                continue
            raise


async def _check(
    exc: BaseException,
    failures: int,
    landed: Callable[[], Awaitable[T | None]],
    wait: Callable[[BaseException, int], float],
    what: str,
) -> T | None:
    logger.warning("%s may have reached the server (%s); checking", what, type(exc).__name__)
    await anyio.sleep(wait(exc, failures))
    found = await landed()
    if found is not None:
        logger.info("%s had landed; not sending it again", what)
    return found


async def find_existing(
    videos: AsyncVideosResource,
    extras: Mapping[str, str],
    accept: Callable[[Video], bool] = lambda video: True,
) -> Video | None:
    """The video whose extras hold ``extras`` (and that ``accept`` takes), or None.

    Several (a race between two creates with one key) give the one already under way, else
    the oldest, with a warning: the one `converge()` keeps.
    """
    found = [video for video in await videos.list(extras_filter=extras).to_list() if accept(video)]
    if not found:
        return None
    if len(found) > 1:
        logger.warning("%d videos carry extras %s; using one", len(found), dict(extras))
    return min(found, key=seniority)


async def converge(videos: AsyncVideosResource, extras: Mapping[str, str], created: Video) -> Video:
    """The video every racing create with these extras keeps; ``created`` is deleted if not it.

    The API does not deduplicate: two creates with one key (a request submitted twice, on two
    workers) can both land. Each creator then lists the key and keeps the same video, the one
    under way, else the oldest (then the smallest id), so only that one is ever rendered.
    Creating is free, and the extra IDLE video is deleted.
    """
    found = await videos.list(extras_filter=extras).to_list()
    keep = min([created, *(video for video in found if video.id != created.id)], key=seniority)
    if keep.id != created.id:
        logger.warning(
            "video %s raced %s for extras %s; keeping the older", created.id, keep.id, dict(extras)
        )
        try:
            await videos.delete(created.id)
        except ArgilError as exc:  # left IDLE: never rendered, and lookups pick the other
            logger.warning("could not delete video %s: %s", created.id, exc)
    return keep


def seniority(video: Video) -> tuple[bool, float, str]:
    """Sort key: under way first, then the oldest, then by id (the same order in every worker)."""
    stamp = video.created_at.timestamp() if video.created_at is not None else math.inf
    return (video.status == "IDLE", stamp, video.id)


async def rendered(videos: AsyncVideosResource, video_id: str) -> Video | None:
    """The video if a render has landed (it left IDLE), else None."""
    video = await videos.get(video_id)
    return None if video.status == "IDLE" else video


async def render_once(
    videos: AsyncVideosResource,
    send: Callable[[], Awaitable[Video]],
    video_id: str,
    *,
    retries: int,
    wait: Callable[[BaseException, int], float],
) -> Video:
    """Start a render; after an uncertain failure, read the status before sending again."""
    return await settle(
        send,
        lambda: rendered(videos, video_id),
        retries=retries,
        wait=wait,
        what=f"render of video {video_id}",
    )


def keyed_extras(extras: Any, key: str | None) -> Any:
    """``extras`` (a mapping; anything else is left for check_extras) plus the key."""
    if extras is not None and not isinstance(extras, Mapping):
        return extras  # check_extras refuses it, naming the field
    if extras is not None and extras.get(IDEMPOTENCY_EXTRA, key) != key:
        rule = "must not be set: it is reserved, pass idempotency_key= instead"
        raise check.fail(f"extras[{IDEMPOTENCY_EXTRA!r}]", rule)
    if key is None:
        return extras
    check.printable("idempotency_key", key, max_length=256)
    return {**(extras or {}), IDEMPOTENCY_EXTRA: key}

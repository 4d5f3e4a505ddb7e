"""``client.avatars``: create avatars from an image, list and wait for training."""

from __future__ import annotations

import os
import stat
import warnings
from collections.abc import Mapping
from typing import Final

import anyio
import msgspec
from typing_extensions import Unpack

from .. import _validation as check
from .._decoding import decode
from .._images import MAX_IMAGE_BYTES, data_uri, decode_data_uri, image_problem
from .._options import RequestOptions, WaitOptions
from .._polling import Goal, wait_for_status
from .._raw import RawMethod, RawResponseView
from ..models import AVATAR_FAILED_STATUSES, Avatar, AvatarModel, AvatarOrientation, Visibility
from ._base import Resource

__all__ = ["AsyncAvatarsResource"]


class _Source(msgspec.Struct, omit_defaults=True):
    """``datasetImage`` (one of url or base64) or ``datasetVideo``/``consentVideo`` (url)."""

    url: str | None = None
    base64: str | None = None


class _ImageAvatarBody(msgspec.Struct, rename="camel", omit_defaults=True, kw_only=True):
    type: str
    name: str
    dataset_image: _Source
    voice_id: str | None = None
    callback_url: str | None = None
    extras: dict[str, str] | None = None


class _VideoAvatarBody(msgspec.Struct, rename="camel", omit_defaults=True, kw_only=True):
    name: str
    dataset_video: _Source
    consent_video: _Source
    extras: dict[str, str] | None = None


class AsyncAvatarsResource(Resource):
    """Avatars present the moments of a video; only IDLE avatars can be used."""

    __slots__ = ()

    @property
    def with_raw_response(self) -> AsyncAvatarsResourceWithRawResponse:
        """The same methods, each returning a ``RawResponse`` (status, headers, request id).

        Example: ``raw = await client.avatars.with_raw_response.create(...)``, then
        ``raw.status_code``, ``raw.request_id`` and ``raw.parse()``.
        """
        return AsyncAvatarsResourceWithRawResponse(self)

    async def create(
        self,
        *,
        name: str,
        image_url: str | None = None,
        image: str | os.PathLike[str] | bytes | None = None,
        voice_id: str | None = None,
        callback_url: str | None = None,
        extras: Mapping[str, str] | None = None,
        **options: Unpack[RequestOptions],
    ) -> Avatar:
        """Create an avatar from one 16:9 or 9:16 image (720p to 4K, PNG/JPEG/WEBP, <= 10 MB).

        Give exactly one of ``image_url`` (https) or ``image`` (a file path, the bytes or a
        ``data:image/...;base64,`` URI, sent inline; its format, size and dimensions are
        checked first). Without ``voice_id`` Argil designs a voice from the image. The avatar
        starts TRAINING: see
        [`wait_until_ready()`][argil_async._resources.avatars.AsyncAvatarsResource.wait_until_ready].
        ``callback_url`` (https) receives one AVATAR_TRAINING_SUCCESS or AVATAR_TRAINING_FAILED POST
        when training ends (see ``argil_async.events.WebhookReceiver``). Example:

        ```python
        avatar = await client.avatars.create(name="Ada", image="ada.png")
        avatar = await client.avatars.wait_until_ready(avatar.id)
        ```
        """
        checked_name = check.name("name", name)
        if (image_url is None) == (image is None):
            raise check.fail("image_url/image", "give exactly one of the two")
        if image_url is not None:
            source = _Source(url=check.media_url("image_url", image_url))
        else:
            source = _Source(base64=await _data_uri(image))
        body = _ImageAvatarBody(
            type="IMAGE",
            name=checked_name,
            dataset_image=source,
            voice_id=check.optional_text("voice_id", voice_id, min_length=1),
            callback_url=_callback_url(callback_url),
            extras=check.extras(extras),
        )
        response = await self._client._request("POST", "/avatars", body=body, options=options)
        return decode(Avatar, response.body)

    async def create_from_video(
        self,
        *,
        name: str,
        dataset_video_url: str,
        consent_video_url: str,
        extras: Mapping[str, str] | None = None,
        **options: Unpack[RequestOptions],
    ) -> Avatar:
        """Deprecated by Argil: create an avatar from a training video and a consent video."""
        warnings.warn(
            "video-based avatar creation is deprecated by Argil; use avatars.create(image=...)",
            DeprecationWarning,
            stacklevel=2,
        )
        body = _VideoAvatarBody(
            name=check.name("name", name),
            dataset_video=_Source(url=check.media_url("dataset_video_url", dataset_video_url)),
            consent_video=_Source(url=check.media_url("consent_video_url", consent_video_url)),
            extras=check.extras(extras),
        )
        response = await self._client._request("POST", "/avatars", body=body, options=options)
        return decode(Avatar, response.body)

    async def get(self, id: str, **options: Unpack[RequestOptions]) -> Avatar:
        """Fetch one avatar (poll it while it trains)."""
        path = f"/avatars/{check.path_id('id', id)}"
        avatar, _ = await self._client._get(path, Avatar, options=options)
        return avatar

    async def list(
        self,
        *,
        orientation: AvatarOrientation | None = None,
        model: AvatarModel | None = None,
        visibility: Visibility | None = None,
        **options: Unpack[RequestOptions],
    ) -> list[Avatar]:
        """All avatars (not paginated); ``visibility`` is "public" (stock) or "private"."""
        params = check.query(
            orientation=check.query_value("orientation", orientation),
            model=check.query_value("model", model),
            visibility=check.query_value("visibility", visibility),
        )
        avatars, _ = await self._client._get("/avatars", list[Avatar], params, options)
        return avatars

    async def wait_until_ready(
        self,
        id: str,
        *,
        timeout: float = 600.0,
        poll_interval: float = 2.0,
        **options: Unpack[WaitOptions],
    ) -> Avatar:
        """Poll until the avatar is IDLE; GenerationFailedError on TRAINING_FAILED or REFUSED.

        ``timeout`` bounds the whole wait; the options go with every poll.
        """
        check.path_id("id", id)
        return await wait_for_status(
            lambda: self.get(id, **options),
            Goal(f"avatar {id}", done=("IDLE",), failed=AVATAR_FAILED_STATUSES),
            timeout=timeout,
            poll_interval=poll_interval,
        )


def _callback_url(value: str | None) -> str | None:
    """The one-shot training callback: https (plain http only to a loopback host)."""
    return None if value is None else check.url("callback_url", value, https_only=True)


async def _data_uri(image: object) -> str:
    """The image as a ``data:image/...;base64,`` URI, read off the loop if it is a file."""
    if isinstance(image, str) and image.startswith("data:"):
        data = decode_data_uri(check.text("image", image))
        if data is None:
            raise check.fail("image", "must be a data:image/(png|jpeg|webp);base64,... URI")
    elif isinstance(image, (bytes, bytearray, memoryview)):
        data = bytes(image)
    elif isinstance(image, (str, os.PathLike)):
        data = await _read_image(check.file_path("image", image))
    else:
        raise check.fail("image", "must be a file path, bytes or a data URI", image)
    problem = image_problem(data)
    if problem is not None:
        raise check.fail("image", problem)
    return data_uri(data)


async def _read_image(path: str) -> bytes:
    """The file's bytes; anything but a readable regular file of at most 10 MB is refused."""
    file = anyio.Path(path)
    try:
        info = await file.stat()
        if not stat.S_ISREG(info.st_mode):
            problem = "must be a regular file"
        elif info.st_size > MAX_IMAGE_BYTES:
            problem = f"must be at most 10 MB, got {info.st_size / 1e6:.1f} MB"
        else:
            return await file.read_bytes()
    except (OSError, ValueError) as exc:  # ValueError: a name the OS cannot encode
        problem = f"cannot be read ({exc})"
    raise check.fail("image", problem, path)


class AsyncAvatarsResourceWithRawResponse(RawResponseView):
    """``client.avatars.with_raw_response``: each method returns a ``RawResponse``."""

    __slots__ = ()

    create: Final = RawMethod(AsyncAvatarsResource.create)
    create_from_video: Final = RawMethod(AsyncAvatarsResource.create_from_video)
    get: Final = RawMethod(AsyncAvatarsResource.get)
    list: Final = RawMethod(AsyncAvatarsResource.list)
    wait_until_ready: Final = RawMethod(AsyncAvatarsResource.wait_until_ready)

"""``client.avatars``: create avatars from an image, list and wait for training."""

from __future__ import annotations

import base64
import os
import warnings
from collections.abc import Mapping
from typing import Any

import anyio

from .._decoding import decode
from .._polling import wait_for_status
from ..errors import InvalidRequestError
from ..models import AVATAR_FAILED_STATUSES, Avatar
from ._base import Resource, check_extras, check_name, check_url, path_id, query

__all__ = ["AsyncAvatarsResource"]

MAX_IMAGE_BYTES = 10 * 1024 * 1024
_IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
)


class AsyncAvatarsResource(Resource):
    """Avatars present the moments of a video; only IDLE avatars can be used."""

    __slots__ = ()

    async def create(
        self,
        *,
        name: str,
        image_url: str | None = None,
        image: str | os.PathLike[str] | bytes | None = None,
        voice_id: str | None = None,
        extras: Mapping[str, str] | None = None,
    ) -> Avatar:
        """Create an avatar from one 16:9 or 9:16 image (720p to 4K, PNG/JPEG/WEBP, <= 10 MB).

        Give exactly one of ``image_url`` (https) or ``image`` (a file path or the bytes,
        sent inline). Without ``voice_id`` Argil designs a voice from the image. The avatar
        starts TRAINING: see :meth:`wait_until_ready`. Example::

            avatar = await client.avatars.create(name="Ada", image="ada.png")
            avatar = await client.avatars.wait_until_ready(avatar.id)
        """
        body: dict[str, Any] = {"type": "IMAGE", "name": check_name("name", name)}
        if (image_url is None) == (image is None):
            raise InvalidRequestError("image_url/image", "give exactly one of the two")
        if image_url is not None:
            body["datasetImage"] = {"url": check_url("image_url", image_url, https_only=True)}
        else:
            body["datasetImage"] = {"base64": await _data_uri(image)}
        if voice_id is not None:
            body["voiceId"] = path_id("voice_id", voice_id)
        if extras is not None:
            body["extras"] = check_extras(extras)
        response = await self._client._request("POST", "/avatars", body=body)
        return decode(Avatar, response.body)

    async def create_from_video(
        self,
        *,
        name: str,
        dataset_video_url: str,
        consent_video_url: str,
        extras: Mapping[str, str] | None = None,
    ) -> Avatar:
        """Deprecated by Argil: create an avatar from a training video and a consent video."""
        warnings.warn(
            "video-based avatar creation is deprecated by Argil; use avatars.create(image=...)",
            DeprecationWarning,
            stacklevel=2,
        )
        body: dict[str, Any] = {
            "name": check_name("name", name),
            "datasetVideo": {
                "url": check_url("dataset_video_url", dataset_video_url, https_only=True)
            },
            "consentVideo": {
                "url": check_url("consent_video_url", consent_video_url, https_only=True)
            },
        }
        if extras is not None:
            body["extras"] = check_extras(extras)
        response = await self._client._request("POST", "/avatars", body=body)
        return decode(Avatar, response.body)

    async def get(self, id: str) -> Avatar:
        """Fetch one avatar (poll it while it trains)."""
        avatar, _ = await self._client._get(f"/avatars/{path_id('id', id)}", Avatar)
        return avatar

    async def list(
        self,
        *,
        orientation: str | None = None,
        model: str | None = None,
        visibility: str | None = None,
    ) -> list[Avatar]:
        """All avatars (not paginated); ``visibility`` is "public" (stock) or "private"."""
        params = query(orientation=orientation, model=model, visibility=visibility)
        avatars, _ = await self._client._get("/avatars", list[Avatar], params)
        return avatars

    async def wait_until_ready(
        self, id: str, *, timeout: float = 600.0, poll_interval: float = 2.0
    ) -> Avatar:
        """Poll until the avatar is IDLE; GenerationFailedError on TRAINING_FAILED or REFUSED."""
        path_id("id", id)
        return await wait_for_status(
            lambda: self.get(id),
            done=("IDLE",),
            failed=AVATAR_FAILED_STATUSES,
            timeout=timeout,
            poll_interval=poll_interval,
            what=f"avatar {id}",
        )


async def _data_uri(image: object) -> str:
    """The image as a ``data:image/...;base64,`` URI, read off the loop if it is a file."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        data = bytes(image)
    elif isinstance(image, (str, os.PathLike)):
        path = anyio.Path(os.fspath(image))
        try:
            size = (await path.stat()).st_size
        except OSError as exc:
            raise InvalidRequestError("image", f"cannot read {os.fspath(image)!r}: {exc}") from None
        _check_size(size)
        data = await path.read_bytes()
    else:
        raise InvalidRequestError(
            "image", f"must be a file path or bytes, got {type(image).__name__}"
        )
    _check_size(len(data))
    return f"data:image/{_image_format(data)};base64,{base64.b64encode(data).decode('ascii')}"


def _check_size(size: int) -> None:
    if size > MAX_IMAGE_BYTES:
        raise InvalidRequestError("image", f"must be at most 10 MB, got {size / 1e6:.1f} MB")
    if size == 0:
        raise InvalidRequestError("image", "is empty")


def _image_format(data: bytes) -> str:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    for signature, name in _IMAGE_SIGNATURES:
        if data.startswith(signature):
            return name
    raise InvalidRequestError("image", "must be a PNG, JPEG or WEBP image")

"""Raw HTTP helpers for the simulator's own tests (no SDK involved)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from argil_async.testing import ArgilSimulator


@dataclass
class Reply:
    """A finished response: status, headers and the raw body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Api:
    """Raw calls to one simulator: `await api.get("/avatars")`, paths relative to /v1."""

    def __init__(self, session: aiohttp.ClientSession, sim: ArgilSimulator) -> None:
        self.session = session
        self.sim = sim

    async def call(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Reply:
        url = path if path.startswith("http") else self.sim.base_url + path
        sent = {"x-api-key": self.sim.api_key} if auth else {}
        sent.update(headers or {})
        async with self.session.request(method, url, headers=sent, **kwargs) as response:
            return Reply(response.status, response.headers, await response.read())

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("PUT", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("DELETE", path, **kwargs)

    async def avatar_id(self) -> str:
        """The first stock avatar (IDLE, public, with gestures)."""
        return str((await self.get("/avatars")).json()[0]["id"])

    async def create_video(self, **fields: Any) -> dict[str, Any]:
        """POST a one-moment video (201 expected) and return its JSON."""
        body = {
            "name": "Demo",
            "moments": [{"avatarId": await self.avatar_id(), "transcript": "Hi"}],
        }
        reply = await self.post("/videos", json={**body, **fields})
        assert reply.status == 201, reply.body
        return dict(reply.json())

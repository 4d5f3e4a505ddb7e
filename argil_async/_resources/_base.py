"""What every resource shares: a handle on the client (the argument rules are in _validation)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._client import AsyncArgil

__all__ = ["Resource"]


class Resource:
    """Base of the resources: holds the client that sends the requests."""

    __slots__ = ("_client",)

    def __init__(self, client: AsyncArgil) -> None:
        self._client = client

"""The bases of the generated sync classes: what ``Argil`` and its resources have no async twin of.

``scripts/gen_sync.py`` writes ``_sync/`` from the async code, method by method; the runtime
handle, ``with`` and ``close`` are the same for every generation, so they are written here
once. Example: ``class Argil(SyncClient)`` in ``_sync/client.py``.
"""

from __future__ import annotations

from types import TracebackType

from typing_extensions import Self

from ._sync_runtime import SyncRuntime

__all__ = ["SyncClient", "SyncResource"]


class SyncResource:
    """Base of the sync resources: the runtime that runs their async twins' calls."""

    __slots__ = ("_runtime",)

    def __init__(self, runtime: SyncRuntime) -> None:
        self._runtime = runtime


class SyncClient:
    """Base of ``Argil``: the lifetime of its event-loop thread (``with``, ``close``)."""

    _runtime: SyncRuntime

    @classmethod
    def _on(cls, runtime: SyncRuntime) -> Self:
        """A client on an existing runtime (``with_options`` shares its parent's loop thread)."""
        client = cls.__new__(cls)
        client._runtime = runtime
        client._attach()
        return client

    def _attach(self) -> None:
        """Hang the resources on this client (generated in ``Argil``)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return repr(self._runtime.settings).replace("AsyncArgil(", "Argil(", 1)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP session on its loop and stop the loop thread.

        Safe to call twice; using the client again afterwards starts a new loop.
        """
        self._runtime.close()

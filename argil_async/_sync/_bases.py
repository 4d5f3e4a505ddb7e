"""The bases of the generated sync classes: what ``Argil`` and its resources have no async twin of.

``scripts/gen_sync.py`` writes ``_sync/`` from the async code, method by method; the runtime
handle, ``with`` and ``close`` are the same for every generation, so they are written here
once. Example: ``class Argil(SyncClient)`` in ``_sync/client.py``.
"""

from __future__ import annotations

from types import TracebackType

from typing_extensions import Self

from .._config import ClientConfig
from .._seam import Timeout
from ._runtime import SyncRuntime

__all__ = ["SyncClient", "SyncResource"]


class SyncResource:
    """Base of the sync resources: the runtime that runs their async twins' calls."""

    __slots__ = ("_runtime",)

    def __init__(self, runtime: SyncRuntime) -> None:
        self._runtime = runtime


class SyncClient:
    """Base of ``Argil``: its configuration, and the lifetime of its event-loop thread.

    ``Argil.__init__`` and ``with_options`` are AsyncArgil's, copied by the generator: they
    resolve or replace a ``ClientConfig`` and hand it to `_configure()` or `_derive()`
    here. The public attributes read the configuration, as AsyncArgil's do.
    """

    _runtime: SyncRuntime

    def _configure(self, config: ClientConfig) -> None:
        """Run this client's calls on a runtime of its own (a loop thread started on first use)."""
        self._runtime = SyncRuntime(config)
        self._attach()

    def _derive(self, config: ClientConfig) -> Self:
        """A client on ``config`` sharing this one's loop thread, session and limiter."""
        client = type(self).__new__(type(self))
        client._runtime = self._runtime.derive(config)
        client._attach()
        return client

    @property
    def _config(self) -> ClientConfig:
        return self._runtime.config

    def _attach(self) -> None:
        """Hang the resources on this client (generated in ``Argil``)."""
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        """The API's base URL (``ARGIL_BASE_URL`` if set when the client was made)."""
        return self._config.base_url

    @property
    def timeout(self) -> Timeout:
        """The timeouts each call runs with unless it gives its own."""
        return self._config.timeout

    @property
    def max_retries(self) -> int:
        """The resends allowed per request unless a call gives its own (the policy's)."""
        return self._config.max_retries

    @property
    def max_response_size(self) -> int:
        """The largest API response body accepted, in bytes."""
        return self._config.max_response_size

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key='***')"

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

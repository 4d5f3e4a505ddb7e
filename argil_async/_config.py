"""The client's configuration: checked once, frozen, shared by ``AsyncArgil``, ``Argil`` and copies.

Two frozen values, after httpx's ``_config.py`` and openai-python's ``FinalRequestOptions``:

- `ClientConfig`: everything the constructor was given, resolved (the environment read,
  every argument checked) in one place, `ClientConfig.resolve()`. ``with_options`` is a
  `ClientConfig.replace()`; the sync runtime holds a config, never a client.
- `CallOptions`: the options one call runs with. A client's defaults are one; a call that
  passes options gets `CallOptions.merged()`, and a call that passes none uses the
  client's own object as is (no copy, no check: the fast path).

``timeout`` and ``max_retries`` of a client are read from its options, and ``max_retries`` is
the retry policy's: the two cannot disagree.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import msgspec
from typing_extensions import Unpack

from . import _validation as check
from ._bodies import DEFAULT_MAX_RESPONSE_SIZE
from ._decoding import encode
from ._options import RequestOptions, check_options, merged_query
from ._redact import register_secret
from ._retry import RetryPolicy
from ._seam import ConnectorArg, Request, Timeout, TraceConfigs, Transport
from .limits._local import AssetLimiter

__all__ = ["DEFAULT_BASE_URL", "CallOptions", "ClientConfig"]

DEFAULT_BASE_URL = "https://api.argil.ai/v1"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_NO_STRINGS: Mapping[str, str] = {}


class _Aiohttp:
    """aiohttp's names, for ``_seam``'s run-time annotations (``ConnectorArg``,
    ``TraceConfigs``): the first one resolved loads the transport, and aiohttp with it."""

    def __getattr__(self, name: str) -> Any:
        from . import _transport  # aiohttp: loaded by the first client, or here

        return getattr(vars(_transport)["aiohttp"], name)


_aiohttp = _Aiohttp()


@dataclass(frozen=True, slots=True)
class CallOptions:
    """The options a call runs with: the client's defaults, with the call's own on top.

    ``given`` holds the checked options that were set (by ``with_options`` or by the call),
    each replacing the client's value of the same name; ``timeout`` and ``max_retries`` are
    those in force, set or not. An empty ``given`` is the fast path: nothing to merge.
    """

    timeout: Timeout
    max_retries: int
    given: RequestOptions = field(default_factory=lambda: RequestOptions())

    def merged(self, options: Mapping[str, Any]) -> CallOptions:
        """These options with ``options`` (checked here) on top."""
        checked = check_options(options)
        return CallOptions(
            checked.get("timeout", self.timeout),  # type: ignore[arg-type]
            checked.get("max_retries", self.max_retries),
            {**self.given, **checked},
        )

    def request(
        self,
        method: str,
        path: str,
        params: Sequence[tuple[str, str]],
        body: Any,
        idempotent: bool,
    ) -> Request:
        """The request a call sends under these options (extra headers, query and body)."""
        given = self.given
        if not given:
            payload = None if body is None else encode(body)
            return Request(method, path, tuple(params), payload, idempotent)
        extra_body = given.get("extra_body")
        if extra_body is not None and method in _BODY_METHODS:
            body = {**(_builtins(body) if body is not None else {}), **extra_body}
        extra_query = given.get("extra_query")
        return Request(
            method,
            path,
            tuple(params) if extra_query is None else merged_query(params, extra_query),
            None if body is None else encode(body),
            idempotent,
            given.get("extra_headers", _NO_STRINGS),
            timeout=given.get("timeout"),  # type: ignore[arg-type]
        )


def _builtins(body: Any) -> dict[str, Any]:
    built: dict[str, Any] = msgspec.to_builtins(body)
    return built


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """A client's whole configuration, checked once by `resolve()`; never changed after.

    The client copies made by ``with_options`` hold a `replace()` of it and share the
    HTTP session, the asset limiter and the retry pipelines of the client they came from.
    """

    api_key: str = field(repr=False)
    base_url: str
    retry_policy: RetryPolicy
    options: CallOptions
    max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE
    asset_concurrency: int = 5
    asset_limiter: AssetLimiter | None = None
    proxy: str | None = None
    trust_env: bool = True
    trace_configs: TraceConfigs = ()
    connector: ConnectorArg | None = None
    transport: Transport | None = None
    server: tuple[str, int] = ("", 0)  # host and port, for logs and spans

    @classmethod
    def resolve(
        cls,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | Timeout = 60.0,
        max_retries: int = 2,
        *,
        asset_concurrency: int = 5,
        asset_limiter: AssetLimiter | None = None,
        proxy: str | None = None,
        trust_env: bool = True,
        trace_configs: TraceConfigs = (),
        connector: ConnectorArg | None = None,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        transport: Transport | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> ClientConfig:
        """The constructor's arguments checked, with the environment read now (and only now).

        ``retry_policy`` replaces the whole policy, ``max_retries`` included: the client's
        ``max_retries`` is then the policy's.
        """
        key = check.api_key(api_key if api_key is not None else os.environ.get("ARGIL_API_KEY"))
        if base_url is not None:
            check.text("base_url", base_url)
        url = check.base_url(base_url or os.environ.get("ARGIL_BASE_URL") or DEFAULT_BASE_URL)
        timeouts = check.timeout("timeout", timeout)
        retries = check.integer("max_retries", max_retries, low=0)
        check.integer("asset_concurrency", asset_concurrency, low=1)
        if retry_policy is None:
            retry_policy = RetryPolicy(max_retries=retries)
        elif not isinstance(retry_policy, RetryPolicy):
            raise check.fail("retry_policy", "must be a RetryPolicy", retry_policy)
        if transport is not None and not all(
            callable(getattr(transport, name, None)) for name in ("send", "stream", "aclose")
        ):
            raise check.fail("transport", "must have send, stream and aclose methods", transport)
        register_secret(key)
        size = check.integer("max_response_size", max_response_size, low=1)
        from ._transport import checked_http_settings  # aiohttp: loaded by the first client

        http = checked_http_settings(proxy, trust_env, trace_configs, connector)
        # A total deadline covers each whole call, retries included: it is an option then.
        given: RequestOptions = {} if timeouts.total is None else {"timeout": timeouts}
        return cls(
            key,
            url,
            retry_policy,
            CallOptions(timeouts, retry_policy.max_retries, given),
            size,
            asset_concurrency,
            _checked_limiter(asset_concurrency, asset_limiter),
            *http,
            transport,
            _server_of(url),
        )

    def replace(self, **options: Unpack[RequestOptions]) -> ClientConfig:
        """This configuration with other call defaults (checked here): ``with_options``."""
        return dataclasses.replace(self, options=self.options.merged(options))

    @property
    def timeout(self) -> Timeout:
        """The timeouts calls run with unless they give their own."""
        return self.options.timeout

    @property
    def max_retries(self) -> int:
        """The resends allowed unless a call gives its own ``max_retries``."""
        return self.options.max_retries


def _checked_limiter(concurrency: int, limiter: AssetLimiter | None) -> AssetLimiter | None:
    """``limiter`` if it is one and ``concurrency`` was left alone."""
    if limiter is None:
        return None
    if concurrency != 5:  # 5, the default, is what a limiter's owner would mean anyway
        raise check.fail("asset_limiter", "give asset_concurrency or asset_limiter, not both")
    what = "an argil_async.limits.AssetLimiter"
    return check.instance("asset_limiter", limiter, AssetLimiter, what)  # type: ignore[type-abstract]


def _server_of(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)

"""Per-call options and response metadata, shared by every API method.

Every API method takes the same keyword-only options, typed once as
[`RequestOptions`][argil_async.RequestOptions] and spelled ``**options: Unpack[RequestOptions]`` in
each signature, rather than five copied parameters per method: mypy checks the names and types, and
a new option is one line here.

    video = await client.videos.get(video_id, timeout=5, max_retries=0)
    raw = await with_raw_response(client.videos.get, video_id)
    print(raw.status_code, raw.request_id, raw.elapsed, raw.retries)
    video = raw.parse()
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

from typing_extensions import ParamSpec, TypedDict

from . import _validation as check
from . import errors
from ._observe import SINK, ResponseInfo
from ._seam import Timeout

__all__ = [
    "OPTION_NAMES",
    "RawResponse",
    "RequestOptions",
    "WaitOptions",
    "check_options",
    "split_options",
    "with_raw_response",
]

T = TypeVar("T")
P = ParamSpec("P")


class WaitOptions(TypedDict, total=False):
    """The options of methods whose own ``timeout`` bounds the whole call (uploads, waiters).

    - ``max_retries``: resends allowed for each request (0 turns retries off).
    - ``extra_headers`` / ``extra_query``: sent with each request, over the SDK's own.
    - ``extra_body``: merged last into a POST/PUT JSON body, for fields the SDK does not
      model yet (``extra_body={"type": "..."}``).
    """

    max_retries: int
    extra_headers: Mapping[str, str]
    extra_query: Mapping[str, str]
    extra_body: Mapping[str, object]


class RequestOptions(WaitOptions, total=False):
    """Options any API method accepts as keywords (``client.with_options`` takes them too).

    ``timeout``: seconds (the read timeout) or a [`Timeout`][argil_async.Timeout];
    ``Timeout(total=...)`` is a deadline for the whole call, retries and their waits included. The
    others are those of `WaitOptions`.
    """

    timeout: float | Timeout


#: The names of the options, to tell them from a method's own keywords.
OPTION_NAMES = frozenset(RequestOptions.__optional_keys__)


def split_options(kwargs: dict[str, Any]) -> RequestOptions:
    """Take the options out of ``kwargs`` (a method's ``**`` that also holds other keywords)."""
    return {name: kwargs.pop(name) for name in OPTION_NAMES if name in kwargs}  # type: ignore[return-value]


def check_options(options: Mapping[str, Any]) -> RequestOptions:
    """Validate options once, so a bad one fails before anything is sent."""
    checked: dict[str, Any] = {}
    for name, value in options.items():
        if name == "timeout":
            value = check.timeout(name, value)
        elif name == "max_retries":
            value = check.integer(name, value, low=0)
        elif name in ("extra_headers", "extra_query", "extra_body"):
            value = check.string_map(name, value, any_values=name == "extra_body")
            if name == "extra_headers" and not all(map(_header_safe, value.items())):
                raise check.fail(name, "must hold printable Latin-1 names and values (no CR/LF)")
        else:
            raise check.fail(name, "must be a RequestOptions field (it is not an option)")
        checked[name] = value
    return checked  # type: ignore[return-value]


def _header_safe(item: tuple[str, str]) -> bool:
    """A header aiohttp can send: a printable ASCII name, a printable Latin-1 value."""
    name, value = item
    latin1 = all(ord(char) < 0x100 for char in value)
    return (
        name.isascii()
        and name.isprintable()
        and ":" not in name
        and bool(name.strip())
        and (value.isprintable() and latin1)
    )


def merged_query(
    params: Sequence[tuple[str, str]], extra: Mapping[str, str]
) -> tuple[tuple[str, str], ...]:
    """The SDK's query pairs with ``extra`` on top (an extra key replaces the SDK's)."""
    kept = [(key, value) for key, value in params if key not in extra]
    return (*kept, *extra.items())


@dataclass(frozen=True, slots=True)
class RawResponse(Generic[T]):
    """A method's result with the metadata of the requests it sent.

    ``status_code``, ``headers``, ``request_id``, ``elapsed`` and ``retries`` describe the
    call's first request (the one the method is named for: ``upload()``'s POST answers 201
    for a new asset, 200 for an existing one); ``responses`` lists every request in order
    (an ``upload(wait=True)`` also polls). ``parse()`` returns the method's result.
    """

    result: T
    responses: tuple[ResponseInfo, ...]

    def parse(self) -> T:
        """The value the method returned (already decoded)."""
        return self.result

    @property
    def status_code(self) -> int:
        """The HTTP status of the first request."""
        return self._first.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        """The response headers of the first request."""
        return self._first.headers

    @property
    def request_id(self) -> str | None:
        """The server's request id for the first request, if it sent one."""
        return self._first.request_id

    @property
    def elapsed(self) -> float:
        """Seconds the first request took, retries and waits included."""
        return self._first.elapsed

    @property
    def retries(self) -> int:
        """How many times the first request was resent."""
        return self._first.retries

    @property
    def _first(self) -> ResponseInfo:
        if not self.responses:
            raise errors.ArgilError("this call sent no API request (nothing to describe)")
        return self.responses[0]


# An async method matches both overloads; the first (awaitable) one wins, as intended.
@overload
def with_raw_response(  # type: ignore[overload-overlap]
    method: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs
) -> Awaitable[RawResponse[T]]: ...
@overload
def with_raw_response(
    method: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
) -> RawResponse[T]: ...
def with_raw_response(method: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Call a client method and return its result with the response metadata.

    Works with any method of either client, and concurrent calls never see each other's
    metadata (each task or thread records its own):

    ```python
    raw = await with_raw_response(client.assets.upload, name="logo", type="IMAGE", url=url)
    print("new" if raw.status_code == 201 else "existing", raw.parse().id)

    raw = with_raw_response(sync_client.videos.get, video_id)   # the sync client: no await
    ```
    """
    if inspect.iscoroutinefunction(method):
        return _raw_async(method, args, kwargs)
    sink: list[ResponseInfo] = []
    token = SINK.set(sink)
    try:
        result = method(*args, **kwargs)
    finally:
        SINK.reset(token)
    return RawResponse(result, tuple(sink))


async def _raw_async(method: Callable[..., Awaitable[T]], args: Any, kwargs: Any) -> RawResponse[T]:
    sink: list[ResponseInfo] = []
    token = SINK.set(sink)
    try:
        result = await method(*args, **kwargs)
    finally:
        SINK.reset(token)
    return RawResponse(result, tuple(sink))

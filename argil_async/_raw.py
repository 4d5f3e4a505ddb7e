"""``resource.with_raw_response``: the resource's methods, each returning a ``RawResponse``.

openai's shape, beside the function form ``with_raw_response(client.videos.get, id)``:

```python
raw = await client.videos.with_raw_response.get(video_id)
print(raw.status_code, raw.request_id)
video = raw.parse()
```

Each resource module declares its view once, one line per method, e.g.
``get = RawMethod(AsyncVideosResource.get)``: the method's parameters are kept for type
checkers and its result becomes ``RawResponse[...]`` (awaitable for the async client).
``scripts/gen_sync.py`` writes the sync twin of each view.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, Generic, TypeVar, overload

from typing_extensions import ParamSpec, Self

from ._options import RawResponse, with_raw_response

__all__ = ["RawMethod", "RawResponseView"]

P = ParamSpec("P")
T = TypeVar("T")
R = TypeVar("R")


class RawResponseView:
    """The base of each resource's ``with_raw_response`` view: holds the resource."""

    __slots__ = ("_resource",)

    def __init__(self, resource: object) -> None:
        self._resource = resource

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._resource!r}>"


class RawMethod(Generic[P, R]):
    """A view's member: the resource's method of the same name, through ``with_raw_response``.

    Read on a view, it is a callable taking the method's arguments (``P``) and returning
    ``R``: ``Awaitable[RawResponse[T]]`` for an async method, ``RawResponse[T]`` for a sync one.
    """

    @overload
    def __init__(
        self: RawMethod[P, Awaitable[RawResponse[T]]],
        method: Callable[Concatenate[Any, P], Awaitable[T]],
    ) -> None: ...
    @overload
    def __init__(
        self: RawMethod[P, RawResponse[T]], method: Callable[Concatenate[Any, P], T]
    ) -> None: ...
    def __init__(self, method: Callable[..., Any]) -> None:
        self._name: str = method.__name__
        self.__doc__ = f"``{method.__qualname__}``, returning a ``RawResponse`` of its result."

    @overload
    def __get__(self, view: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, view: RawResponseView, owner: type[Any]) -> Callable[P, R]: ...
    def __get__(self, view: RawResponseView | None, owner: type[Any]) -> Any:
        if view is None:
            return self
        method = getattr(view._resource, self._name)
        call = functools.partial(with_raw_response, method)
        functools.update_wrapper(call, method)
        return call

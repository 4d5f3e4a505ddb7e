"""Re-exported classes report the public module they are imported from, as httpx's do.

``repr(argil_async.models.Video)``, tracebacks and pickles then name ``argil_async.models``,
not the private module that happens to define the class today, so moving code between private
modules changes nothing users see. Each public package calls
[`rehome()`][argil_async.models._rehome] last:

```python
rehome(__name__, globals())
```
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import MutableMapping
from typing import Any

__all__ = ["is_private", "rehome"]


def is_private(module: str) -> bool:
    """Whether a dotted module name goes through a private (``_``-prefixed) part."""
    return any(part.startswith("_") for part in module.split("."))


def rehome(public: str, namespace: MutableMapping[str, Any]) -> None:
    """Set ``__module__`` to ``public`` on the classes of ``__all__`` defined in private modules.

    String annotations (``from __future__ import annotations``) are evaluated first, in the
    defining module: ``typing.get_type_hints`` and msgspec look them up in the namespace of
    ``cls.__module__``, which is about to change. Names that do not resolve stay strings.
    """
    for name in namespace["__all__"]:
        value = namespace[name]
        if isinstance(value, type) and value.__name__ == name and is_private(value.__module__):
            _resolve_annotations(value)
            value.__module__ = public


def _resolve_annotations(cls: type) -> None:
    annotations = inspect.get_annotations(cls)
    if annotations:
        scope, local = dict(vars(sys.modules[cls.__module__])), dict(vars(cls))
        cls.__annotations__ = {k: _evaluated(v, scope, local) for k, v in annotations.items()}


def _evaluated(annotation: Any, scope: dict[str, Any], local: dict[str, Any]) -> Any:
    if not isinstance(annotation, str):
        return annotation
    try:
        return eval(annotation, scope, local)
    except NameError:  # a TYPE_CHECKING-only name: get_type_hints could not resolve it either
        return annotation

"""A logging filter that keeps webhook tokens out of access logs (uvicorn, gunicorn, aiohttp)."""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping
from typing import Any

__all__ = ["ACCESS_LOGGERS", "RedactTokenFilter"]

ACCESS_LOGGERS = ("uvicorn.access", "gunicorn.access", "aiohttp.access")

# ``token=...`` at the start of a query string or after ? & ; or a space (gunicorn's %(q)s atom).
_TOKEN = re.compile(r"(^|[?&;\s])(token=)[^&;\s\"']*", re.IGNORECASE)


class RedactTokenFilter(logging.Filter):
    """Replace the value of every ``token=`` query parameter in a log record by ``***``.

    Access logs record the full request line, and a webhook's callback URL carries its secret
    token in the query string (Argil does not sign those deliveries), so every line logged for a
    delivery would hold the secret. Install it on the access loggers of your server, in every
    worker (at import time of your app module is fine):

    ```python
    RedactTokenFilter.install()   # uvicorn.access, gunicorn.access, aiohttp.access
    ```

    or in a ``logging.config.dictConfig`` (``uvicorn --log-config``, gunicorn's
    ``logconfig_dict``): ``"filters": {"argil": {"()": "argil_async.events.RedactTokenFilter"}}``.
    ``secrets`` are literal values to mask wherever they appear too.
    """

    def __init__(self, name: str = "", *, secrets: tuple[str, ...] = ()) -> None:
        super().__init__(name)
        self._secrets = tuple(secret for secret in secrets if secret)

    @classmethod
    def install(cls, *loggers: str, secrets: tuple[str, ...] = ()) -> RedactTokenFilter:
        """Add one filter to ``loggers`` (the access loggers above by default); return it."""
        log_filter = cls(secrets=secrets)
        for name in loggers or ACCESS_LOGGERS:
            logging.getLogger(name).addFilter(log_filter)
        return log_filter

    def redact(self, text: str) -> str:
        """``text`` with token values (and the given secrets) replaced by ``***``."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return _TOKEN.sub(r"\1\2***", text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the message, its arguments and its extras in place; never drops a record.

        Extras matter to structured (JSON) log formatters: aiohttp's access logger passes the
        request line as ``extra={"first_request_line": ...}``.
        """
        if isinstance(record.msg, str):
            record.msg = self.redact(record.msg)
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(self.redact(a) if isinstance(a, str) else a for a in args)
        elif isinstance(args, MutableMapping):  # gunicorn's atoms: changed in place, keeping
            self._redact_values(args)  # its class (it answers "-" for unknown keys)
        for name in vars(record).keys() - _RECORD_FIELDS:
            value = getattr(record, name)
            if isinstance(value, str):
                setattr(record, name, self.redact(value))
            elif isinstance(value, MutableMapping):  # aiohttp: {"request_header": {...}}
                self._redact_values(value)
        return True

    def _redact_values(self, mapping: MutableMapping[Any, Any]) -> None:
        for key, value in list(mapping.items()):
            if isinstance(value, str):
                mapping[key] = self.redact(value)


# What every LogRecord has: anything else on a record came in through ``extra=``.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
}

"""The error tree: one docstring lists every error, and each class says which system failed."""

from __future__ import annotations

import inspect
import re

import pytest

from argil_async import batch, errors, limits
from argil_async.errors import (
    APIConnectionError,
    APIStatusError,
    ArgilError,
    GenerationFailedError,
    InvalidRequestError,
    LocalStorageError,
    RedisError,
    RedisUnavailableError,
    ResponseValidationError,
    WaitTimeoutError,
    WebhookError,
)

_ERROR_MODULES = {"": errors, "limits.": limits, "batch.": batch}


def _public_errors() -> dict[str, type[BaseException]]:
    """Every public exception class of errors, limits and batch, by its name in the tree."""
    found: dict[str, type[BaseException]] = {}
    for prefix, module in _ERROR_MODULES.items():
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isclass(value) and issubclass(value, BaseException):
                found[prefix + name] = value
    return found


def _drawn_tree() -> dict[str, str | None]:
    """The tree drawn in errors.py's docstring: each class -> the class drawn as its parent."""
    doc = errors.__doc__ or ""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in doc.splitlines():
        match = re.match(r"^([│ ]*(?:[├└]── )?)((?:limits\.|batch\.)?[A-Z]\w+)", line)
        if match is None or not match.group(2).endswith("Error"):
            continue
        depth = len(match.group(1)) // 4
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[match.group(2)] = stack[-1][1] if stack else None
        stack.append((depth, match.group(2)))
        # a row naming several siblings (the status errors): every one has the same parent
        for sibling in re.findall(r"\s{2,}([A-Z]\w+Error)\b", line[match.end() :]):
            parents[sibling] = parents[match.group(2)]
    return parents


def test_the_docstring_draws_every_public_error_where_it_is():
    """errors.py's tree names every public error of errors, limits and batch, under its
    real base class, so the one list of the tree cannot go stale."""
    drawn = _drawn_tree()
    public = _public_errors()
    assert set(drawn) == set(public)
    by_class = {cls: name for name, cls in public.items()}
    for name, parent in drawn.items():
        cls = public[name]
        if parent is None:
            assert cls is ArgilError
            continue
        base = next(b for b in cls.__mro__[1:] if b in by_class)
        assert by_class[base] == parent, name


# Which system failed, for each branch of the tree.
SYSTEMS: dict[str, tuple[type[ArgilError], ...]] = {
    "the caller's input": (InvalidRequestError,),
    "the network to Argil": (APIConnectionError,),
    "Argil": (APIStatusError, ResponseValidationError, WaitTimeoutError, GenerationFailedError),
    "a webhook sender": (WebhookError,),
    "Redis": (RedisError,),
    "the local disk": (LocalStorageError,),
}


@pytest.mark.parametrize("name", sorted(set(_public_errors()) - {"ArgilError"}))
def test_each_error_names_exactly_one_failing_system(name: str):
    """Every error but the root is in exactly one branch: Argil, the network, Redis, the disk
    (or the input, or a webhook sender), never two."""
    cls = _public_errors()[name]
    systems = [system for system, roots in SYSTEMS.items() if issubclass(cls, roots)]
    assert len(systems) == 1, (name, systems)


def test_redis_and_disk_failures_are_not_network_or_input_errors():
    """`except APIConnectionError` means Argil is unreachable and `except ValueError` bad
    input: neither catches a Redis outage or a journal that cannot be written."""
    redis_down = [limits.LimiterUnavailableError, batch.CoordinatorUnavailableError]
    for cls in redis_down:
        assert issubclass(cls, RedisUnavailableError)
        assert not issubclass(cls, APIConnectionError)
        assert cls("down").maybe_sent is False  # still says nothing reached Argil
    assert issubclass(batch.ClaimLostError, RedisError)
    for cls in (batch.JournalError, batch.ResultsWriteError):
        assert issubclass(cls, LocalStorageError)
        assert not issubclass(cls, (ValueError, InvalidRequestError))
    error = batch.JournalError("out.jsonl.journal", "cannot be written: disk full")
    assert (error.field, error.rule) == ("out.jsonl.journal", "cannot be written: disk full")
    assert str(error) == "out.jsonl.journal: cannot be written: disk full"
    assert issubclass(batch.JobFileError, InvalidRequestError)  # a job file is the input


def test_the_redis_names_still_import_from_where_they_were():
    """Today's names stay importable from their public modules, reporting those modules."""
    from argil_async.batch import ClaimLostError, CoordinatorUnavailableError
    from argil_async.limits import LimiterUnavailableError

    assert LimiterUnavailableError.__module__ == "argil_async.limits"
    assert CoordinatorUnavailableError.__module__ == "argil_async.batch"
    assert ClaimLostError.__module__ == "argil_async.batch"
    assert errors.RedisError.__module__ == "argil_async.errors"

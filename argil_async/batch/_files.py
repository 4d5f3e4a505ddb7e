"""Reading job files: JSONL (one job object a line) and CSV (one single-moment job a row).

The format follows the suffix (``.jsonl``/``.ndjson``/``.json`` or ``.csv``); for any other
name a file whose first non-blank character is ``{`` is JSONL, anything else CSV. Blank lines
are skipped. Every line is checked and every problem reported at once, with its line number.

CSV columns (a header row is required; empty cells count as absent):

```text
key,name,avatarId,voiceId,transcript,audioUrl,gestureSlug,layout,brollAssetId,brollUrl,
subtitles,subtitleStyleId,aspectRatio,model,musicAssetId,musicVolume,extras.<name>...
```

``key``, ``name`` and ``avatarId`` are required; ``subtitles`` is true/false (implied true by
a ``subtitleStyleId``); every ``extras.customer`` column becomes ``extras["customer"]``.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import itertools
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import msgspec

from ._jobs import (
    Job,
    JobFileError,
    JobProblem,
    _from_form,
    duplicate_keys,
    fast_job,
    job_problems,
    line_job,
)

__all__ = ["CSV_COLUMNS", "load_jobs"]

_MOMENT_COLUMNS = ("avatarId", "voiceId", "transcript", "audioUrl", "gestureSlug", "layout")
_OTHER_COLUMNS = (
    "key",
    "name",
    "brollAssetId",
    "brollUrl",
    "subtitles",
    "subtitleStyleId",
    "aspectRatio",
    "model",
    "musicAssetId",
    "musicVolume",
)
CSV_COLUMNS = ("key", "name", *_MOMENT_COLUMNS, *_OTHER_COLUMNS[2:])
_REQUIRED_COLUMNS = ("key", "name", "avatarId")
_CSV_FIELDS = (
    ("moments[0].broll.url", "brollUrl"),
    ("moments[0].broll", "brollAssetId"),
    ("backgroundMusic.volume", "musicVolume"),
    ("backgroundMusic", "musicAssetId"),
    ("subtitles.styleId", "subtitleStyleId"),
)
_TRUE = ("true", "yes", "1", "on")
_FALSE = ("false", "no", "0", "off")

# (line, the job (decoded straight into the models) or its dict form, parse problems)
Parsed = tuple[int, object, list[JobProblem]]


def load_jobs(path: str | os.PathLike[str]) -> list[Job]:
    """Read and validate a whole job file; raise [`JobFileError`][argil_async.batch.JobFileError]
    listing every fault.

    The file is streamed, line by line or row by row (each becomes a job as it is read, so
    a 100,000-job file never sits in memory twice). Example:

    ```python
    jobs = load_jobs("jobs.jsonl")     # [Job(key="cust-001", ...), ...]
    ```
    """
    source = Path(path)
    try:
        with source.open("rb") as stream, _collector_paused():
            head = stream.read(4096)
            stream.seek(0)
            if _is_csv(source, head):
                text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
                return _collect(str(source), _csv_rows(text), is_csv=True)
            return _collect(str(source), _jsonl_rows(stream), is_csv=False)
    except (OSError, UnicodeDecodeError) as exc:
        raise JobFileError(str(source), [JobProblem(0, "file", str(exc))]) from None


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a file's jobs are built: they hold no cycles,
    and its full passes over a growing heap took a fifth of a large file's load time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _collect(source: str, rows: Iterable[Parsed], *, is_csv: bool) -> list[Job]:
    """Jobs from parsed rows, or JobFileError with every problem.

    Repeated keys are found once every row is read, by sorting the jobs (no table of 100,000
    keys held beside them while they are built)."""
    jobs: list[Job] = []
    problems: list[JobProblem] = []
    unbuilt: list[tuple[int, str]] = []  # the keys of rows with problems, for the repeats
    for line, raw, early in rows:
        if type(raw) is Job:  # the common case (a line decoded into the models), kept tight
            jobs.append(raw)
            continue
        job = None if early else fast_job(raw, line, decoded=True)
        if job is not None:
            jobs.append(job)
            continue
        found = [*early, *_checked(raw, line, is_csv)]
        if found:
            problems += found
            key = _key(raw)
            if isinstance(key, str):
                unbuilt.append((line, key))
        else:
            jobs.append(_from_form(raw, line))  # type: ignore[arg-type]
    problems += _repeated(jobs, unbuilt)
    if not jobs and not unbuilt and not problems:
        problems.append(JobProblem(0, "file", "there are no jobs"))
    if problems:
        raise JobFileError(source, sorted(problems, key=lambda p: p.line))
    return jobs


def _repeated(jobs: list[Job], unbuilt: list[tuple[int, str]]) -> list[JobProblem]:
    """A problem for each key seen before (naming the line where it first appeared)."""
    ordered = sorted(jobs, key=_job_key)  # stable: equal keys stay in file order
    if not unbuilt and all(a.key != b.key for a, b in itertools.pairwise(ordered)):
        return []  # the usual answer, without a dict of every key
    del ordered
    keys = sorted([*((job.line, job.key) for job in jobs), *unbuilt], key=lambda pair: pair[0])
    return duplicate_keys(keys)


def _job_key(job: Job) -> str:
    return job.key


def _checked(raw: object, line: int, is_csv: bool) -> list[JobProblem]:
    if raw is None:  # unparsed (see the early ones)
        return []
    try:
        problems = job_problems(raw, line)
    except RecursionError:
        return [JobProblem(line, "$", "nested too deeply")]
    if is_csv:
        return [JobProblem(p.line, _csv_field(p.field), p.rule) for p in problems]
    return problems


def _csv_field(field: str) -> str:
    """The CSV column behind a field of the job's dict form (``moments[0].voiceId``: voiceId)."""
    for prefix, column in _CSV_FIELDS:
        if field == prefix or field.startswith(prefix + "."):
            return column
    if field == "moments[0]":
        return "row"
    return field.removeprefix("moments[0].")


def _key(raw: object) -> object:
    return raw.get("key") if isinstance(raw, Mapping) else None


def _is_csv(path: Path, head: bytes) -> bool:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return False
    return suffix == ".csv" or not head.removeprefix(_BOM).lstrip().startswith(b"{")


_BOM = b"\xef\xbb\xbf"


def _jsonl_rows(stream: BinaryIO) -> Iterator[Parsed]:
    # Split on \n only: JSON strings may hold U+2028, U+2029 or NEL raw, and those are not
    # line ends for the editor that shows line numbers either (a \r before it is whitespace).
    for number, line in enumerate(stream, start=1):
        if number == 1:
            line = line.removeprefix(_BOM)
        if not line.strip():
            continue
        job = line_job(line, number)
        if job is not None:
            yield number, job, []
            continue
        try:
            raw = msgspec.json.decode(line)
        except msgspec.DecodeError as exc:
            yield number, None, [JobProblem(number, "$", f"invalid JSON: {exc}")]
            continue
        except RecursionError:
            yield number, None, [JobProblem(number, "$", "invalid JSON: nested too deeply")]
            continue
        early = [JobProblem(number, "$", "must be a JSON object")] if raw is None else []
        yield number, raw, early  # (a null would otherwise pass for a line not parsed)


def _csv_rows(text: Iterable[str]) -> Iterator[Parsed]:
    reader = csv.reader(text, strict=True)
    try:
        header = next(reader, [])
        bad = _header_problems(header)
        if bad:
            yield 1, None, bad
            return
        shape = _CsvShape(header)
        first = reader.line_num + 1  # a record's first line: a quoted cell may span several
        for cells in reader:
            if "".join(cells).strip():  # a blank row is skipped
                yield _csv_job(first, shape, cells)
            first = reader.line_num + 1
    except csv.Error as exc:
        yield reader.line_num, None, [JobProblem(reader.line_num, "$", f"invalid CSV: {exc}")]


def _header_problems(header: Sequence[str]) -> list[JobProblem]:
    problems = [
        JobProblem(1, column, "unknown column")
        for column in header
        if column not in CSV_COLUMNS and not column.startswith("extras.")
    ]
    problems += [
        JobProblem(1, column, "column given more than once")
        for column in sorted({column for column in header if header.count(column) > 1})
    ]
    problems += [
        JobProblem(1, column, "required column is missing")
        for column in _REQUIRED_COLUMNS
        if column not in header
    ]
    return problems


class _CsvShape:
    """What a header's columns hold, worked out once for every row."""

    def __init__(self, header: Sequence[str]) -> None:
        self.header = header
        self.moment = tuple(name for name in _MOMENT_COLUMNS if name in header)
        self.extras = tuple((name, name[7:]) for name in header if name.startswith("extras."))
        self.typed = bool(
            {"subtitles", "subtitleStyleId", "musicAssetId", "musicVolume"} & {*header}
        )
        self.broll = "brollAssetId" in header or "brollUrl" in header
        self.top = tuple(name for name in ("aspectRatio", "model") if name in header)


def _csv_job(line: int, shape: _CsvShape, row: Sequence[str]) -> Parsed:
    """The job-file form of one CSV row (values stay strings except the typed columns)."""
    if len(row) > len(shape.header):
        return line, None, [JobProblem(line, "$", "more cells than header columns")]
    pairs = zip(shape.header, row, strict=False)  # a short row leaves its last columns empty
    cells = {name: cell for name, value in pairs if (cell := value.strip())}
    job: dict[str, Any] = {"key": cells.get("key"), "name": cells.get("name")}
    moment: dict[str, Any] = {name: cells[name] for name in shape.moment if name in cells}
    if shape.broll and ("brollAssetId" in cells or "brollUrl" in cells):
        moment["broll"] = _broll(cells)
    job["moments"] = [moment]
    problems = _typed_cells(line, cells, job) if shape.typed else []
    job.update((name, cells[name]) for name in shape.top if name in cells)
    extras = {short: cells[name] for name, short in shape.extras if name in cells}
    if extras:
        job["extras"] = extras
    return line, _without_none(job), problems


def _broll(cells: Mapping[str, str]) -> dict[str, str]:
    if "brollAssetId" in cells and "brollUrl" in cells:
        return {"assetId": cells["brollAssetId"], "url": cells["brollUrl"]}  # refused later
    if "brollAssetId" in cells:
        return {"assetId": cells["brollAssetId"]}
    return {"url": cells["brollUrl"]}


def _typed_cells(line: int, cells: Mapping[str, str], job: dict[str, Any]) -> list[JobProblem]:
    """Fill subtitles and music from their string cells; problems for unparsable values."""
    problems = []
    enable = cells.get("subtitles", "true" if "subtitleStyleId" in cells else None)
    if enable is not None:
        if enable.lower() not in _TRUE + _FALSE:
            problems.append(JobProblem(line, "subtitles", "must be true or false"))
        job["subtitles"] = {"enable": enable.lower() in _TRUE}
        if "subtitleStyleId" in cells:
            job["subtitles"]["styleId"] = cells["subtitleStyleId"]
    if "musicAssetId" in cells or "musicVolume" in cells:
        music: dict[str, Any] = {"assetId": cells.get("musicAssetId")}
        job["backgroundMusic"] = music
        if "musicVolume" in cells:
            try:
                music["volume"] = float(cells["musicVolume"])
            except ValueError:
                problems.append(JobProblem(line, "musicVolume", "must be a number"))
    return problems


def _without_none(job: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in job.items() if value is not None}

"""Jobs: one video each, decoded into the SDK's own request models before anything is sent.

A job is the ``POST /videos`` body in the API's camelCase, plus a stable ``key``; a loaded
job's ``moments`` are the [`Moment`][argil_async.models.Moment] a caller gives
``videos.create`` (its subtitles, auto B-rolls and music the matching request models). Two
additions to the API's shapes: ``subtitles`` may be a plain ``true``/``false``, and a moment's
``broll`` may name a ``url`` (with ``assetType`` IMAGE or VIDEO, guessed from the extension
otherwise) instead of an ``assetId`` (an [`UploadBroll`][argil_async.batch.UploadBroll]): the runner
uploads it first (through the client's asset limiter).

Rules beyond the models: ``key`` is unique in a file and at most 256 characters (it travels in
the video's extras under `JOB_KEY_EXTRA`, beside the run's batch id under
`BATCH_EXTRA`; a job may set neither itself); unknown fields are refused (a typo would
otherwise be dropped silently); ``extras`` plus those two stay within the API's 10 keys of
256 characters. A moment's own rule (exactly one of a transcript and an audio URL) is the
model's [`check()`][argil_async.models.Moment.check].
"""

from __future__ import annotations

import functools
import hashlib
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, TypeVar

import msgspec

from .._validation import request_model
from .._validation import url as check_url
from ..errors import InvalidRequestError
from ..models import AutoBrolls, BackgroundMusic, Broll, Moment, Subtitles

__all__ = [
    "BATCH_EXTRA",
    "JOB_KEY_EXTRA",
    "Job",
    "JobFileError",
    "JobProblem",
    "UploadBroll",
    "check_jobs",
    "job_problems",
]

JOB_KEY_EXTRA = "argilJobKey"
#: The journal's batch id: a job key reused by another batch never matches this one's videos.
BATCH_EXTRA = "argilBatchId"
_RESERVED_EXTRAS = (JOB_KEY_EXTRA, BATCH_EXTRA)
MAX_EXTRAS = 10
MAX_TEXT = 256
ASPECT_RATIOS = ("16:9", "9:16")
UPLOAD_TYPES = ("IMAGE", "VIDEO")
_VIDEO_SUFFIXES = (".mp4", ".mov", ".webm", ".m4v", ".mkv")
_JOB_FIELDS = (
    "key",
    "name",
    "moments",
    "subtitles",
    "aspectRatio",
    "autoBrolls",
    "backgroundMusic",
    "extras",
    "model",
)
_UPLOAD_FIELDS = ("url", "assetType")
M = TypeVar("M", bound=msgspec.Struct)


@dataclass(frozen=True)
class JobProblem:
    """One thing wrong in a job file: where (``line``, ``field``) and which ``rule``."""

    line: int
    field: str
    rule: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.rule}"


class JobFileError(InvalidRequestError):
    """The job file (or job list) is invalid; ``problems`` lists every fault found.

    Raised before any request is sent, so nothing was created.
    """

    def __init__(self, source: str, problems: Sequence[JobProblem]) -> None:
        self.source = source
        self.problems: list[JobProblem] = list(problems)
        shown = "\n".join(f"  {problem}" for problem in self.problems[:50])
        more = len(self.problems) - 50
        tail = f"\n  ... and {more} more" if more > 0 else ""
        count = f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}"
        super().__init__(source, f"{count}, nothing was sent:\n{shown}{tail}")


class UploadBroll(Broll, kw_only=True):
    """A job file's B-roll given by ``url``: the runner uploads the file (as ``asset_type``
    IMAGE or VIDEO, guessed from the extension when unset), then sends the asset's id."""

    url: str
    asset_type: Literal["IMAGE", "VIDEO"] | None = None


class Extras(Mapping[str, str]):
    """A job's extras: a read-only mapping of strings, compact (a loaded job holds one, and a
    100,000-job file 100,000: a dict costs three times the memory). Equal to the dict of the
    same items; ``dict(job.extras)`` gives one."""

    # One pair (the usual case) is held in the two slots; otherwise ``_key`` is None and
    # ``_rest`` the pairs flattened (key, value, key, value, ...): no tuple for a single pair.
    __slots__ = ("_key", "_rest")

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        flat: list[str] = []
        for key, value in (items or {}).items():
            flat += (key, value)
        self._key: str | None = None
        self._rest: Any = tuple(flat)  # the one value, or every pair
        if len(flat) == 2:
            self._key, self._rest = flat

    def _flat(self) -> tuple[str, ...]:
        flat: tuple[str, ...] = self._rest if self._key is None else (self._key, self._rest)
        return flat

    def __getitem__(self, key: str) -> str:
        if self._key is not None:
            if self._key != key:
                raise KeyError(key)
            value: str = self._rest
            return value
        flat = self._flat()
        for index in range(0, len(flat), 2):
            if flat[index] == key:
                return flat[index + 1]
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._flat()[::2])

    def __len__(self) -> int:
        return 1 if self._key is not None else len(self._rest) // 2

    def __repr__(self) -> str:
        return repr(dict(self))

    def __hash__(self) -> int:
        return hash(frozenset(self.items()))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Extras, (dict(self),))


_NO_EXTRAS = Extras()


@dataclass(frozen=True, slots=True)
class Job:
    """One video to make. Build it with [`from_dict()`][argil_async.batch.Job.from_dict] (validated)
    or [`load_jobs()`][argil_async.batch.load_jobs].

    The pieces are the SDK's request models: ``moments`` are [`Moment`][argil_async.models.Moment]
    objects (a B-roll given by URL an [`UploadBroll`][argil_async.batch.UploadBroll]), ``subtitles``
    a [`Subtitles`][argil_async.models.Subtitles], and so on; ``extras`` a read-only mapping of
    strings (``dict(job.extras)`` for a dict); ``line`` is where the job came from in its file (0
    when built in code). A job built directly (``Job(key, name, moments)``, plain dicts accepted) is
    checked, and its dicts made models, by ``run_batch``, ``estimate_cost`` and ``check_online``.
    """

    key: str
    name: str
    moments: tuple[Moment, ...]
    subtitles: Subtitles | None = None
    aspect_ratio: str | None = None
    auto_brolls: AutoBrolls | None = None
    background_music: BackgroundMusic | None = None
    extras: Mapping[str, str] = _NO_EXTRAS
    model: str | None = None
    line: int = 0
    _checked: bool = field(default=False, init=False, repr=False, compare=False)
    _fingerprint: str | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], *, line: int = 0) -> Job:
        """A validated job from its job-file form; raises
        [`JobFileError`][argil_async.batch.JobFileError]."""
        try:
            problems = job_problems(raw, line)
        except RecursionError:
            problems = [JobProblem(line, "$", "nested too deeply")]
        if problems:
            raise JobFileError(f"job {_shown_key(raw)!r}", problems)
        return _from_form(raw, line)

    def to_dict(self) -> dict[str, Any]:
        """The job-file form (camelCase keys, unset fields left out)."""
        moments = self.moments
        pairs = {
            "key": self.key,
            "name": self.name,
            "moments": [_form(m) for m in moments]
            if isinstance(moments, (list, tuple))
            else moments,
            "subtitles": _form(self.subtitles),
            "aspectRatio": self.aspect_ratio,
            "autoBrolls": _form(self.auto_brolls),
            "backgroundMusic": _form(self.background_music),
            "extras": _form(self.extras) or None,
            "model": self.model,
        }
        return {name: value for name, value in pairs.items() if value is not None}

    def fingerprint(self) -> str:
        """A digest of the job's content: the journal notices a job edited between runs."""
        cached = self._fingerprint
        if cached is None:
            encoded = msgspec.json.encode(self.to_dict(), order="sorted")
            cached = hashlib.sha256(encoded).hexdigest()[:32]
            _set_fingerprint(self, cached)
        return cached

    def uploads(self) -> list[tuple[str, str]]:
        """The ``(url, IMAGE|VIDEO)`` B-rolls to upload before the video can be created."""
        return [
            (broll.url, broll.asset_type or guess_type(broll.url))
            for moment in self.moments
            if isinstance(broll := moment.broll, UploadBroll)
        ]

    def create_arguments(
        self, asset_ids: Mapping[str, str], batch: str | None = None
    ) -> dict[str, Any]:
        """Keyword arguments for ``client.videos.create``, B-roll URLs replaced by asset ids.

        The pieces are the job's request models (which filled the fields the API requires
        but a job may leave out: ``Broll.type``, ``Subtitles.enable``, ...). The extras carry
        the job key, and ``batch`` (the journal's batch id) when given.
        """
        marks = {JOB_KEY_EXTRA: self.key}
        if batch is not None:
            marks[BATCH_EXTRA] = batch
        return {
            "name": self.name,
            "moments": [_uploaded(moment, asset_ids) for moment in self.moments],
            "subtitles": self.subtitles,
            "aspect_ratio": self.aspect_ratio,
            "auto_brolls": self.auto_brolls,
            "background_music": self.background_music,
            "extras": {**self.extras, **marks},
            "model": self.model,
        }


_SLOT_SETTERS: dict[str, Any] = {name: vars(Job)[name].__set__ for name in Job.__slots__}
_mark_checked = _SLOT_SETTERS["_checked"]  # a frozen instance's fields, set once here
_set_fingerprint = _SLOT_SETTERS["_fingerprint"]


def _shown_key(raw: object) -> object:
    return raw.get("key") if isinstance(raw, Mapping) else None


def _form(value: object) -> Any:
    """The job-file (builtins, camelCase) form of one piece; what is neither left as it is."""
    if isinstance(value, msgspec.Struct):
        return msgspec.to_builtins(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value


def _uploaded(moment: Moment, asset_ids: Mapping[str, str]) -> Moment:
    """The moment as sent: a B-roll given by URL replaced by the uploaded asset's id."""
    broll = moment.broll
    if not isinstance(broll, UploadBroll):
        return moment
    sent = Broll(type=broll.type, asset_id=asset_ids[broll.url], zoom=broll.zoom)
    return msgspec.structs.replace(moment, broll=sent)


def guess_type(url: str) -> str:
    """VIDEO for common video extensions, else IMAGE."""
    path = url.split("?", 1)[0].lower()
    return "VIDEO" if path.endswith(_VIDEO_SUFFIXES) else "IMAGE"


def _from_form(raw: Mapping[str, Any], line: int) -> Job:
    """A job from a form `job_problems()` found valid (marked checked)."""
    subtitles = raw.get("subtitles")
    if isinstance(subtitles, bool):
        subtitles = {"enable": subtitles}
    job = Job(
        raw["key"],
        raw["name"],
        tuple(_moment_of(moment) for moment in raw["moments"]),
        _model(subtitles, Subtitles),
        raw.get("aspectRatio"),
        _model(raw.get("autoBrolls"), AutoBrolls),
        _model(raw.get("backgroundMusic"), BackgroundMusic),
        _extras(raw.get("extras")),
        raw.get("model"),
        line,
    )
    _mark_checked(job, True)
    return job


def _extras(value: Mapping[str, str] | None) -> Extras:
    return Extras(value) if value else _NO_EXTRAS


def _model(value: object, cls: type[M]) -> M | None:
    if value is None:
        return None
    if isinstance(value, cls):
        return msgspec.convert(msgspec.to_builtins(value), cls)  # a copy: the job's own
    return msgspec.convert(dict(value), cls)  # type: ignore[call-overload]


def _moment_of(given: Mapping[str, Any] | Moment) -> Moment:
    raw: Mapping[str, Any] = msgspec.to_builtins(given) if isinstance(given, Moment) else given
    broll = raw.get("broll")
    if isinstance(broll, Mapping) and "url" in broll:
        moment = msgspec.convert({k: v for k, v in raw.items() if k != "broll"}, Moment)
        moment.broll = msgspec.convert(dict(broll), UploadBroll)
        return moment
    return msgspec.convert(dict(raw), Moment)


def _from_file(found: _FileJob, line: int) -> Job:
    """A job from a decoded job-file line `_accepted()` passed (marked checked)."""
    subtitles = found.subtitles
    if type(subtitles) is bool:
        subtitles = Subtitles(enable=subtitles)
    for moment in found.moments:  # a 100,000-job file names a few avatars and voices
        moment.avatar_id = sys.intern(moment.avatar_id)
        if moment.voice_id is not None:
            moment.voice_id = sys.intern(moment.voice_id)
    job = Job(
        found.key,
        found.name,
        found.moments,
        subtitles,
        found.aspect_ratio,
        found.auto_brolls,
        found.background_music,
        _extras(found.extras),
        found.model,
        line,
    )
    _mark_checked(job, True)
    return job


def checked_jobs(jobs: Iterable[Job], source: str = "jobs") -> list[Job]:
    """The jobs, each one built in code validated and made of request models (those loaded
    from a file already are); [`JobFileError`][argil_async.batch.JobFileError] listing every fault
    otherwise."""
    checked: list[Job] = []
    problems: list[JobProblem] = []
    for job in jobs:
        if not isinstance(job, Job):  # type: ignore[redundant-expr,unused-ignore]
            problems.append(JobProblem(0, "$", f"must be a Job, got {type(job).__name__}"))  # type: ignore[unreachable]
            continue
        if job._checked:
            checked.append(job)
            continue
        try:
            form = job.to_dict()
        except Exception as exc:  # a job built from odd objects: its form cannot be read
            problems.append(JobProblem(job.line, "$", f"is not a valid job ({exc})"))
            continue
        try:
            found = job_problems(form, job.line)
        except RecursionError:
            found = [JobProblem(job.line, "$", "nested too deeply")]
        if found:
            problems += found
        else:
            checked.append(_from_form(form, job.line))
    if problems:
        raise JobFileError(source, problems)
    return checked


def check_jobs(jobs: Iterable[Job], source: str = "jobs") -> list[Job]:
    """Re-validate jobs built in code and check their keys are unique; JobFileError if not.

    Returns the jobs as request models (a job built with dicts gets its models here).
    """
    jobs = checked_jobs(jobs, source)
    problems = duplicate_keys((job.line, job.key) for job in jobs)
    if not jobs:
        problems.append(JobProblem(0, "jobs", "there are no jobs"))
    if problems:
        raise JobFileError(source, problems)
    return jobs


def duplicate_keys(keys: Iterable[tuple[int, object]]) -> list[JobProblem]:
    """A problem for each repeated key, naming the line where it first appeared."""
    first: dict[object, int] = {}
    problems = []
    for line, key in keys:
        if not isinstance(key, str):
            continue
        if key in first:
            problems.append(JobProblem(line, "key", f"duplicate of line {first[key]}"))
        else:
            first[key] = line
    return problems


_Text = Annotated[str, msgspec.Meta(pattern=r"\S")]  # not blank (\s is what strip() strips)
_MOST_EXTRAS = MAX_EXTRAS - len(_RESERVED_EXTRAS)


class _FileJob(msgspec.Struct, rename="camel", forbid_unknown_fields=True, gc=False):
    """A job-file line decoded straight into the request models, with the job's own limits
    as types (what types cannot say is `_accepted()`'s)."""

    key: Annotated[_Text, msgspec.Meta(max_length=MAX_TEXT)]
    name: _Text
    moments: Annotated[tuple[Moment, ...], msgspec.Meta(min_length=1)]
    subtitles: bool | Subtitles | None = None
    aspect_ratio: Literal["16:9", "9:16"] | None = None
    auto_brolls: AutoBrolls | None = None
    background_music: BackgroundMusic | None = None
    extras: (
        Annotated[
            dict[str, Annotated[str, msgspec.Meta(max_length=MAX_TEXT)]],
            msgspec.Meta(max_length=_MOST_EXTRAS),
        ]
        | None
    ) = None
    model: _Text | None = None


_ENCODE = msgspec.json.Encoder().encode
decode_line = msgspec.json.Decoder(_FileJob).decode


def _accepted(found: _FileJob) -> bool:
    """The rules beyond the types: no reserved extra, each moment's own rule."""
    extras = found.extras
    if extras and (JOB_KEY_EXTRA in extras or BATCH_EXTRA in extras):
        return False
    try:
        for moment in found.moments:
            moment.check()
    except InvalidRequestError:
        return False
    return True


def fast_job(raw: object, line: int, *, decoded: bool = False) -> Job | None:
    """The job, when ``raw`` (a job-file form) has the shape of the request models and
    `job_problems()` would find nothing; None means "ask job_problems" (it gives the
    exact messages, and knows B-rolls given by URL).

    Types, unknown fields, lengths and choices are checked by msgspec in one pass; lone
    surrogates by one encode, unless ``raw`` was ``decoded`` from JSON or UTF-8 text (which
    cannot hold them). A rule added to job_problems must hold here too
    (``tests/batch/test_batch_jobs.py`` compares the two on generated jobs).
    """
    try:
        found = msgspec.convert(raw, _FileJob)
        if not decoded:
            _ENCODE(found)
    except (msgspec.ValidationError, TypeError, UnicodeEncodeError):
        return None
    return _from_file(found, line) if _accepted(found) else None


def line_job(data: bytes, line: int) -> Job | None:
    """`fast_job()` of one JSONL line, decoded straight into the models."""
    try:
        found = decode_line(data)
    except (msgspec.DecodeError, RecursionError):
        return None
    return _from_file(found, line) if _accepted(found) else None


def job_problems(raw: object, line: int) -> list[JobProblem]:
    """Every rule ``raw`` (a job in its job-file form) breaks; empty when it is valid."""
    if not isinstance(raw, Mapping):
        return [JobProblem(line, "$", "must be a JSON object")]
    found = _Found()
    found.unknown("", raw, _JOB_FIELDS)
    _check_text(found, "key", raw.get("key"), required=True)
    _check_text(found, "name", raw.get("name"), required=True, limit=None)
    _check_moments(found, raw.get("moments"))
    _check_subtitles(found, raw.get("subtitles"))
    _check_choice(found, "aspectRatio", raw.get("aspectRatio"), ASPECT_RATIOS)
    found.model("autoBrolls", raw.get("autoBrolls"), AutoBrolls)
    found.model("backgroundMusic", raw.get("backgroundMusic"), BackgroundMusic)
    _check_extras(found, raw.get("extras"))
    _check_text(found, "model", raw.get("model"), required=False, limit=None)
    return [JobProblem(line, where, rule) for where, rule in found.items]


class _Found:
    """Collects ``(field, rule)`` pairs while a job is checked."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, where: str, rule: str) -> None:
        self.items.append((where, rule))

    def unknown(self, where: str, raw: Mapping[str, Any], allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        for name in raw:
            if name not in allowed:
                self.add(_join(where, str(name)), f"unknown field (known: {', '.join(allowed)})")

    def model(
        self, where: str, value: object, cls: type[msgspec.Struct], *, whole: bool = False
    ) -> None:
        """Check ``value`` against a request model: its fields and its own rules (with
        ``whole``, its rules across fields too:
        [`Moment.check()`][argil_async.models.Moment.check])."""
        if value is None:
            return
        if isinstance(value, Mapping):
            self.unknown(where, value, _wire_names(cls))
        try:
            request_model(where, value, cls, whole=whole)
        except InvalidRequestError as exc:
            self.add(exc.field, exc.rule)


@functools.cache  # msgspec.structs.fields resolves annotations: far too slow to run per job
def _wire_names(cls: type[msgspec.Struct]) -> tuple[str, ...]:
    return tuple(f.encode_name for f in msgspec.structs.fields(cls))


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _check_text(
    found: _Found, where: str, value: object, *, required: bool, limit: int | None = MAX_TEXT
) -> None:
    if value is None:
        if required:
            found.add(where, "is required")
    elif not isinstance(value, str) or not value.strip():
        found.add(where, "must be a non-empty string")
    elif limit is not None and len(value) > limit:
        found.add(where, f"must be at most {limit} characters (got {len(value)})")


def _check_choice(found: _Found, where: str, value: object, allowed: Sequence[str]) -> None:
    if value is not None and value not in allowed:
        found.add(where, f"must be one of {', '.join(allowed)} (got {value!r})")


def _check_moments(found: _Found, moments: object) -> None:
    if moments is None:
        found.add("moments", "is required")
    elif not isinstance(moments, list) or not moments:
        found.add("moments", "must be a non-empty list of moments")
    else:
        for index, moment in enumerate(moments):
            _check_moment(found, f"moments[{index}]", moment)


def _check_moment(found: _Found, where: str, moment: object) -> None:
    if not isinstance(moment, Mapping):
        found.add(where, "must be an object")
        return
    broll = moment.get("broll")
    if isinstance(broll, Mapping) and "url" in broll:
        moment = {**moment, "broll": _check_upload(found, f"{where}.broll", broll)}
    found.model(where, {k: v for k, v in moment.items() if k != "broll"}, Moment, whole=True)
    found.model(f"{where}.broll", moment.get("broll"), Broll)


def _check_upload(found: _Found, where: str, broll: Mapping[str, Any]) -> dict[str, Any]:
    """Check the upload fields of a B-roll given by URL; return it as the model sees it."""
    try:
        check_url(f"{where}.url", broll["url"])
    except InvalidRequestError as exc:
        found.add(exc.field, exc.rule)
    _check_choice(found, f"{where}.assetType", broll.get("assetType"), UPLOAD_TYPES)
    if "assetId" in broll:
        found.add(where, "give a url or an assetId, not both")
    kept = {k: v for k, v in broll.items() if k not in _UPLOAD_FIELDS}
    return {**kept, "assetId": "to-be-uploaded"}


def _check_subtitles(found: _Found, subtitles: object) -> None:
    if not isinstance(subtitles, bool):
        found.model("subtitles", subtitles, Subtitles)


def _check_extras(found: _Found, extras: object) -> None:
    if extras is None:
        return
    if not isinstance(extras, Mapping):
        found.add("extras", "must be an object of strings")
        return
    for name in _RESERVED_EXTRAS:
        if name in extras:
            found.add(f"extras.{name}", "is reserved: the runner marks its videos with it")
    if len(extras) + len(_RESERVED_EXTRAS) > MAX_EXTRAS:
        most = MAX_EXTRAS - len(_RESERVED_EXTRAS)
        found.add("extras", f"at most {most} keys (the job key and batch id take the others)")
    for name, value in extras.items():
        if not isinstance(value, str):
            found.add(f"extras.{name}", "must be a string")
        elif len(value) > MAX_TEXT:
            found.add(f"extras.{name}", f"must be at most {MAX_TEXT} characters")

"""The generated sync facade mirrors the async client: every method, signature and docstring."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import subprocess
import sys
import typing
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from argil_async import Argil, AsyncArgil, AsyncPaginator, Paginator
from argil_async._resources._base import Resource

ROOT = Path(__file__).resolve().parents[2]


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_sync", ROOT / "scripts" / "gen_sync.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_sync", module)
    spec.loader.exec_module(module)
    return module


gen_sync = _load_generator()

RESOURCES = [
    (name, hint)
    for name, hint in typing.get_type_hints(AsyncArgil).items()
    if isinstance(hint, type) and issubclass(hint, Resource)
]
SYNC_RESOURCES = typing.get_type_hints(Argil)


def _public_methods(cls: type) -> dict[str, Callable[..., Any]]:
    return {
        name: value
        for name, value in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


def _async_methods() -> list[tuple[str, str, Callable[..., Any]]]:
    found = []
    for attr, cls in RESOURCES:
        for name, method in _public_methods(cls).items():
            found.append((attr, name, method))
    return found


def _expected_return(annotation: Any) -> Any:
    if typing.get_origin(annotation) is AsyncPaginator:
        return Paginator[typing.get_args(annotation)]  # type: ignore[misc]
    return annotation


def _signature(func: Callable[..., Any]) -> inspect.Signature:
    return inspect.signature(func, eval_str=True)


def test_every_resource_has_a_sync_twin() -> None:
    """Argil declares one sync resource per AsyncArgil resource, under the same attribute."""
    assert [attr for attr, _ in RESOURCES] == [
        "assets", "avatars", "voices", "videos", "subtitles", "webhooks"
    ]  # fmt: skip
    for attr, cls in RESOURCES:
        assert SYNC_RESOURCES[attr].__name__ == cls.__name__.removeprefix("Async")


@pytest.mark.parametrize(
    ("attr", "name", "method"), _async_methods(), ids=[f"{a}.{n}" for a, n, _ in _async_methods()]
)
def test_method_has_twin_with_same_signature(
    attr: str, name: str, method: Callable[..., Any]
) -> None:
    """A public async method has a sync twin: same parameters, mapped return type, no await."""
    twin = getattr(SYNC_RESOURCES[attr], name, None)
    assert twin is not None, f"{attr}.{name} has no sync twin: run scripts/gen_sync.py"
    assert not inspect.iscoroutinefunction(twin)
    expected, actual = _signature(method), _signature(twin)
    assert list(actual.parameters.values()) == list(expected.parameters.values())
    assert actual.return_annotation == _expected_return(expected.return_annotation)


@pytest.mark.parametrize(
    ("attr", "name", "method"), _async_methods(), ids=[f"{a}.{n}" for a, n, _ in _async_methods()]
)
def test_method_twin_carries_the_docstring(
    attr: str, name: str, method: Callable[..., Any]
) -> None:
    """The twin's docstring is the async one with its examples made synchronous."""
    source = inspect.getdoc(method)
    expected = gen_sync.sync_doc(source) if source else f"The sync twin of ``{name}``."
    actual = inspect.getdoc(getattr(SYNC_RESOURCES[attr], name))
    assert actual is not None
    assert actual.startswith(expected)
    assert "await " not in actual


def test_sync_resources_have_no_extra_public_methods() -> None:
    """The sync resources expose exactly the async resources' public methods."""
    for attr, cls in RESOURCES:
        assert set(_public_methods(SYNC_RESOURCES[attr])) == set(_public_methods(cls)), attr


def test_constructor_matches_async_client() -> None:
    """Argil(...) takes exactly AsyncArgil's constructor arguments, defaults included."""
    assert _signature(Argil.__init__) == _signature(AsyncArgil.__init__)


def test_client_level_methods_match() -> None:
    """Client methods: aclose becomes close, async context manager becomes a plain one."""
    async_names = set(_public_methods(AsyncArgil)) - {"aclose"}
    assert set(_public_methods(Argil)) - {"close"} == async_names
    assert callable(Argil.__enter__)
    assert callable(Argil.__exit__)


def test_paginator_mirrors_async_paginator() -> None:
    """Paginator has AsyncPaginator's public methods, with the same parameters."""
    async_methods, sync_methods = _public_methods(AsyncPaginator), _public_methods(Paginator)
    assert set(sync_methods) == set(async_methods)
    for name, method in async_methods.items():
        expected = _signature(method).parameters
        assert _signature(sync_methods[name]).parameters == expected, name
    assert hasattr(Paginator, "__iter__")
    assert hasattr(AsyncPaginator, "__aiter__")


def test_generated_files_are_up_to_date_and_nothing_skipped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`gen_sync.py --check` passes: the committed _sync/ matches a fresh generation."""
    status = gen_sync.main(["--check"])
    captured = capsys.readouterr()
    assert status == 0, captured.out + captured.err


def test_generated_files_are_marked_and_hand_written_ones_are_not() -> None:
    """Each file of _sync/ is either generated (with the header) or one of the hand-written two."""
    marked = {
        path.name: path.read_text().startswith("# Generated by scripts/gen_sync.py")
        for path in (ROOT / "argil_async" / "_sync").glob("*.py")
    }
    assert {name for name, generated in marked.items() if not generated} == {
        "_runtime.py",
        "_bases.py",
    }
    assert set(gen_sync.generate().files) == {n for n, generated in marked.items() if generated}


def test_check_reports_stale_missing_and_extra_files(tmp_path: Path) -> None:
    """The check names each committed file that differs, is missing, or is no longer made."""
    for path in (ROOT / "argil_async" / "_sync").glob("*.py"):
        (tmp_path / path.name).write_text(path.read_text())
    (tmp_path / "voices.py").write_text((tmp_path / "voices.py").read_text() + "# by hand\n")
    (tmp_path / "assets.py").unlink()
    (tmp_path / "old.py").write_text("")
    assert gen_sync.stale(gen_sync.generate().files, tmp_path) == [
        "argil_async/_sync/assets.py (missing)",
        "argil_async/_sync/voices.py (stale)",
        "argil_async/_sync/old.py (not generated any more)",
    ]


FAKE_MODULE = """
from __future__ import annotations

import builtins
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal, TypedDict, overload

from typing_extensions import Unpack

from .._pagination import AsyncPaginator
from ..models import Asset, Video
from ._base import Resource

if TYPE_CHECKING:
    from .._receiver import WebhookReceiver
    from ..errors import ArgilError

Format = Literal["vtt", "ass"]


class Options(TypedDict, total=False):
    timeout: float


class AsyncFakeResource(Resource):
    \"\"\"A resource made up for the generator's tests.\"\"\"

    @overload
    async def get(self, id: str, *, raw: Literal[False] = False) -> Video: ...
    @overload
    async def get(self, id: str, *, raw: Literal[True]) -> bytes: ...
    async def get(self, id: str, *, raw: bool = False) -> Video | bytes:
        \"\"\"Fetch one, e.g. ``await client.fake.get("v1")``.\"\"\"
        return builtins.bytes()

    async def generate(
        self,
        *ids: "Asset",
        fmt: Format = "vtt",
        pick: Callable[[int], int] = lambda n: n + 1,
        on_created: Callable[[Video], Awaitable[None] | None] | None = None,
        receiver: WebhookReceiver | None = None,
        **options: Unpack[Options],
    ) -> "Video | None":
        \"\"\"Make one.\"\"\"
        return None

    def list(self, *, page_size: int | None = None) -> AsyncPaginator[Asset]:
        return AsyncPaginator(self._fetch)

    async def stream(self) -> Any:
        yield 1

    @property
    def with_raw_response(self) -> Any:
        return self

    def helper(self) -> int:
        return 1

    async def _private(self) -> None:
        return None
"""


def _generate(text: str) -> tuple[str, list[str]]:
    source = gen_sync.Source("argil_async._resources.fake", ast.parse(text), "fake.py")
    cls = source.find_class("AsyncFakeResource")
    assert cls is not None
    out = gen_sync.Output()
    module = gen_sync.resource_module(source, cls, "fake", out)
    return gen_sync.formatted("fake.py", module), out.skipped


def test_generator_reports_members_it_cannot_twin() -> None:
    """Async generators, properties and plain defs are reported as skipped, not dropped."""
    _, skipped = _generate(FAKE_MODULE)
    assert skipped == [
        "fake.stream: async generators have no sync twin",
        "fake.with_raw_response: @property members are not twinned",
        "fake.helper: a plain def returning int has no sync twin",
    ]


def test_generator_keeps_what_signatures_need_and_drops_the_rest() -> None:
    """Literals, aliases, TYPE_CHECKING imports, Unpack and lambdas survive; unused imports go."""
    text, _ = _generate(FAKE_MODULE)
    compile(text, "fake.py", "exec")
    assert "from .._resources.fake import Format, Options\n" in text
    assert "from ..models import Asset, Video\n" in text
    assert "if TYPE_CHECKING:\n    from .._receiver import WebhookReceiver\n" in text
    assert "ArgilError" not in text
    assert "builtins" not in text
    assert "lambda client: client.fake.generate(\n" in text
    assert "*ids, fmt=fmt, pick=pick, on_created=on_created, receiver=receiver, **options" in text
    assert "**options: Unpack[Options]" in text
    assert "def list(self, *, page_size: int | None = None) -> Paginator[Asset]:" in text
    assert "_private" not in text
    assert "``pick`` and ``on_created`` run on the client's event-loop thread" in text


def test_generator_drops_an_emptied_type_checking_block() -> None:
    """When no twin uses a TYPE_CHECKING import, the block and TYPE_CHECKING itself go."""
    text, _ = _generate(FAKE_MODULE.replace("receiver: WebhookReceiver | None = None,", ""))
    compile(text, "fake.py", "exec")
    assert "TYPE_CHECKING" not in text
    assert "pass" not in text


def test_generator_keeps_overloads_before_the_twin() -> None:
    """``@overload`` stubs become plain ``def`` stubs, then the delegating twin follows."""
    text, _ = _generate(FAKE_MODULE)
    assert text.count("    @overload\n    def get(") == 2
    assert "async def" not in text
    assert 'Fetch one, e.g. ``client.fake.get("v1")``.' in text
    assert "return self._runtime.call(lambda client: client.fake.get(id, raw=raw))" in text


def test_generator_never_imports_the_package() -> None:
    """Generation reads source only: a fresh interpreter never imports argil_async."""
    code = (
        "import runpy, sys; sys.argv = ['gen_sync', '--check']; "
        "g = runpy.run_path('scripts/gen_sync.py', run_name='gen'); g['generate'](); "
        "print(sorted(m for m in sys.modules if m.startswith('argil_async')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_callback_parameters_are_documented_as_running_on_the_loop_thread() -> None:
    """download's docstring says that ``progress`` runs on the event-loop thread."""
    doc = inspect.getdoc(SYNC_RESOURCES["videos"].download)
    assert doc is not None
    assert "``progress`` runs on the client's event-loop thread" in doc


WARNING_MODULE = '''
import warnings

from ._base import Resource


class AsyncFakeResource(Resource):
    async def old(self) -> None:
        """Deprecated."""
        warnings.warn("old() is deprecated", DeprecationWarning, stacklevel=2)

    async def noisy(self) -> None:
        warnings.warn("careful", UserWarning)

    async def dynamic(self, name: str) -> None:
        warnings.warn(f"{name}() is deprecated", DeprecationWarning)
'''


def test_generator_repeats_only_literal_deprecation_warnings() -> None:
    """An opening DeprecationWarning is repeated; other warnings are not; a non-literal skips."""
    text, skipped = _generate(WARNING_MODULE)
    assert skipped == [
        "fake.dynamic: a deprecation warning with non-literal arguments cannot be repeated"
    ]
    assert text.count("warnings.warn(") == 1
    assert 'warnings.warn("old() is deprecated", DeprecationWarning, stacklevel=2)' in text


RAW_VIEW_MODULE = """
from __future__ import annotations

from typing import Final

from .._raw import RawMethod, RawResponseView
from ..models import Video
from ._base import Resource


class AsyncFakeResource(Resource):
    \"\"\"A resource with a raw view.\"\"\"

    @property
    def with_raw_response(self) -> AsyncFakeResourceWithRawResponse:
        \"\"\"Raw: ``raw = await client.fake.with_raw_response.get("v1")``.\"\"\"
        return AsyncFakeResourceWithRawResponse(self)

    async def get(self, id: str) -> Video:
        \"\"\"Fetch one.\"\"\"
        raise NotImplementedError


class AsyncFakeResourceWithRawResponse(RawResponseView):
    \"\"\"``await client.fake.with_raw_response.get(id)``.\"\"\"

    get: Final = RawMethod(AsyncFakeResource.get)
"""


def test_generator_twins_the_raw_response_view() -> None:
    """with_raw_response returns the sync view, whose members name the sync resource's methods."""
    text, skipped = _generate(RAW_VIEW_MODULE)
    compile(text, "fake.py", "exec")
    assert skipped == []
    assert "    def with_raw_response(self) -> FakeResourceWithRawResponse:\n" in text
    assert "        return FakeResourceWithRawResponse(self)\n" in text
    assert "class FakeResourceWithRawResponse(RawResponseView):\n" in text
    assert "    get: Final = RawMethod(FakeResource.get)\n" in text
    assert 'raw = client.fake.with_raw_response.get("v1")' in text
    assert "AsyncFake" not in text
    assert "await" not in text

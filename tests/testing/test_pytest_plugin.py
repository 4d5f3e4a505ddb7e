"""The pytest plugin users get: fixtures for a simulator and clients, sync and async."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]

USER_TESTS = """
import asyncio
import pytest
from argil_async import Argil, AsyncArgil, Moment


def test_sync_client(argil_client, argil_simulator):
    assert isinstance(argil_client, Argil)
    avatar = argil_client.avatars.list()[0]
    moments = [Moment(avatar_id=avatar.id, transcript="Hi")]
    video = argil_client.videos.create(name="hi", moments=moments)
    argil_client.videos.render(video.id)
    assert argil_client.videos.wait_until_done(video.id, poll_interval=0.01).status == "DONE"
    assert argil_simulator.stats.by_route["POST /videos/{id}/render"] == 1


def test_async_client_under_asyncio_run(argil_async_client):
    assert isinstance(argil_async_client, AsyncArgil)
    assert asyncio.run(argil_async_client.avatars.list())
    assert asyncio.run(argil_async_client.voices.list())


@pytest.mark.asyncio
async def test_async_client_under_pytest_asyncio(argil_async_client, argil_simulator):
    assert await argil_async_client.avatars.list()
    assert argil_simulator.stats.by_route["GET /avatars"] == 1


@pytest.mark.argil_simulator(server_error_every=2)
def test_marker_configures_the_simulator(argil_client, argil_simulator):
    argil_client.avatars.list()
    argil_client.avatars.list()
    assert argil_simulator.stats.injected_5xx == 1
"""


def test_entry_point_registered():
    """The package declares the plugin under pytest11, so users need no import."""
    found = [e.value for e in entry_points(group="pytest11") if e.name == "argil"]
    assert found == ["_argil_pytest_plugin"]


def test_documented_module_is_the_same_plugin():
    """argil_async.testing.pytest_plugin offers the very fixtures the entry point loads."""
    import _argil_pytest_plugin
    from argil_async.testing import pytest_plugin

    for name in pytest_plugin.__all__:
        assert getattr(pytest_plugin, name) is getattr(_argil_pytest_plugin, name)


def test_loading_the_plugin_does_not_import_the_sdk():
    """Importing the entry point's module loads no argil_async module (pytest starts fast)."""
    code = (
        "import sys, _argil_pytest_plugin\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'argil_async'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_pytest_session_without_the_fixtures_never_imports_the_sdk(pytester: pytest.Pytester):
    """In a pytest run that uses no argil fixture, the plugin is loaded and the SDK is not."""
    pytester.makepyfile(
        test_other=(
            "import sys\n"
            "def test_x(request):\n"
            "    assert request.config.pluginmanager.has_plugin('argil')\n"
            "    loaded = [m for m in sys.modules if m.split('.')[0] == 'argil_async']\n"
            "    assert loaded == []\n"
        )
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


@pytest.mark.slow
def test_fixtures_in_a_user_project(pytester: pytest.Pytester):
    """A user's sync and async tests pass with the fixtures, warnings treated as errors."""
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "-W",
        "error",
        "-o",
        "asyncio_mode=strict",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
    )
    result.assert_outcomes(passed=4)
    assert "Unclosed" not in result.stdout.str() + result.stderr.str()


@pytest.mark.slow
def test_plugin_can_be_disabled(pytester: pytest.Pytester):
    """-p no:argil removes the fixtures."""
    pytester.makepyfile(test_user="def test_x(argil_client):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:argil", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'argil_client' not found*"])

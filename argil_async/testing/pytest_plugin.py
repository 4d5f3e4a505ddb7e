"""A pytest plugin for applications that use the SDK: a simulator and clients bound to it.

Installed with the package (entry point ``pytest11``), so the fixtures need no import:

```python
def test_welcome_video(argil_client):                 # sync: an Argil
    avatar = argil_client.avatars.list()[0]
    video = argil_client.videos.create(name="hi", moments=[...])

async def test_async(argil_async_client, argil_simulator):   # any async test runner
    await argil_async_client.videos.list().to_list()
    assert argil_simulator.stats.by_route["GET /videos"] == 1
```

``@pytest.mark.argil_simulator(latency=0.1, rate_limit_every=3)`` configures the simulator
(any [`SimulatorConfig`][argil_async.testing.SimulatorConfig] field). The simulator runs on its own
thread, so the same fixtures serve sync tests and async tests of any event-loop plugin; the
clients retry without real waits. Disable the plugin with ``-p no:argil``.

pytest loads these fixtures from the top-level module ``_argil_pytest_plugin``, which imports
the SDK inside the fixtures only: installing the SDK adds nothing to pytest's start-up.
This module is the same plugin under its documented name (``-p argil_async.testing.pytest_plugin``
works too).
"""

from __future__ import annotations

from _argil_pytest_plugin import (
    argil_async_client,
    argil_client,
    argil_simulator,
    pytest_configure,
)

__all__ = ["argil_async_client", "argil_client", "argil_simulator", "pytest_configure"]

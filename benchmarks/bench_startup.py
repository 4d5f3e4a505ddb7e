"""What installing the SDK costs other programs: pytest's start, and what ``import argil_async``
loads.

pytest start, in fresh processes running one trivial test, two variants:

- *installed*: as in any environment where the SDK is installed, the ``pytest11`` entry point
  loads the ``argil`` plugin (``--plugin MODULE`` loads another module instead, with
  ``-p MODULE``: ``argil_async.testing.pytest_plugin`` is how an older version started);
- *not installed*: the SDK's distribution hidden from ``importlib.metadata``, so pytest never
  sees its entry point (the environment without the SDK, without building another one).

Both run through the same small driver (which filters ``importlib.metadata``'s distributions;
it hides nothing in the first variant), so they differ only in the SDK's presence. Measured:

- the Python function calls of one session of each (``sys.setprofile``, ``PYTHONHASHSEED=0``):
  deterministic, whatever the load;

- the plugin's own CPU time, inside the installed sessions: loading its entry point (finding,
  compiling and running the module), registering it (pytest reads its hooks) and reading its
  fixtures; what remains (its ``pytest_configure``: one marker line, and reading the SDK's
  entry point and file list with every other installed distribution's) is in the next figure;
- the whole session's CPU time (user + system), ``--runs`` alternating runs of each variant:
  the medians, and the mean of the paired differences with its standard error. A session here
  takes over a second of CPU and spreads by a tenth of a second or more between runs on a
  shared machine, so a difference of a few milliseconds only shows in the first figure.
  (Instruction counts do not help either: the session's count moves by 0.7% with the size of
  the environment alone.)

Also reported: the ``argil_async`` modules the session imported, and whether the plugin was
registered.

``import argil_async``: the modules it loads, and whether the webhook package
(``argil_async.events``) and aiohttp are among them.

    python benchmarks/bench_startup.py [--runs 15] [--plugin MODULE]
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

DISTRIBUTION = "argil-async"

TEST = """
import sys


def test_nothing(request):
    loaded = sorted(m for m in sys.modules if m.split(".")[0] == "argil_async")
    print("argil_async modules:", len(loaded))
    plugins = request.config.pluginmanager
    names = ("argil", "argil_async.testing.pytest_plugin")
    print("argil plugin registered:", any(plugins.has_plugin(name) for name in names))
"""

# Runs pytest with one distribution (argv[1], or none: "-") left out of importlib.metadata,
# and times what pytest does with the plugin named argv[2] (the entry point's name, or the
# module given with -p): load it, register it, read its fixtures.
DRIVER = """
import importlib.metadata
import os
import sys
import time

import _pytest.config
import _pytest.fixtures

hidden, plugin = sys.argv[1:3]
names = {plugin, "argil", "_argil_pytest_plugin"}
every = importlib.metadata.distributions


def distributions(**kwargs):
    return (d for d in every(**kwargs) if d.metadata.get("Name") != hidden)


importlib.metadata.distributions = distributions
spent = [0.0, 0]  # CPU seconds, depth of timed calls


def timed(method, concerned):
    def wrapper(*args, **kwargs):
        if not concerned(*args, **kwargs):
            return method(*args, **kwargs)
        if spent[1] == 0:
            started = time.process_time()
        spent[1] += 1
        try:
            return method(*args, **kwargs)
        finally:
            spent[1] -= 1
            if spent[1] == 0:
                spent[0] += time.process_time() - started
    return wrapper


def named(owner, *args, **kwargs):
    given = [getattr(value, "__name__", value) for value in (*args, *kwargs.values())]
    return any(isinstance(name, str) and name in names for name in given)


EntryPoint = importlib.metadata.EntryPoint
EntryPoint.load = timed(EntryPoint.load, lambda ep: ep.group == "pytest11" and ep.name in names)
manager = _pytest.config.PytestPluginManager
manager.import_plugin = timed(manager.import_plugin, lambda self, name, *a, **k: name in names)
manager.register = timed(manager.register, named)
fixtures = _pytest.fixtures.FixtureManager
fixtures.parsefactories = timed(fixtures.parsefactories, named)

calls = [0]
if os.environ.get("BENCH_COUNT_CALLS"):  # Python function calls, deterministic

    def count(frame, event, arg):
        if event == "call":
            calls[0] += 1

    sys.setprofile(count)
import pytest

code = pytest.main(sys.argv[3:])
sys.setprofile(None)
print("argil plugin CPU:", spent[0])
print("argil python calls:", calls[0])
sys.exit(code)
"""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Session:
    """One pytest session's figures."""

    def __init__(self, cpu: float, output: str) -> None:
        found = dict(
            line.split(": ", 1) for line in output.splitlines() if line.startswith("argil")
        )
        self.cpu = cpu  # the whole process, seconds
        self.plugin_cpu = float(found["argil plugin CPU"])
        self.modules = int(found["argil_async modules"])
        self.registered = found["argil plugin registered"] == "True"
        self.calls = int(found["argil python calls"])  # counted when asked (else 0)


def pytest_run(
    folder: Path, hidden: str, plugin: str, flags: list[str], *, count_calls: bool = False
) -> Session:
    """One pytest session through the driver, its CPU seconds measured from outside (less
    noisy than wall time on a shared machine); ``count_calls``: its Python calls counted."""
    command = [sys.executable, "driver.py", hidden, plugin, "-q", "-s", "-p", "no:cacheprovider"]
    environment = dict(os.environ)
    if count_calls:
        environment |= {"BENCH_COUNT_CALLS": "1", "PYTHONHASHSEED": "0"}
    started = _children_cpu()
    done = subprocess.run(
        [*command, *flags], cwd=folder, capture_output=True, text=True, check=True, env=environment
    )
    return Session(_children_cpu() - started, done.stdout)


def pytest_start(runs: int, plugin: str | None) -> None:
    loaded = plugin or "argil"
    variants = {
        "installed": ("-", ["-p", plugin, "-p", "no:argil"] if plugin else []),
        "not installed": (DISTRIBUTION, []),
    }
    sessions: dict[str, list[Session]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        (folder / "test_start.py").write_text(TEST)
        (folder / "driver.py").write_text(DRIVER)
        counted = {  # (and this warms the file system cache)
            name: pytest_run(folder, hidden, loaded, flags, count_calls=True).calls
            for name, (hidden, flags) in variants.items()
        }
        for _ in range(runs):
            for name, (hidden, flags) in variants.items():
                sessions[name].append(pytest_run(folder, hidden, loaded, flags))
    source = f"-p {plugin}" if plugin else "the pytest11 entry point"
    print(f"pytest start, {runs} alternating runs of each variant ({source})")
    for name, found in sessions.items():
        cpu = [session.cpu * 1000 for session in found]
        print(
            f"  {name:<14} session CPU median {statistics.median(cpu):5.0f} ms, "
            f"min {min(cpu):5.0f} ms; argil_async modules imported: {found[-1].modules}, "
            f"argil plugin registered: {found[-1].registered}"
        )
    own = [session.plugin_cpu * 1000 for session in sessions["installed"]]
    print(
        f"  the plugin's own CPU (load, register, fixtures), installed: median "
        f"{statistics.median(own):.1f} ms, max {max(own):.1f} ms"
    )
    extra = counted["installed"] - counted["not installed"]
    print(
        f"  Python calls per session (deterministic): installed {counted['installed']:,}, "
        f"not installed {counted['not installed']:,}: {extra:+,} "
        f"({extra / counted['not installed']:+.2%})"
    )
    paired = [
        (a.cpu - b.cpu) * 1000
        for a, b in zip(sessions["installed"], sessions["not installed"], strict=True)
    ]
    error = statistics.stdev(paired) / math.sqrt(len(paired)) if len(paired) > 1 else math.nan
    medians = [statistics.median(s.cpu for s in found) * 1000 for found in sessions.values()]
    print(
        f"  session CPU, installed - not installed: {medians[0] - medians[1]:+.0f} ms "
        f"(medians), {statistics.mean(paired):+.0f} +- {error:.0f} ms "
        "(mean of the paired runs +- its standard error)"
    )


def import_footprint() -> None:
    code = (
        "import sys, argil_async\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] == 'argil_async']\n"
        "print(len(loaded), 'argil_async.events' in sys.modules, 'aiohttp.web' in sys.modules,\n"
        "      'aiohttp' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    count, events, web, aiohttp = done.stdout.split()
    print(
        f"import argil_async: {count} argil_async modules; argil_async.events loaded: {events}; "
        f"aiohttp.web loaded: {web}; aiohttp loaded: {aiohttp} (the first client loads it)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--plugin", default=None)
    args = parser.parse_args()
    load_average = " ".join(f"{n:.1f}" for n in os.getloadavg())
    print(f"load average {load_average} on {os.cpu_count()} CPUs")
    import_footprint()
    pytest_start(args.runs, args.plugin)

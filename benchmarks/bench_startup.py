"""What installing the SDK costs other programs: pytest's start, and what ``import argil_async``
loads.

pytest start: the CPU time of a session running one trivial test, with the ``argil`` plugin
(loaded by the ``pytest11`` entry point, as in any environment where the SDK is installed)
against the same with ``-p no:argil``, alternating, in fresh processes; the report gives the
median and the smallest of each, the difference, and (deterministic) how many ``argil_async``
modules the session had imported. ``--plugin MODULE`` loads another plugin module instead of
the entry point (``argil_async.testing.pytest_plugin``: how an older version, which
registered that module, started).

``import argil_async``: the modules it loads, and whether the webhook package
(``argil_async.events``) and aiohttp are among them.

    python benchmarks/bench_startup.py [--runs 9] [--plugin MODULE]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TEST = """
import sys


def test_nothing():
    loaded = sorted(m for m in sys.modules if m.split(".")[0] == "argil_async")
    print("argil_async modules:", len(loaded))
"""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pytest_run(folder: Path, flags: list[str]) -> tuple[float, int]:
    """CPU seconds of one pytest session (less noisy than wall time on a shared machine),
    and the argil_async modules it imported."""
    command = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", *flags]
    started = _children_cpu()
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=True)
    took = _children_cpu() - started
    count = next(
        int(line.rsplit(":", 1)[1])
        for line in done.stdout.splitlines()
        if "argil_async modules:" in line
    )
    return took, count


def pytest_start(runs: int, plugin: str | None) -> None:
    with_plugin = ["-p", plugin, "-p", "no:argil"] if plugin else []
    variants = {"with the argil plugin": with_plugin, "-p no:argil": ["-p", "no:argil"]}
    samples: dict[str, list[float]] = {name: [] for name in variants}
    modules: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "test_start.py").write_text(TEST)
        for flags in variants.values():  # warm the file system cache
            pytest_run(Path(folder), flags)
        for _ in range(runs):
            for name, flags in variants.items():
                took, modules[name] = pytest_run(Path(folder), flags)
                samples[name].append(took)
    print(f"pytest start, {runs} alternating runs ({plugin or 'the pytest11 entry point'})")
    for name, values in samples.items():
        print(
            f"  {name:<22} median {statistics.median(values) * 1000:6.0f} ms   "
            f"min {min(values) * 1000:6.0f} ms   argil_async modules imported: {modules[name]}"
        )
    with_, without = (samples[name] for name in variants)
    median = (statistics.median(with_) - statistics.median(without)) * 1000
    least = (min(with_) - min(without)) * 1000
    print(f"  added by the plugin: {median:+.0f} ms (median), {least:+.0f} ms (min)")


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
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--plugin", default=None)
    args = parser.parse_args()
    import_footprint()
    pytest_start(args.runs, args.plugin)

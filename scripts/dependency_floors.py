"""The lowest versions pyproject.toml claims for each runtime dependency, as pip constraints.

CI installs exactly these (``pip install -c floors.txt``) and runs the tests against them, so
a floor we claim is a floor we have tested. Every dependency must name its floor with ``>=``.

    python scripts/dependency_floors.py > floors.txt      # name==lowest, one per line
    python scripts/dependency_floors.py --check           # installed versions == the floors
    python scripts/dependency_floors.py --test-tools      # the test extra that fits the floors

The test extra's web-framework and telemetry packages (fastapi, starlette's httpx2, uvicorn,
the OpenTelemetry SDK, standardwebhooks) need a newer typing_extensions than our floor, and
resolving them around it takes pip minutes: the floors leg leaves them, and their test modules,
out (``ASIDE``).
"""

from __future__ import annotations

import re
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import tomllib

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
_FLOOR = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*>=\s*([0-9][0-9A-Za-z.]*)\s*(?:,.*)?$")


def floors() -> dict[str, str]:
    """{name: lowest version} for every runtime dependency; exits when one has no floor."""
    dependencies = tomllib.loads(PYPROJECT.read_text("utf-8"))["project"]["dependencies"]
    found: dict[str, str] = {}
    for requirement in dependencies:
        match = _FLOOR.match(requirement.split(";")[0])
        if match is None:
            sys.exit(f"dependency {requirement!r} names no floor (`name>=version`)")
        found[match[1]] = match[2]
    return found


ASIDE = ("fastapi", "httpx2", "uvicorn", "opentelemetry-sdk", "standardwebhooks")


def test_tools() -> list[str]:
    """The ``test`` extra without the packages set ``ASIDE``."""
    extras = tomllib.loads(PYPROJECT.read_text("utf-8"))["project"]["optional-dependencies"]
    return [r for r in extras["test"] if r.split(">")[0].split("[")[0].strip() not in ASIDE]


def _same(installed: str, floor: str) -> bool:
    """2.2 and 2.2.0 are the same release."""

    def parts(text: str) -> list[str]:
        pieces = text.split(".")
        while len(pieces) > 1 and pieces[-1] == "0":
            pieces.pop()
        return pieces

    return parts(installed) == parts(floor)


def check() -> int:
    """0 when every runtime dependency is installed at exactly its floor."""
    wrong = []
    for name, floor in floors().items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = "missing"
        status = "ok" if _same(installed, floor) else "NOT THE FLOOR"
        print(f"{name:>20} floor {floor:<8} installed {installed:<10} {status}")
        if status != "ok":
            wrong.append(name)
    return 1 if wrong else 0


def main() -> int:
    if sys.argv[1:] == ["--check"]:
        return check()
    if sys.argv[1:] == ["--test-tools"]:
        print("\n".join(test_tools()))
        return 0
    for name, floor in floors().items():
        print(f"{name}=={floor}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

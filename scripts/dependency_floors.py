"""The lowest versions pyproject.toml claims for each dependency, as pip constraints.

CI installs exactly these (``pip install -c floors.txt``) and runs the tests against them, so
a floor we claim is a floor we have tested. Every dependency must name its floor with ``>=``:
the runtime dependencies and those of the optional extras users install (``EXTRAS``).

    python scripts/dependency_floors.py > floors.txt      # name==lowest, one per line
    python scripts/dependency_floors.py --check           # installed versions == the floors
    python scripts/dependency_floors.py --test-tools      # the test tools to install around them

The test tools are the whole ``test`` extra, mypy (``tests/typing``) and ``FITTING``: packages
that the newest test tools no longer need but the versions that fit the floors do.
"""

from __future__ import annotations

import re
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import tomllib

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
_FLOOR = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*>=\s*([0-9][0-9A-Za-z.]*)\s*(?:,.*)?$")
EXTRAS = ("progress", "redis", "otel")
# typing_extensions 4.8 holds fastapi at a release whose starlette's TestClient needs httpx
# (newer ones moved to httpx2).
FITTING = ("httpx",)


def _project() -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads(PYPROJECT.read_text("utf-8"))["project"]
    return project


def floors() -> dict[str, str]:
    """{name: lowest version} of the runtime and ``EXTRAS`` dependencies; exits if one has none."""
    project = _project()
    extras = project["optional-dependencies"]
    requirements: list[str] = list(project["dependencies"])
    for extra in EXTRAS:
        requirements += extras[extra]
    found: dict[str, str] = {}
    for requirement in requirements:
        match = _FLOOR.match(requirement.split(";")[0])
        if match is None:
            sys.exit(f"dependency {requirement!r} names no floor (`name>=version`)")
        found[match[1]] = match[2]
    return found


def test_tools() -> list[str]:
    """The ``test`` extra, mypy from ``dev``, and the ``FITTING`` packages."""
    extras = _project()["optional-dependencies"]
    mypy = [r for r in extras["dev"] if r.startswith("mypy")]
    return [*extras["test"], *mypy, *FITTING]


def _same(installed: str, floor: str) -> bool:
    """2.2 and 2.2.0 are the same release."""

    def parts(text: str) -> list[str]:
        pieces = text.split(".")
        while len(pieces) > 1 and pieces[-1] == "0":
            pieces.pop()
        return pieces

    return parts(installed) == parts(floor)


def check() -> int:
    """0 when every dependency with a floor is installed at exactly that floor."""
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

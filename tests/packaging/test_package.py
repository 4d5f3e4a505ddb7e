"""What a user installs: license, metadata, dependency floors, and a README that works anywhere."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+ (the 3.10 leg skips this module)

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
README = (ROOT / "README.md").read_text("utf-8")


def _floor(name: str) -> tuple[int, ...]:
    requirement = next(r for r in PROJECT["dependencies"] if r.startswith(name + ">="))
    return tuple(int(part) for part in requirement.split(">=")[1].split(",")[0].split("."))


def test_license_file_matches_the_metadata():
    """pyproject says MIT, and the MIT text ships beside it."""
    assert PROJECT["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text("utf-8").startswith("MIT License")


def test_every_supported_python_has_a_classifier():
    """From requires-python's floor to the newest version CI runs, one classifier each."""
    low = int(PROJECT["requires-python"].removeprefix(">=3."))
    for minor in range(low, 14):
        assert f"Programming Language :: Python :: 3.{minor}" in PROJECT["classifiers"]


def test_project_urls_are_absolute():
    """Project-URLs exist and are https links (a package index shows them)."""
    assert PROJECT["urls"]
    assert all(url.startswith("https://") for url in PROJECT["urls"].values())


def test_aiohttp_floor_is_past_the_web_advisories():
    """The webhook receiver is a public aiohttp.web server: the floor is 3.10.11 or later."""
    assert _floor("aiohttp") >= (3, 10, 11)


def test_readme_links_work_on_a_package_index():
    """No relative link or in-page anchor (both break when the README is shown elsewhere)."""
    links = re.findall(r"\]\(([^)]+)\)", README)
    assert links
    assert [link for link in links if not link.startswith("https://")] == []


def test_readme_installs_from_source_until_a_release_exists():
    """`pip install argil-async` finds nothing (or another package): the README says so."""
    assert re.search(r"^pip install argil-async", README, re.MULTILINE) is None
    assert 'pip install ".[redis]"' in README
    assert "not on PyPI" in README


def _entry_points(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as archive:
        return next(
            archive.read(n).decode() for n in archive.namelist() if n.endswith("/entry_points.txt")
        )


@pytest.mark.slow
def test_the_built_wheel_carries_license_urls_and_classifiers(tmp_path: Path):
    """A wheel built from the checkout has the LICENSE, the metadata above and the pytest
    plugin's module (outside the package, so pytest starts without importing the SDK)."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("argil_async-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(archive.read(n).decode() for n in names if n.endswith("/METADATA"))
    assert any(name.endswith("LICENSE") for name in names)
    assert "_argil_pytest_plugin.py" in names  # the pytest11 entry point lives beside the package
    assert "argil = _argil_pytest_plugin" in _entry_points(wheel)
    assert "Classifier: Programming Language :: Python :: 3.13" in metadata
    assert "Project-URL: " in metadata
    assert "Requires-Dist: aiohttp>=3.10.11" in metadata

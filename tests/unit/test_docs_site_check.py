"""scripts/check_docs_site.py: CI's check that the built docs show no raw reStructuredText."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_docs_site.py"


def _check(site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(site)], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "leftover",
    [
        "<p>See :class:<code>Video</code> for the fields.</p>",
        "<p>Poll with :meth:`wait_until_done`.</p>",
        "<p>Example::</p>",
    ],
)
def test_a_leftover_role_or_literal_block_fails(tmp_path: Path, leftover: str):
    """A page showing a Sphinx role or a '::' literal-block marker makes the check fail."""
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "index.html").write_text(f"<html><body>{leftover}</body></html>")
    done = _check(tmp_path)
    assert done.returncode == 1
    assert "reference/index.html" in done.stdout


def test_rendered_markdown_and_code_pass(tmp_path: Path):
    """Links, code spans and '::' inside code blocks (IPv6, C++) are not leftovers."""
    page = (
        '<p>See <a class="autorefs" href="#argil_async.Video"><code>Video</code></a>:</p>'
        "<pre><code>host = '::1'  # Example::</code></pre>"
    )
    (tmp_path / "index.html").write_text(f"<html><body>{page}</body></html>")
    done = _check(tmp_path)
    assert done.returncode == 0, done.stdout
    assert "1 pages checked: 0 leftover" in done.stdout

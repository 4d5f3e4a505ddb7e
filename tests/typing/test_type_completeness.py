"""pyright --verifytypes: the public API's types are known to every checker, not inferred."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pyright")

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "type_completeness.py"


@pytest.mark.slow
def test_type_completeness_is_at_least_95_percent():
    """scripts/type_completeness.py (CI's step) passes: pyright scores the package >= 95%."""
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--min", "95"], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pyright --verifytypes argil_async: " in done.stdout

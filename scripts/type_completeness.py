"""Fail when ``pyright --verifytypes argil_async`` scores under a floor (95% by default).

    python scripts/type_completeness.py            # prints the score and what lowers it
    python scripts/type_completeness.py --min 100

pyright reads the package the way a user's type checker would (through ``py.typed``, from the
interpreter running this script, whose ``bin/`` goes first on PATH so pyright finds it) and
counts the public symbols whose type is known, not inferred ("ambiguous": an unannotated
instance attribute, say) or unknown. pyright is the ``pyright`` package of the ``dev`` extra;
it runs on the machine's ``node`` (or downloads one: give it ``node`` on PATH when offline).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--min", type=float, default=95.0, help="lowest passing score, percent")
    args = parser.parse_args()
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    command = [sys.executable, "-m", "pyright", "--verifytypes", "argil_async"]
    command += ["--ignoreexternal", "--outputjson"]
    # Run outside the checkout: the package must come from the environment, as for a user.
    with tempfile.TemporaryDirectory() as elsewhere:
        done = subprocess.run(command, capture_output=True, text=True, cwd=elsewhere, env=env)
    try:
        report = json.loads(done.stdout)
        completeness = report["typeCompleteness"]
    except (json.JSONDecodeError, KeyError):
        print(f"pyright did not report (exit {done.returncode}):\n{done.stdout}{done.stderr}")
        return 2
    score = 100 * float(completeness["completenessScore"])
    for diagnostic in report.get("generalDiagnostics", []):
        where = f"{diagnostic.get('file', '')}:{diagnostic.get('range', {}).get('start', {})}"
        print(f"{where}: {diagnostic.get('message', '')}")
    exported = completeness["exportedSymbolCounts"]
    print(
        f"pyright --verifytypes argil_async: {score:.1f}% "
        f"({exported['withKnownType']} exported symbols known, "
        f"{exported['withAmbiguousType']} ambiguous, {exported['withUnknownType']} unknown); "
        f"floor {args.min:g}%"
    )
    return 0 if score >= args.min else 1


if __name__ == "__main__":
    sys.exit(main())

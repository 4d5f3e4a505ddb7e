"""``python -m argil_async``: the same as the ``argil`` command."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())

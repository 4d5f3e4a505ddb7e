"""Fail when the built docs site shows raw reStructuredText instead of rendered Markdown.

    mkdocs build --strict -d site && python scripts/check_docs_site.py site

mkdocstrings renders docstrings as Markdown: a Sphinx role (``:class:`Video```, ``:meth:``...)
shows up as literal text, and a ``Example::`` literal block as a stray ``::``. Docstrings use
Markdown cross-references (``[`Video`][argil_async.Video]``, checked by ``mkdocs --strict``)
and fenced code blocks instead; this finds any leftover in the built HTML pages.
"""

from __future__ import annotations

import argparse
import html
import re
import sys
from pathlib import Path

ROLE = re.compile(r":(?:py:)?(?:class|meth|func|attr|data|mod|exc|obj|const|ref|term|doc):`?")
LITERAL_BLOCK = re.compile(r"\w::(?:\s|$)")
TAG = re.compile(r"<[^>]+>")
SKIPPED = re.compile(r"<(pre|script|style)\b.*?</\1>", re.S)  # code may hold "::" (C++, IPv6)


def leftovers(page: Path) -> list[str]:
    """Lines of the page's visible text (code blocks left out) holding a role or ``::``."""
    text = html.unescape(TAG.sub("", SKIPPED.sub("", page.read_text(encoding="utf-8"))))
    return [
        line.strip()
        for line in text.splitlines()
        if ROLE.search(line) or LITERAL_BLOCK.search(line)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("site", type=Path, help="the folder mkdocs built")
    site = parser.parse_args().site
    pages = sorted(site.rglob("*.html"))
    if not pages:
        print(f"no HTML pages under {site}")
        return 2
    found = 0
    for page in pages:
        for line in leftovers(page):
            found += 1
            print(f"{page.relative_to(site)}: {line[:160]}")
    print(f"{len(pages)} pages checked: {found} leftover Sphinx roles or '::' literal blocks")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

"""Fixtures of the CLI tests: the CLI pointed at a simulator, logger levels restored."""

from support.cli import restore_logging, use_sim  # noqa: F401  (fixtures)

"""`wakebench probe` (placeholder until its issue lands)."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options yet."""


def run(args: argparse.Namespace) -> int:
    """Not built yet."""
    print("wakebench probe: not built yet", file=sys.stderr)
    return 2

"""Writes ``--html`` and ``--trace`` outputs for ``simulate`` and ``timeline`` (one place that
reports an unwritable file as one line naming it)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from wakebench.trace import write_trace
from wakebench.web import write_html

__all__ = ["write_outputs"]


def write_outputs(records: Sequence[dict[str, Any]], *, html: str | None, trace: str | None, title: str,
                  until: float | None, command: str, quiet: bool = False) -> bool:
    """Write the requested files; False after printing ``wakebench CMD: cannot write F: why``."""
    for path, what in ((html, "timeline"), (trace, "trace")):
        if not path:
            continue
        try:
            if what == "timeline":
                write_html(records, path, title=title, until=until)
            else:
                write_trace(records, path, until=until)
        except OSError as exc:
            print(f"wakebench {command}: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
            return False
        if not quiet:
            print(f"{what} written to {path}")
    return True

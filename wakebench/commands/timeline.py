"""``wakebench timeline FILE [--html OUT] [--trace OUT]``: render a recording of ``run --record``.

Exit 0 when written, 2 when the recording is unreadable or invalid (one line naming file, line and
field) or an output cannot be written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wakebench.records import RecordError, load_records
from wakebench.timeline_export import write_outputs

EXIT_OK, EXIT_INVALID = 0, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``timeline``."""
    parser.add_argument("recording", metavar="FILE", help="JSONL recording written by `wakebench run --record`")
    parser.add_argument("--html", metavar="OUT", help="interactive timeline (default: FILE with .html)")
    parser.add_argument("--trace", metavar="OUT", help="Chrome Trace Event / Perfetto JSON")


def run(args: argparse.Namespace) -> int:
    """Load the recording, write the outputs."""
    try:
        records = load_records(args.recording)
    except RecordError as exc:
        print(f"wakebench timeline: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except OSError as exc:
        print(f"wakebench timeline: cannot read {args.recording}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_INVALID
    records.sort(key=lambda r: float(r["t"]))  # stable: equal times keep their recorded order
    html = args.html
    if html is None and args.trace is None:
        html = str(Path(args.recording).with_suffix(".html"))
    ok = write_outputs(records, html=html, trace=args.trace, title=Path(args.recording).name,
                       until=None, command="timeline")
    return EXIT_OK if ok else EXIT_INVALID

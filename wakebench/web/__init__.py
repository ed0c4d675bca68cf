"""The timeline renderer's static files (``timeline.js``, ``timeline.css``, ``timeline.html``) and
:func:`write_html`, which inlines them with the data into ONE self-contained file (no network, no
build step). The live web view serves the same ``timeline.js`` as an ES module.

The data sits in the page as gzipped JSON in base64 (``<script id="wb-data">``; unpacked with the
browser's own ``DecompressionStream``): Chromium's HTML parser scans a 14-day, 100-app page of
15 MB JSON in over a second, the packed 1.x MB in a few milliseconds (bench/bench_web.py).
Unpack by hand: ``base64 -d | gunzip``."""

from __future__ import annotations

import base64
import gzip
import json
import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Final

from wakebench.runs import ENDING_VERBS

__all__ = ["compact", "render_html", "static_text", "write_html"]

_EXPORT = re.compile(r"^export (?=(const|class|function) )", re.MULTILINE)


def static_text(name: str) -> str:
    """One shipped static file (``timeline.js`` ...) as text."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _inline_js() -> str:
    # The module's `export` keywords dropped, wrapped in a function: a classic script that works
    # from file:// (ES module imports are blocked there) and sets globalThis.WakebenchTimeline.
    return "(() => {\n\"use strict\";\n" + _EXPORT.sub("", static_text("timeline.js")) + "\n})();"


def _safe(text: str) -> str:
    # nothing inside a <script> element may close it
    return text.replace("</", "<\\/")


#: What a signals record keeps in the page: what the lanes and the hover show.
PAGE_SIGNALS: Final[tuple[str, ...]] = ("kind", "t", "battery_level", "charger", "charging", "network",
                                        "screen_locked", "idle", "on_call", "low_power_mode", "battery_saver",
                                        "metered", "stale")


def compact(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``records`` without what the page never shows, so that it loads fast: an event's ``signals``
    snapshot (the page looks it up in the signals records, which hold the same snapshot at the
    same ``t``), ``ts``, null fields and every ``platform`` after an app's first; signals the
    page has no lane for; responses that end no task. A 14-day, 100-app run: 39 → 9 MB of JSON."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for rec in records:
        kind = rec.get("kind")
        if kind == "event":
            app = str(rec.get("app"))
            drop = ("signals", "ts", "platform") if app in seen else ("signals", "ts")
            seen.add(app)
            out.append({k: v for k, v in rec.items() if k not in drop and v is not None})
        elif kind == "signals":
            out.append({k: rec[k] for k in PAGE_SIGNALS if k in rec and rec[k] not in (None, [])})
        elif kind == "response":
            if rec.get("status") == "ok" and rec.get("verb") in ENDING_VERBS:
                out.append({k: rec.get(k) for k in ("kind", "t", "app", "verb", "status", "args", "data")})
        else:
            out.append(rec)
    return out


def render_html(records: Sequence[dict[str, Any]], *, title: str, until: float | None = None) -> str:
    """The self-contained page for ``records`` (see :mod:`wakebench.records`)."""
    data = json.dumps({"title": title, "until": until, "records": compact(records)}, separators=(",", ":"),
                      default=str)
    packed = base64.b64encode(gzip.compress(data.encode("utf-8"), compresslevel=6, mtime=0)).decode("ascii")
    page = static_text("timeline.html")
    escaped_title = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    parts = {"title": escaped_title, "css": static_text("timeline.css"), "data": packed,
             "js": _safe(_inline_js())}
    return re.sub(r"\{\{(title|css|data|js)\}\}", lambda m: parts[m.group(1)], page)


def write_html(records: Sequence[dict[str, Any]], path: str | Path, *, title: str,
               until: float | None = None) -> None:
    """Write :func:`render_html` to ``path``.

    Raises:
        OSError: the file cannot be written.
    """
    Path(path).write_text(render_html(records, title=title, until=until), encoding="utf-8")
